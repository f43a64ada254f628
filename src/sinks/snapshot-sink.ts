/**
 * Where a snapshot goes. Every destination follows the same protocol:
 *
 *   check()  before the fleet is read: fails (ConfigError) when the destination cannot be
 *            written, so an unwritable destination costs no read of the fleet;
 *   open()   the byte stream of the data file (already compressed by SnapshotWriter);
 *   commit() once that stream has finished: makes the data final, then writes the manifest,
 *            LAST; a destination without a manifest is not a snapshot;
 *   abort()  on any failure: removes what was written, never leaves a manifest.
 */
import type { Writable } from 'node:stream';
import type { SnapshotManifest } from './snapshot-format.js';

export interface SnapshotSink {
  /** The destination as the user wrote it (for messages). */
  readonly location: string;
  /** Non-fatal problems met on the way (e.g. a multipart upload that could not be aborted). */
  readonly warnings: readonly string[];
  /** The data file's name as the committed manifest names it (a replacing snapshot writes beside the old data). */
  readonly dataFile?: string;
  check(): Promise<void>;
  open(): Promise<Writable>;
  commit(manifest: SnapshotManifest): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}
