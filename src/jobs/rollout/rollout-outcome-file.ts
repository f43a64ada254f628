/**
 * The per-thing outcome file of a rollout (NDJSON, one `outcomeLine` per thing), opened before
 * the first target is read so an unwritable path fails before any write.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { ConfigError } from '../../errors.js';
import type { ItemResult } from '../../engine/task-types.js';
import { outcomeLine } from './rollout-report.js';

export class RolloutOutcomeFile {
  #out: WriteStream | undefined;

  /** Opens `file` for writing (truncates); no file when `file` is undefined. */
  static async open(file: string | undefined): Promise<RolloutOutcomeFile> {
    const f = new RolloutOutcomeFile();
    if (file === undefined) return f;
    const out = createWriteStream(file, { flags: 'w' });
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', (err: NodeJS.ErrnoException) => reject(new ConfigError(`${file}: cannot write the report (${err.code ?? err.message})`, { cause: err })));
    });
    f.#out = out;
    return f;
  }

  write(r: ItemResult): void {
    this.#out?.write(JSON.stringify(outcomeLine(r)) + '\n');
  }

  /** Flushes and closes the file; safe to call twice. */
  end(): Promise<void> {
    const out = this.#out;
    this.#out = undefined;
    if (out === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => out.end(resolve));
  }
}
