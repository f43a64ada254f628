/**
 * Exact JSON numbers: the one parser and the one serializer of every shadow document.
 *
 * A double holds about 15.9 significant digits, so `JSON.parse` rounds `12345678901234567891`
 * to `12345678901234567000` and `0.1000000000000000055511151231257827` to `0.1`. Shadows are
 * JSON, and AWS IoT hands such numbers back; a backup tool that rounds them loses data. Here:
 *
 * - `parseJson(text)` gives plain JSON values; a number a double holds exactly is a `number`,
 *   any other (more digits than a double keeps, or outside its range like `1e400`) is an
 *   ExactNumber: lossless-json's `LosslessNumber`, its text in `.value`, kept as sent.
 *   A number that is a `number` already has no text of its own to lose beyond the form JSON
 *   writes it in (`1.0` and `1E2` come back as `1` and `100`, as with `JSON.parse`).
 * - `stringifyJson(value)` writes ExactNumbers as their text, everything else as
 *   `JSON.stringify` does.
 * - `jsonNumbersEqual` compares numbers by value, exact or not (`1.2345678901234567891e19`
 *   equals `12345678901234567891`; an ExactNumber is never compared by its object shape).
 *
 * Hot path: most documents hold no number that can lose precision. `parseJson` first runs a
 * cheap scan (a run of 16+ digit-or-dot characters, or an exponent of 3+ digits after a digit;
 * see mayLosePrecision) and takes plain `JSON.parse` when it finds none; the scan can only err towards the exact
 * parser (digits inside strings count too), never the other way, since a decimal of at most 15
 * significant digits with a 1-2 digit exponent always survives a double. `stringifyJson` runs
 * `JSON.stringify` and looks for the mark an ExactNumber leaves in its output (the own field
 * `"isLosslessNumber":`), redoing the work with the exact serializer only then.
 *
 * Why lossless-json (4.x): its LosslessNumber keeps the text, its parser takes a per-number
 * hook (so only the numbers that need it become objects), its stringify writes LosslessNumbers
 * as raw text, and it has no dependencies. json-bigint handles integers only (decimals such as
 * `0.1000000000000000055511151231257827` would still round) and is unmaintained; Node 20 has
 * neither `JSON.rawJSON` nor the reviver's source text.
 *
 * An ExactNumber is a class instance: structuredClone / postMessage turn it into a plain
 * `{value, isLosslessNumber}` object. Documents cross threads as text (stringifyJson on one
 * side, parseJson on the other), never as parsed objects.
 */
import {
  LosslessNumber,
  compareNumber,
  isLosslessNumber,
  isSafeNumber,
  parse as losslessParse,
  stringify as losslessStringify,
} from 'lossless-json';
import { InvalidArgumentError } from '../errors.js';

export { LosslessNumber };

/** A JSON number no double holds exactly, kept as its text (`.value`). */
export type ExactNumber = LosslessNumber;

/** True for an ExactNumber (a lossless-json LosslessNumber, also one made by another copy of it). */
export function isExactNumber(v: unknown): v is LosslessNumber {
  return typeof v === 'object' && v !== null && isLosslessNumber(v);
}

/** Characters a JSON number is made of: digits, `.`, `e`, `E`, `+`, `-`. */
function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

/** Within text[a, b) of number characters: 16+ digits-or-dots in a row, or a digit, `e`, an optional sign and 3 digits. */
function runMayLose(text: string, a: number, b: number): boolean {
  let digits = 0;
  for (let j = a; j < b; j++) {
    const c = text.charCodeAt(j);
    if ((c >= 48 && c <= 57) || c === 46) {
      if (++digits >= 16) return true;
      continue;
    }
    if ((c === 101 || c === 69) && digits > 0) {
      let k = j + 1;
      const sign = text.charCodeAt(k);
      if (sign === 43 || sign === 45) k++;
      if (
        k + 3 <= b &&
        isDigit(text.charCodeAt(k)) &&
        isDigit(text.charCodeAt(k + 1)) &&
        isDigit(text.charCodeAt(k + 2))
      )
        return true;
    }
    digits = 0;
  }
  return false;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * True when some number in `text` may not survive a double (false positives are fine): a
 * number with 16+ significant digits has 16+ digit-or-dot characters in a row, and a double
 * over- or underflows only with an exponent of 3+ digits after a digit (`1e400`). Both are runs
 * of 5+ number characters, and every run of 4+ holds an index 3 mod 4: only those characters
 * are looked at, and a run is read whole when one of them falls in it. About a third of the
 * cost of JSON.parse on the client benchmark's GET document, half of the equivalent regular
 * expression (/[0-9.]{16}|[0-9][eE][+-]?[0-9]{3}/) (bench/micro/json-text.bench.ts).
 */
export function mayLosePrecision(text: string): boolean {
  const n = text.length;
  for (let i = 3; i < n; i += 4) {
    if (!isNumberChar(text.charCodeAt(i))) continue;
    let a = i;
    while (a > 0 && isNumberChar(text.charCodeAt(a - 1))) a--;
    let b = i + 1;
    while (b < n && isNumberChar(text.charCodeAt(b))) b++;
    if (b - a >= 5 && runMayLose(text, a, b)) return true;
    i = b + ((7 - (b % 4)) % 4) - 4; // the loop goes on at the first sample at or after b
  }
  return false;
}

/** A number's text as a `number` when a double holds it exactly, else as an ExactNumber. */
export function jsonNumber(text: string): number | LosslessNumber {
  return isSafeNumber(text) ? Number(text) : new LosslessNumber(text);
}

const LOSSLESS_OPTIONS = {
  parseNumber: jsonNumber,
  // JSON.parse keeps the last of duplicate keys; so does this (lossless-json would throw).
  onDuplicateKey: (d: { newValue: unknown }) => d.newValue,
};

/**
 * `JSON.parse` that keeps every number exactly (see the module comment). Throws what
 * `JSON.parse` throws for text that is not JSON: the native parser checks every text first.
 */
export function parseJson(text: string): unknown {
  const plain: unknown = JSON.parse(text);
  if (!mayLosePrecision(text)) return plain;
  return losslessParse(text, null, LOSSLESS_OPTIONS);
}

// JSON.stringify writes a LosslessNumber as {"value":"…","isLosslessNumber":true}.
const EXACT_MARK = '"isLosslessNumber":';

/**
 * `JSON.stringify` that writes ExactNumbers as their text. Values JSON cannot hold behave as
 * with `JSON.stringify` (undefined members are left out); use `documentJson` for a document
 * to send, which refuses numbers a shadow cannot store.
 */
export function stringifyJson(value: unknown, space?: number | string): string {
  const text = JSON.stringify(value, null, space) as string | undefined;
  if (text === undefined) throw new TypeError(`cannot serialize ${typeof value} as JSON`);
  if (!text.includes(EXACT_MARK)) return text;
  return losslessStringify(value, null, space) as string;
}

/** The JSON text of a number, exact or not. */
export function jsonNumberText(n: number | LosslessNumber): string {
  return typeof n === 'number' ? JSON.stringify(n) : n.value;
}

/** Numbers by value: an ExactNumber equals a number or an ExactNumber of the same value, whatever its text. */
export function jsonNumbersEqual(a: number | LosslessNumber, b: number | LosslessNumber): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  const x = jsonNumberText(a);
  const y = jsonNumberText(b);
  if (x === y) return true;
  if (x === 'null' || y === 'null') return false; // NaN / Infinity: not JSON numbers
  return compareNumber(x, y) === 0;
}

/** True for a JSON number (plain or exact) outside the range of a double, e.g. `1e400`. */
export function isOutOfDoubleRange(n: number | LosslessNumber): boolean {
  return typeof n === 'number' ? !Number.isFinite(n) : !Number.isFinite(Number(n.value));
}

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** Where a number a shadow cannot store sits: its JSON pointer (`''` = the value itself) and its text. */
export interface UnstorableNumber {
  path: string;
  text: string;
}

/**
 * The first number a shadow cannot store (NaN, ±Infinity, or an exact number outside the
 * range of a double such as `1e400`), or undefined when there is none.
 */
export function findUnstorableNumber(value: unknown, path = ''): UnstorableNumber | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, text: String(value) };
  if (typeof value !== 'object' || value === null) return undefined;
  if (isExactNumber(value)) return isOutOfDoubleRange(value) ? { path, text: value.value } : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableNumber(value[i], pointer(path, i));
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const k of Object.keys(value)) {
    const found = findUnstorableNumber((value as Record<string, unknown>)[k], pointer(path, k));
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Throws InvalidArgumentError naming `what`, the JSON pointer and the text of a number a
 * shadow cannot store (see findUnstorableNumber).
 */
export function assertStorableNumbers(value: unknown, what: string): void {
  const found = findUnstorableNumber(value);
  if (found === undefined) return;
  throw new InvalidArgumentError(
    `${what}${found.path === '' ? '' : ` at ${found.path}`}: ${found.text} is outside the range of a double; a shadow cannot store it`,
  );
}

/**
 * The JSON text of a document to send: stringifyJson, refusing first (InvalidArgumentError
 * naming `what` and the path) a number a shadow cannot store. `JSON.stringify` alone would
 * write NaN and Infinity as `null`, which in an update deletes the key. The walk runs only
 * when the text holds a `null` or an ExactNumber, where such a number can hide.
 */
export function documentJson(value: unknown, what: string): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new InvalidArgumentError(`${what} cannot be serialized as JSON`);
  const exact = text.includes(EXACT_MARK);
  if (exact || text.includes('null')) assertStorableNumbers(value, what);
  return exact ? (losslessStringify(value) as string) : text;
}
