import { constants, createWriteStream, type WriteStream } from 'node:fs';
import {
  access,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  statfs,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { ConfigError, InvalidArgumentError, SnapshotError } from '../errors.js';
import { checkDestinationDir } from '../io/check-destination.js';
import { SNAPSHOT_DATA_FILE, SNAPSHOT_MANIFEST_FILE, type SnapshotManifest } from './snapshot-format.js';
import type { SnapshotSink } from './snapshot-sink.js';

export interface LocalSinkOptions {
  /** The snapshot directory; created when missing. */
  dir: string;
  /** The destination as the user wrote it, for messages. Default: `dir`. */
  location?: string;
  /** check() fails when the file system has less free space than this. Default 16 MiB. */
  minFreeBytes?: number;
  /**
   * Replace a snapshot already in `dir`. The old snapshot stays whole until the new one is
   * complete: the new data goes to a file of its own and the new manifest replaces the old one
   * in one rename; only then is the old data file removed. Default false.
   */
  overwrite?: boolean;
}

export const DEFAULT_LOCAL_SINK_OPTIONS = Object.freeze({ minFreeBytes: 16 * 1024 * 1024, overwrite: false });

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC') return 'no space left on device (ENOSPC)';
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return `permission denied (${e.code})`;
  if (e?.code === 'EROFS') return 'read-only file system (EROFS)';
  return e?.message ?? String(err);
}

/** Data files a snapshot directory may hold: `shadows.jsonl.gz`, or `shadows-<hex>.jsonl.gz` after an overwrite. */
const DATA_FILE_RE = /^shadows(-[0-9a-f]+)?\.jsonl\.gz$/;
/** Temporary files of a writer: `<name>.<pid>.partial`. */
const PARTIAL_RE = /\.(\d+)\.partial$/;

/**
 * A snapshot in a local directory. The data goes to a temporary name in the same directory
 * (`.shadows.jsonl.gz.<pid>.partial`), is fsynced and renamed; then the manifest goes the same
 * way, last, and the directory is fsynced. No half-written file ever carries a final name,
 * and a failure (ENOSPC included) removes the temporary file; temporary files left by a
 * process that no longer runs (kill -9) are removed by the next run's check().
 */
export class LocalSink implements SnapshotSink {
  readonly location: string;
  readonly warnings: string[] = [];
  #dir: string;
  #minFreeBytes: number;
  #overwrite: boolean;
  #dataFile: string = SNAPSHOT_DATA_FILE;
  #oldDataFile: string | undefined;
  #tmpData: string;
  #stream: WriteStream | undefined;
  #done = false;
  #renamed = false;

  constructor(options: LocalSinkOptions) {
    if (typeof options?.dir !== 'string' || options.dir === '')
      throw new InvalidArgumentError('LocalSinkOptions.dir must be a directory path');
    const minFree = options.minFreeBytes ?? DEFAULT_LOCAL_SINK_OPTIONS.minFreeBytes;
    if (!Number.isFinite(minFree) || minFree < 0)
      throw new InvalidArgumentError('LocalSinkOptions.minFreeBytes must be a number >= 0');
    this.#dir = options.dir;
    this.location = options.location ?? options.dir;
    this.#minFreeBytes = minFree;
    this.#overwrite = options.overwrite ?? DEFAULT_LOCAL_SINK_OPTIONS.overwrite;
    this.#tmpData = join(this.#dir, `.${SNAPSHOT_DATA_FILE}.${process.pid}.partial`);
  }

  /** The temporary data file name (exposed for tests and for cleaning up after a crash). */
  get partialPath(): string {
    return this.#tmpData;
  }

  /** The data file name the manifest will name (known after open()). */
  get dataFile(): string {
    return this.#dataFile;
  }

  async check(): Promise<void> {
    const where = `snapshot destination ${this.location}`;
    // A refused destination is left as it was found: directories made here are removed again.
    let created: string | undefined;
    // Before any mkdir: a recursive mkdir under /proc never returns.
    await checkDestinationDir(this.#dir, 'snapshot destination');
    try {
      created = await mkdir(this.#dir, { recursive: true });
      await this.#checkWritable(where);
      const fs = await statfs(this.#dir);
      const free = Number(fs.bavail) * Number(fs.bsize);
      if (free < this.#minFreeBytes)
        throw new ConfigError(`${where} has ${free} bytes free, less than the ${this.#minFreeBytes} required`);
      await this.#removeStalePartials();
    } catch (err) {
      if (created !== undefined) await rm(created, { recursive: true, force: true }).catch(() => undefined);
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`${where} is not writable: ${describe(err)}`, { cause: err });
    }
  }

  async #checkWritable(where: string): Promise<void> {
    const st = await stat(this.#dir);
    if (!st.isDirectory()) throw new ConfigError(`${where} is not a directory`);
    await access(this.#dir, constants.W_OK);
    const manifest = join(this.#dir, SNAPSHOT_MANIFEST_FILE);
    if (!this.#overwrite && (await exists(manifest))) {
      throw new ConfigError(
        `${where} already holds a snapshot (${SNAPSHOT_MANIFEST_FILE}); choose a new directory or overwrite it`,
      );
    }
    // access() trusts mode bits; a real write proves the directory takes files.
    const probe = join(this.#dir, `.shadowfleet-write-check-${randomBytes(6).toString('hex')}`);
    try {
      const fh = await open(probe, 'wx');
      try {
        await fh.write('ok');
        await fh.sync();
      } finally {
        await fh.close();
      }
    } finally {
      await rm(probe, { force: true }).catch(() => undefined);
    }
  }

  /** Removes `*.<pid>.partial` files whose writing process is gone (a run killed with -9). */
  async #removeStalePartials(): Promise<void> {
    for (const name of await readdir(this.#dir)) {
      const m = PARTIAL_RE.exec(name);
      if (m === null || !(name.startsWith('.shadows') || name.startsWith(SNAPSHOT_MANIFEST_FILE))) continue;
      if (Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
      await unlink(join(this.#dir, name)).catch(() => undefined);
      this.warnings.push(`removed ${name}, left by an earlier run that did not finish`);
    }
  }

  /** With overwrite: the data file the current manifest names, so the new data goes beside it, never over it. */
  async #currentDataFile(): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, SNAPSHOT_MANIFEST_FILE), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const file = (JSON.parse(text) as { data?: { file?: unknown } })?.data?.file;
      return typeof file === 'string' && DATA_FILE_RE.test(file) ? file : SNAPSHOT_DATA_FILE;
    } catch {
      return SNAPSHOT_DATA_FILE;
    }
  }

  async open(): Promise<Writable> {
    await checkDestinationDir(this.#dir, 'snapshot destination');
    await mkdir(this.#dir, { recursive: true });
    if (this.#overwrite) {
      this.#oldDataFile = await this.#currentDataFile();
      if (this.#oldDataFile === SNAPSHOT_DATA_FILE) {
        this.#dataFile = `shadows-${randomBytes(6).toString('hex')}.jsonl.gz`;
        this.#tmpData = join(this.#dir, `.${this.#dataFile}.${process.pid}.partial`);
      }
    }
    // flush: the descriptor is fsynced before it is closed; the stream's 'close' (which the
    // writer's pipeline waits for) therefore means "on disk".
    const stream = createWriteStream(this.#tmpData, { flags: 'w', flush: true });
    try {
      await new Promise<void>((resolve, reject) => {
        stream.once('ready', () => resolve());
        stream.once('error', reject);
      });
    } catch (err) {
      throw new SnapshotError(`cannot write ${this.#tmpData}: ${describe(err)}`, { cause: err });
    }
    this.#stream = stream;
    return stream;
  }

  async commit(manifest: SnapshotManifest): Promise<void> {
    const stream = this.#stream;
    if (!stream) throw new SnapshotError('LocalSink.commit() called before open()');
    try {
      if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
      if (stream.errored) throw stream.errored;
      await rename(this.#tmpData, join(this.#dir, this.#dataFile));
      this.#renamed = true;
      const final = { ...manifest, data: { ...manifest.data, file: this.#dataFile } };
      // The commit point: one rename puts the new manifest over the old one.
      await writeDurably(join(this.#dir, SNAPSHOT_MANIFEST_FILE), `${JSON.stringify(final, null, 2)}\n`);
      await syncDir(this.#dir);
      this.#done = true;
    } catch (err) {
      await this.abort(err);
      throw new SnapshotError(`cannot commit the snapshot in ${this.location}: ${describe(err)}`, { cause: err });
    }
    await this.#removeOldData();
  }

  /** After an overwrite: removes data files no manifest names (the replaced one, and any a killed run left). */
  async #removeOldData(): Promise<void> {
    if (!this.#overwrite) return;
    for (const name of await readdir(this.#dir).catch(() => [] as string[])) {
      if (name === this.#dataFile || !DATA_FILE_RE.test(name)) continue;
      await unlink(join(this.#dir, name)).catch((err: unknown) => {
        this.warnings.push(`could not remove the replaced data file ${name}: ${describe(err)}`);
      });
    }
  }

  async abort(_reason?: unknown): Promise<void> {
    if (this.#done) return;
    const stream = this.#stream;
    if (stream && !stream.closed) {
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      stream.destroy();
      await closed;
    }
    await unlink(this.#tmpData).catch(() => undefined);
    // Data without a manifest is not a snapshot, but do not leave it looking like one either.
    // (With overwrite the new data has a name of its own, so the old snapshot is untouched.)
    if (this.#renamed) await unlink(join(this.#dir, this.#dataFile)).catch(() => undefined);
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

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes to `<path>.<pid>.partial`, fsyncs, renames. */
async function writeDurably(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.partial`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the renames are still in order.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
