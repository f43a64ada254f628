/**
 * The one message template of bad options, and the one positive-number check. Every front end
 * says the same thing about the same field: `[<source>: ]<field>: expected <what>, got <value>`,
 * where the source is where the value came from (a spec file, a command-line flag) and is left
 * out for a library option, whose field path already names it:
 *
 *   rollout.yaml: rate.perSecond: expected a positive number, got 0
 *   --rate: rate.perSecond: expected a positive number, got 0
 *   rate.perSecond: expected a positive number, got 0
 *
 * A shared module below the engine and the jobs: the jobs' schemas, the CLI's flags and the
 * engine's invariants (coordinator, rate gate) all check and word positive numbers here.
 */
import { InvalidArgumentError } from '../errors.js';

/** A value as a message shows it: numbers as written (0, -1, NaN), text quoted, nothing as `nothing`. */
export function formatOptionValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'function' || typeof v === 'symbol') return `a ${typeof v}`;
  try {
    const text = JSON.stringify(v);
    return text.length > 40 ? `${text.slice(0, 40)}...` : text;
  } catch {
    return 'an object';
  }
}

export interface OptionMessageOptions {
  /** Where the value came from: a spec file (`rollout.yaml`), a flag (`--rate`); absent for a library option. */
  source?: string | undefined;
  /** The offending value, shown as `got <value>` (when the key is present, even if undefined). */
  value?: unknown;
}

/** `[<source>: ]<field>: expected <what>[, got <value>]`: the one template of option messages. */
export function optionMessage(field: string, expected: string, o: OptionMessageOptions = {}): string {
  const got = 'value' in o ? `, got ${formatOptionValue(o.value)}` : '';
  return `${o.source === undefined ? '' : `${o.source}: `}${field}: expected ${expected}${got}`;
}

/** True for a positive (by default whole and safe) finite number. */
export function isPositive(v: unknown, integer = true): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && (!integer || Number.isSafeInteger(v));
}

/** `a positive integer` or `a positive number`. */
export const positiveExpected = (integer = true): string => `a positive ${integer ? 'integer' : 'number'}`;

export interface CheckPositiveOptions {
  /** Whole numbers only. Default true. */
  integer?: boolean;
  source?: string | undefined;
}

/** Throws InvalidArgumentError unless `v` is undefined or a positive (by default whole) finite number. */
export function checkPositive(field: string, v: unknown, o: CheckPositiveOptions = {}): void {
  if (v === undefined) return;
  requirePositive(field, v, o);
}

/** Like checkPositive, but undefined is refused too; returns the number (for resolved options and invariants). */
export function requirePositive(field: string, v: unknown, o: CheckPositiveOptions = {}): number {
  const integer = o.integer ?? true;
  if (!isPositive(v, integer))
    throw new InvalidArgumentError(optionMessage(field, positiveExpected(integer), { source: o.source, value: v }));
  return v;
}
