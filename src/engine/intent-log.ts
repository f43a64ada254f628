/**
 * The write-ahead side of a rollout's journal: before a worker sends a write, it appends the
 * write's undo record (the before-image and the update document) to `<journal>.intents`, in one
 * synchronous append. The journal gets a thing's result only after its batch returns, and a
 * kill -9 loses what is in flight or buffered; the intents survive (the page cache outlives the
 * process), so a rollback of a crashed run knows every write that may have landed. A write that
 * never landed is harmless to undo: the rollback finds the keys at their previous values and
 * sends nothing for them.
 *
 * One line per intent: `{"key","thingName","shadowName"?,"undoJson"}`, the undo record as JSON
 * text (stringifyJson: numbers a double cannot hold keep their digits). Each thread
 * opens the file once (O_APPEND); a line is one write(2), so lines of several threads never mix.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ConfigError } from '../errors.js';
import { parseJson, stringifyJson } from '../shadow/json-text.js';
import { itemKey } from './task-types.js';

export interface WriteIntent {
  key: string;
  thingName: string;
  shadowName?: string;
  /** The UndoRecord as JSON text. */
  undoJson: string;
}

/** The intent file that belongs to a journal. */
export function intentLogPath(journal: string): string {
  return `${journal}.intents`;
}

/** Appends intents to one file, synchronously (an intent is on disk before the write it announces is sent). */
export class IntentLog {
  readonly path: string;
  #fd: number | undefined;

  constructor(path: string) {
    this.path = path;
  }

  append(target: { thingName: string; shadowName?: string | undefined }, undoJson: string): void {
    if (this.#fd === undefined) {
      try {
        this.#fd = openSync(this.path, 'a');
      } catch (err) {
        throw new ConfigError(
          `${this.path}: cannot open the intent log (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
          { cause: err },
        );
      }
    }
    const intent: WriteIntent = { key: itemKey(target), thingName: target.thingName, undoJson };
    if (target.shadowName !== undefined) intent.shadowName = target.shadowName;
    const line = Buffer.from(`${stringifyJson(intent)}\n`, 'utf8'); // before-images keep exact numbers
    // one write(2) per line: with O_APPEND the line lands whole, after every other thread's
    let off = 0;
    while (off < line.length) off += writeSync(this.#fd, line, off, line.length - off);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** One IntentLog per path in this thread, opened on first use. */
const logs = new Map<string, IntentLog>();
export function intentLogFor(path: string): IntentLog {
  let log = logs.get(path);
  if (log === undefined) {
    log = new IntentLog(path);
    logs.set(path, log);
  }
  return log;
}

/**
 * Reads an intent file line by line, in order; a torn last line (kill -9 mid-append) is
 * skipped. A missing file reads as empty. Returns the number of intents read.
 */
export async function readIntents(path: string, onIntent: (i: WriteIntent) => void): Promise<number> {
  let n = 0;
  const input = createReadStream(path, { encoding: 'utf8' });
  const opened = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    input.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    input.once('open', () => resolve(undefined));
  });
  if (opened?.code === 'ENOENT') return 0;
  if (opened !== undefined)
    throw new ConfigError(`${path}: cannot read the intent log (${opened.code ?? opened.message})`, { cause: opened });
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    if (line === '') continue;
    let v: WriteIntent;
    try {
      v = parseJson(line) as WriteIntent;
    } catch {
      continue;
    }
    if (typeof v?.key !== 'string' || typeof v.thingName !== 'string' || typeof v.undoJson !== 'string') continue;
    onIntent(v);
    n += 1;
  }
  return n;
}
