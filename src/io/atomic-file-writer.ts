import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { partialPathOf } from './write-file-atomic.js';

/**
 * A file written line by line under a temporary name and renamed into place by commit(): a run
 * that is refused or fails before commit leaves the file that was there untouched; abort()
 * removes the temporary file. Writes are appended in order; the first write error is kept and
 * thrown by commit() (a report that could not be written is an error, never a silent "done").
 */
export class AtomicFileWriter {
  readonly path: string;
  readonly partialPath: string;
  #fh: FileHandle;
  #chain: Promise<void> = Promise.resolve();
  #error: unknown;
  #pending = '';
  #state: 'open' | 'committed' | 'aborted' = 'open';

  private constructor(path: string, fh: FileHandle) {
    this.path = path;
    this.partialPath = partialPathOf(path);
    this.#fh = fh;
  }

  static async open(path: string): Promise<AtomicFileWriter> {
    const target = resolve(path);
    await removeStalePartials(target);
    const fh = await open(partialPathOf(target), 'w');
    return new AtomicFileWriter(target, fh);
  }

  /** The first write error, if any. */
  get error(): unknown {
    return this.#error;
  }

  /** Appends text; bytes are batched (64 KiB) and written in order; any error surfaces in flush() / commit(). */
  write(text: string): void {
    if (this.#state !== 'open' || this.#error !== undefined) return;
    this.#pending += text;
    if (this.#pending.length >= 65_536) this.#drain();
  }

  #drain(): void {
    if (this.#pending === '') return;
    const text = this.#pending;
    this.#pending = '';
    this.#chain = this.#chain.then(async () => {
      if (this.#error !== undefined) return;
      try {
        await this.#fh.writeFile(text);
      } catch (err) {
        this.#error = err;
      }
    });
  }

  /** Writes what is batched and waits for it; throws the first write error. */
  async flush(): Promise<void> {
    this.#drain();
    await this.#chain;
    if (this.#error !== undefined) throw this.#error;
  }

  /** Flushes, fsyncs and renames into place. On error the temporary file is removed and the error thrown. */
  async commit(): Promise<void> {
    if (this.#state !== 'open') return;
    try {
      await this.flush();
      await this.#fh.sync();
      await this.#fh.close();
      this.#state = 'committed';
      await rename(this.partialPath, this.path);
    } catch (err) {
      this.#state = 'committed';
      await this.#fh.close().catch(() => undefined);
      await unlink(this.partialPath).catch(() => undefined);
      throw err;
    }
  }

  /** Drops everything written; the file at `path` is left as it was. */
  async abort(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    await this.#chain.catch(() => undefined);
    await this.#fh.close().catch(() => undefined);
    await unlink(this.partialPath).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `.<name>.<pid>.partial` files beside `target` left by a process that no longer runs (kill -9). */
async function removeStalePartials(target: string): Promise<void> {
  const prefix = `.${basename(target)}.`;
  const dir = dirname(target);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix) || !name.endsWith('.partial')) continue;
    const pid = Number(name.slice(prefix.length, -'.partial'.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    await unlink(join(dir, name)).catch(() => undefined);
  }
}
