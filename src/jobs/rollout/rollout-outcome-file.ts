/**
 * The per-thing outcome file of a rollout (NDJSON, one `outcomeLine` per thing), opened before
 * the first target is read so an unwritable path fails before any write. It is written under a
 * temporary name beside the report and renamed into place by end(): a run refused before it
 * wrote anything calls abort() and an existing report stays exactly as it was.
 */
import { ConfigError, SnapshotError } from '../../errors.js';
import type { ItemResult } from '../../engine/task-types.js';
import { AtomicFileWriter } from '../../io/atomic-file-writer.js';
import { outcomeLine } from './rollout-report.js';

export class RolloutOutcomeFile {
  #out: AtomicFileWriter | undefined;
  #file: string | undefined;

  /** Opens a temporary file beside `file`; no file when `file` is undefined. */
  static async open(file: string | undefined): Promise<RolloutOutcomeFile> {
    const f = new RolloutOutcomeFile();
    if (file === undefined) return f;
    try {
      f.#out = await AtomicFileWriter.open(file);
    } catch (err) {
      throw new ConfigError(
        `${file}: cannot write the report (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        { cause: err },
      );
    }
    f.#file = file;
    return f;
  }

  write(r: ItemResult): void {
    this.#out?.write(JSON.stringify(outcomeLine(r)) + '\n');
  }

  /** Flushes and renames the file into place; a write error (a full disk) is thrown. Safe to call twice. */
  async end(): Promise<void> {
    const out = this.#out;
    this.#out = undefined;
    if (out === undefined) return;
    try {
      await out.commit();
    } catch (err) {
      throw new SnapshotError(
        `${this.#file}: cannot write the report (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        { cause: err },
      );
    }
  }

  /** Drops what was written: the file that was at the report path stays as it was. Safe to call twice. */
  async abort(): Promise<void> {
    const out = this.#out;
    this.#out = undefined;
    await out?.abort();
  }
}
