import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { Transform, pipeline, type Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { InvalidArgumentError, SnapshotError } from '../errors.js';
import type { SnapshotManifest } from './snapshot-format.js';
import type { SnapshotSink } from './snapshot-sink.js';

export interface SnapshotWriterOptions {
  /** gzip level 1-9. Default 6. Compression runs on libuv's thread pool, off the main thread. */
  gzipLevel?: number;
}

export const DEFAULT_SNAPSHOT_WRITER_OPTIONS = Object.freeze({ gzipLevel: 6 });

/** What the writer measured of the stored (compressed) data. */
export interface WrittenData {
  bytes: number;
  sha256: string;
  /** Uncompressed bytes of JSON lines. */
  rawBytes: number;
}

/**
 * Streams JSON lines through gzip into a sink's data stream, counting and hashing the
 * compressed bytes on the way (the manifest's size and SHA-256). `write()` resolves once the
 * text is buffered below the streams' high-water marks, so a fast producer waits for a slow
 * destination (constant memory).
 */
export class SnapshotWriter {
  readonly sink: SnapshotSink;
  #level: number;
  #gzip: Gzip | undefined;
  #hash: Hash = createHash('sha256');
  #bytes = 0;
  #rawBytes = 0;
  #failed: unknown;
  #finished: Promise<void> | undefined;
  #state: 'new' | 'open' | 'finishing' | 'done' | 'aborted' = 'new';

  constructor(sink: SnapshotSink, options: SnapshotWriterOptions = {}) {
    const level = options.gzipLevel ?? DEFAULT_SNAPSHOT_WRITER_OPTIONS.gzipLevel;
    if (!Number.isInteger(level) || level < 1 || level > 9)
      throw new InvalidArgumentError('SnapshotWriterOptions.gzipLevel must be an integer from 1 to 9');
    this.sink = sink;
    this.#level = level;
  }

  get rawBytes(): number {
    return this.#rawBytes;
  }

  async open(): Promise<void> {
    if (this.#state !== 'new') throw new SnapshotError('SnapshotWriter.open() called twice');
    const out: Writable = await this.sink.open();
    const gzip = createGzip({ level: this.#level });
    const tap = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.#hash.update(chunk);
        this.#bytes += chunk.length;
        cb(null, chunk);
      },
    });
    this.#gzip = gzip;
    this.#finished = new Promise<void>((resolve, reject) => {
      pipeline(gzip, tap, out, (err) => {
        if (err) {
          this.#failed ??= err;
          reject(err);
        } else resolve();
      });
    });
    this.#finished.catch(() => undefined);
    this.#state = 'open';
  }

  /** Appends text (whole JSON lines). Rejects once the destination failed. */
  async write(text: string): Promise<void> {
    if (this.#failed !== undefined) throw this.#wrap(this.#failed);
    const gzip = this.#gzip;
    if (!gzip || this.#state !== 'open') throw new SnapshotError('SnapshotWriter.write() outside open()..finish()');
    if (text.length === 0) return;
    this.#rawBytes += Buffer.byteLength(text);
    if (!gzip.write(text)) {
      try {
        await Promise.race([once(gzip, 'drain'), this.#finished]);
      } catch (err) {
        this.#failed ??= err;
      }
      if (this.#failed !== undefined) throw this.#wrap(this.#failed);
    }
  }

  /** Ends the data stream and waits for the destination to have every byte. */
  async finish(): Promise<WrittenData> {
    if (this.#state !== 'open' || !this.#gzip) throw new SnapshotError('SnapshotWriter.finish() outside open()');
    this.#state = 'finishing';
    this.#gzip.end();
    try {
      await this.#finished;
    } catch (err) {
      throw this.#wrap(err);
    }
    this.#state = 'done';
    return { bytes: this.#bytes, sha256: this.#hash.digest('hex'), rawBytes: this.#rawBytes };
  }

  /** finish(), then the sink's commit (manifest last). The manifest's data size and hash are filled in. */
  async commit(manifest: SnapshotManifest): Promise<SnapshotManifest> {
    const data = await this.finish();
    const file = this.sink.dataFile ?? manifest.data.file;
    const final: SnapshotManifest = {
      ...manifest,
      data: { ...manifest.data, file, bytes: data.bytes, sha256: data.sha256 },
    };
    await this.sink.commit(final);
    return final;
  }

  async abort(reason?: unknown): Promise<void> {
    if (this.#state === 'aborted') return;
    this.#state = 'aborted';
    this.#failed ??= reason ?? new SnapshotError('snapshot aborted');
    this.#gzip?.destroy();
    await this.sink.abort(reason);
  }

  #wrap(err: unknown): Error {
    if (err instanceof SnapshotError) return err;
    const e = err as NodeJS.ErrnoException;
    const why = e?.code === 'ENOSPC' ? 'no space left on device (ENOSPC)' : (e?.message ?? String(err));
    return new SnapshotError(`writing the snapshot to ${this.sink.location} failed: ${why}`, { cause: err });
  }
}
