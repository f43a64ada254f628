/**
 * The run journal: append-only NDJSON. Line 1 is a header with the run's identity (kind and a
 * hash of the spec); every further line is one per-item result. Lines are buffered and written
 * in batches; the file is fsynced at most every `fsyncIntervalMs` and on close, so a crash loses
 * at most the last interval (those items are redone by a resumed run, which is safe: updates
 * are version-guarded and diffed). A kill -9 mid-write leaves a torn last line: readers skip it
 * and a resumed journal starts on a fresh line.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ConfigError, InvalidArgumentError } from '../errors.js';
import { validateShadowName, validateThingName } from '../shadow/validation.js';
import { isItemOutcome } from './item-outcome.js';
import { itemKey, type ItemResult, type TaskKind } from './task-types.js';

export interface JournalHeader {
  journal: 'shadowfleet';
  version: 1;
  kind: TaskKind;
  /** Identity of the run's spec: a resume with another spec is refused. */
  specHash: string;
  startedAt: string;
}

export interface JournalOptions {
  kind: TaskKind;
  /** The spec (any JSON value) or its hash (a string starting with `sha256:`). */
  spec: unknown;
  /** Append to an existing journal of the same spec; refused when its spec differs. */
  resume?: boolean;
  /** Write buffered lines at least this often, ms. Default 200. */
  flushIntervalMs?: number;
  /** Write when this many bytes are buffered. Default 256 KiB. */
  flushBytes?: number;
  /** fsync at most this often, ms (and always on close). Default 1000. */
  fsyncIntervalMs?: number;
  /**
   * Called once, as soon as a write fails (disk full, file too large, I/O error), so the run can
   * stop at once instead of at its next append. Every later append and flush throws the same error.
   */
  onError?: (err: ConfigError) => void;
}

type JournalTuning = Required<Omit<JournalOptions, 'kind' | 'spec' | 'onError'>> & Pick<JournalOptions, 'onError'>;

export const DEFAULT_JOURNAL_OPTIONS = Object.freeze({
  resume: false,
  flushIntervalMs: 200,
  flushBytes: 256 * 1024,
  fsyncIntervalMs: 1000,
});

/** A stable hash of a JSON value (object keys sorted). */
export function specHash(spec: unknown): string {
  if (typeof spec === 'string' && spec.startsWith('sha256:')) return spec;
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(canonical(spec)) ?? 'undefined')
    .digest('hex')}`;
}

export interface JournalContents {
  header: JournalHeader | undefined;
  /** Lines that were not valid JSON (a torn last line, normally 0 or 1). */
  torn: number;
}

/**
 * Reads a journal line by line (never whole): calls `onResult` for each result line, in order.
 * A later line for the same key supersedes an earlier one.
 */
/** Why a parsed journal line is not a result entry, or undefined when it is one. */
function badEntry(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const r = v as Partial<ItemResult>;
  const name = validateThingName(r.thingName);
  if (name !== undefined) return `bad thingName ${JSON.stringify(r.thingName)}: ${name}`;
  if (r.shadowName !== undefined) {
    const shadow = validateShadowName(r.shadowName);
    if (shadow !== undefined) return `bad shadowName ${JSON.stringify(r.shadowName)}: ${shadow}`;
  }
  if (!isItemOutcome(r.outcome)) return `unknown outcome ${JSON.stringify(r.outcome)}`;
  return undefined;
}

export async function readJournal(path: string, onResult: (r: ItemResult) => void): Promise<JournalContents> {
  const rl = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let header: JournalHeader | undefined;
  let torn = 0;
  let first = true;
  let lineNo = 0;
  for await (const line of rl) {
    lineNo += 1;
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      // A line cut short by a kill -9 (a resumed run goes on after it on a fresh line).
      torn += 1;
      continue;
    }
    if (first) {
      first = false;
      if ((v as JournalHeader).journal === 'shadowfleet') {
        header = v as JournalHeader;
        continue;
      }
    }
    // Every line is checked: an entry that is not one this tool writes is never trusted.
    const bad = badEntry(v);
    if (bad !== undefined)
      throw new ConfigError(`${path}:${lineNo}: ${bad}; the journal is damaged or not a shadowfleet journal`);
    onResult(v as ItemResult);
  }
  return { header, torn };
}

/**
 * The keys (thing, or thing/shadow) whose last journal line is a finished outcome. `failed`
 * items are not finished by default, so a resumed run retries them.
 */
export async function loadCompleted(
  journalPath: string,
  options: { retryFailed?: boolean } = {},
): Promise<Set<string>> {
  const retryFailed = options.retryFailed ?? true;
  const done = new Set<string>();
  await readJournal(journalPath, (r) => {
    const key = itemKey(r);
    if (retryFailed && r.outcome === 'failed') done.delete(key);
    else done.add(key);
  });
  return done;
}

export class Journal {
  readonly path: string;
  readonly header: JournalHeader;
  #fh: FileHandle;
  #buffer: string[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #lastSync = Date.now();
  #error: unknown;
  #closed = false;
  #o: JournalTuning;
  #lines = 0;

  private constructor(path: string, fh: FileHandle, header: JournalHeader, o: JournalTuning) {
    this.path = path;
    this.#fh = fh;
    this.header = header;
    this.#o = o;
  }

  /** Opens a new journal (truncating) or, with `resume`, appends to one of the same spec. */
  static async open(path: string, options: JournalOptions): Promise<Journal> {
    if (typeof path !== 'string' || path === '')
      throw new InvalidArgumentError('journal path must be a non-empty string');
    const o = { ...DEFAULT_JOURNAL_OPTIONS, ...options };
    for (const k of ['flushIntervalMs', 'flushBytes', 'fsyncIntervalMs'] as const) {
      if (typeof o[k] !== 'number' || !(o[k] >= 0))
        throw new InvalidArgumentError(`journal ${k} must be a non-negative number, got ${JSON.stringify(o[k])}`);
    }
    const hash = specHash(options.spec);
    let header: JournalHeader = {
      journal: 'shadowfleet',
      version: 1,
      kind: options.kind,
      specHash: hash,
      startedAt: new Date().toISOString(),
    };
    let append = false;
    if (o.resume) {
      const exists = await stat(path).then(
        (s) => s.size > 0,
        () => false,
      );
      if (exists) {
        const { header: old } = await readJournal(path, () => undefined);
        if (old === undefined)
          throw new ConfigError(`${path}: not a shadowfleet journal (no header line); cannot resume`);
        if (old.specHash !== hash || old.kind !== options.kind) {
          throw new ConfigError(
            `${path}: the journal was written for another ${old.kind === options.kind ? 'spec' : `kind (${old.kind})`} (${old.specHash}); --resume needs the same spec (${hash})`,
          );
        }
        header = old;
        append = true;
      }
    }
    let fh: FileHandle;
    try {
      fh = await open(path, append ? 'a' : 'w');
    } catch (err) {
      throw new ConfigError(`${path}: cannot open the journal (${errorCode(err)})`, { cause: err });
    }
    const tuning: JournalTuning = {
      resume: o.resume,
      flushIntervalMs: o.flushIntervalMs,
      flushBytes: o.flushBytes,
      fsyncIntervalMs: o.fsyncIntervalMs,
    };
    if (options.onError !== undefined) tuning.onError = options.onError;
    const j = new Journal(path, fh, header, tuning);
    // A resumed journal may end in a torn line: start ours on a fresh line (readers skip blanks).
    try {
      await writeAll(fh, append ? '\n' : `${JSON.stringify(header)}\n`);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      throw new ConfigError(`${path}: cannot write the journal (${errorCode(err)}); nothing was run`, { cause: err });
    }
    return j;
  }

  /** Result lines appended by this instance. */
  get lines(): number {
    return this.#lines;
  }

  /** Buffers one result; written within flushIntervalMs. Throws a previous write error. */
  append(result: ItemResult): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#closed) throw new ConfigError(`${this.path}: the journal is closed`);
    const line = `${JSON.stringify(result)}\n`;
    this.#buffer.push(line);
    this.#bytes += line.length;
    this.#lines += 1;
    if (this.#bytes >= this.#o.flushBytes) void this.#flush(false);
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.#flush(false), this.#o.flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Writes everything buffered and fsyncs. */
  async flush(): Promise<void> {
    await this.#flush(true);
    if (this.#error !== undefined) throw this.#error;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush().finally(async () => {
      this.#closed = true;
      await this.#fh.close();
    });
  }

  #flush(sync: boolean): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const chunk = this.#buffer.join('');
    this.#buffer = [];
    this.#bytes = 0;
    this.#writing = this.#writing.then(async () => {
      if (this.#error !== undefined) return;
      try {
        if (chunk !== '') await writeAll(this.#fh, chunk);
        const now = Date.now();
        if (sync || now - this.#lastSync >= this.#o.fsyncIntervalMs) {
          this.#lastSync = now;
          await this.#fh.sync();
        }
      } catch (err) {
        const failure = new ConfigError(
          `${this.path}: journal write failed (${errorCode(err)}): the run stops after the work in flight. Every result before the failure is in the journal; make room, then run the same command with --resume (things already changed are read again and skipped)`,
          { cause: err },
        );
        this.#error = failure;
        try {
          this.#o.onError?.(failure);
        } catch {
          // the error is still thrown by the next append or flush
        }
      }
    });
    return this.#writing;
  }
}

/**
 * Writes all of `text`: a file system that is nearly full (or a file-size limit) accepts part of
 * a write without an error, and only the next write fails; a short write is never taken for a
 * whole one, so the journal ends in at most one torn line, which readers skip.
 */
async function writeAll(fh: FileHandle, text: string): Promise<void> {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length; ) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten <= 0) throw Object.assign(new Error('the file system accepted no bytes'), { code: 'EIO' });
    off += bytesWritten;
  }
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}
