/**
 * Target sources: a file or stdin, read line by line (never loaded whole), in one of three forms,
 * detected from the first line that is not blank or a `#` comment:
 * - one thing name per line;
 * - CSV with a header naming the thing column `thingName`, `thing` or `name` (optionally a
 *   `shadowName`/`shadow` column); other columns go to `item.data`;
 * - JSON lines, objects with such a field (other string/number/boolean fields go to `item.data`).
 * Blank lines and `#` comments are skipped. A bad name is reported with `file:line`: to
 * `onInvalid` when given (the line is skipped), else as an InvalidArgumentError.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline, type Readable } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';
import { limitLineLength } from '../io/line-limit.js';
import { refuseSpecialFile } from '../io/read-bounded.js';
import { isExactNumber, parseJson, validateShadowName, validateThingName } from '../shadow/index.js';
import type { TargetItem } from './task-types.js';

export type TargetFormat = 'auto' | 'lines' | 'csv' | 'jsonl';

export interface TargetProblem {
  file: string;
  line: number;
  message: string;
}

export interface ReadTargetsOptions {
  /** A file path, or '-' for `input` (default process.stdin). */
  path: string;
  input?: Readable;
  format?: TargetFormat;
  /** Shadow for items whose line names none. */
  shadowName?: string;
  /** Called for each bad line (the line is skipped). Without it a bad line throws. */
  onInvalid?: (problem: TargetProblem) => void;
}

const NAME_COLUMNS = ['thingname', 'thing', 'name'];
const SHADOW_COLUMNS = ['shadowname', 'shadow'];

/** Splits one CSV line (RFC 4180 quoting within the line). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === ',') {
      out.push(field.trim());
      field = '';
    } else {
      field += ch;
    }
  }
  out.push(field.trim());
  return out;
}

/** The longest target line: a thing name is at most 128 characters; CSV and JSON lines carry extra columns. */
export const MAX_TARGET_LINE_CHARS = 64 * 1024;

export async function* readTargets(options: ReadTargetsOptions): AsyncGenerator<TargetItem> {
  const file = options.path === '-' ? '<stdin>' : options.path;
  if (options.shadowName !== undefined) {
    const bad = validateShadowName(options.shadowName);
    if (bad !== undefined) throw new InvalidArgumentError(`shadowName: ${bad}`);
  }
  if (options.path !== '-') await refuseSpecialFile(options.path, 'targets');
  const source: Readable =
    options.path === '-' ? (options.input ?? process.stdin) : createReadStream(options.path, { encoding: 'utf8' });
  // A line is read up to its limit plus one character, never buffered whole (a file with no newline, /dev/zero).
  const input: Readable = pipeline(source, limitLineLength(MAX_TARGET_LINE_CHARS, file), () => undefined);
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let format: TargetFormat = options.format ?? 'auto';
  let nameIdx = -1;
  let shadowIdx = -1;
  let header: string[] = [];
  let lineNo = 0;
  const problem = (message: string): void => {
    const p = { file, line: lineNo, message };
    if (options.onInvalid === undefined) throw new InvalidArgumentError(`${file}:${lineNo}: ${message}`);
    options.onInvalid(p);
  };
  const make = (
    thingName: unknown,
    shadowName: unknown,
    data: Record<string, string> | undefined,
  ): TargetItem | undefined => {
    const bad = validateThingName(thingName);
    if (bad !== undefined) {
      problem(`bad thing name: ${bad}`);
      return undefined;
    }
    const item: TargetItem = { thingName: thingName as string };
    const shadow = shadowName === undefined || shadowName === '' ? options.shadowName : shadowName;
    if (shadow !== undefined) {
      const badShadow = validateShadowName(shadow);
      if (badShadow !== undefined) {
        problem(`bad shadow name: ${badShadow}`);
        return undefined;
      }
      item.shadowName = shadow as string;
    }
    if (data !== undefined) item.data = data;
    return item;
  };
  try {
    for await (const raw of rl) {
      lineNo += 1;
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1).trim() : raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      if (format === 'auto')
        format = line.startsWith('{') ? 'jsonl' : line.includes(',') || isHeaderName(line) ? 'csv' : 'lines';
      if (format === 'csv' && nameIdx < 0) {
        header = splitCsvLine(line);
        const lower = header.map((h) => h.toLowerCase());
        nameIdx = lower.findIndex((h) => NAME_COLUMNS.includes(h));
        shadowIdx = lower.findIndex((h) => SHADOW_COLUMNS.includes(h));
        if (nameIdx < 0)
          throw new InvalidArgumentError(
            `${file}:${lineNo}: the CSV header needs a thingName, thing or name column, got: ${line}`,
          );
        continue;
      }
      let item: TargetItem | undefined;
      if (format === 'lines') {
        item = make(line, undefined, undefined);
      } else if (format === 'csv') {
        const fields = splitCsvLine(line);
        let data: Record<string, string> | undefined;
        for (let i = 0; i < header.length; i++) {
          if (i === nameIdx || i === shadowIdx || fields[i] === undefined) continue;
          (data ??= {})[header[i] as string] = fields[i] as string;
        }
        item = make(fields[nameIdx], shadowIdx >= 0 ? fields[shadowIdx] : undefined, data);
      } else {
        let obj: unknown;
        try {
          obj = parseJson(line);
        } catch {
          problem('not a JSON object');
          continue;
        }
        if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
          problem('not a JSON object');
          continue;
        }
        const rec = obj as Record<string, unknown>;
        const nameKey = Object.keys(rec).find((k) => NAME_COLUMNS.includes(k.toLowerCase()));
        const shadowKey = Object.keys(rec).find((k) => SHADOW_COLUMNS.includes(k.toLowerCase()));
        if (nameKey === undefined) {
          problem('no thingName, thing or name field');
          continue;
        }
        let data: Record<string, string> | undefined;
        for (const [k, v] of Object.entries(rec)) {
          if (k === nameKey || k === shadowKey) continue;
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') (data ??= {})[k] = String(v);
          else if (isExactNumber(v)) (data ??= {})[k] = v.value; // a long number column keeps its digits
        }
        item = make(rec[nameKey], shadowKey === undefined ? undefined : rec[shadowKey], data);
      }
      if (item !== undefined) yield item;
    }
  } finally {
    rl.close();
    if (options.path !== '-') input.destroy();
  }
}

function isHeaderName(line: string): boolean {
  return NAME_COLUMNS.includes(line.toLowerCase());
}
