/**
 * The one positive-number check of the jobs' options, with the one message template the
 * spec files use too: `<field>: expected a positive integer` (or `number`), prefixed by the
 * source when the value came from somewhere other than the library call (a spec file, a flag).
 * Absent values pass: defaults are filled in elsewhere.
 */
import { InvalidArgumentError } from '../../errors.js';

/** `<source>: <field>: expected <what>`, or `<field>: expected <what>` without a source. */
export function optionMessage(field: string, expected: string, source?: string): string {
  return source === undefined ? `${field}: expected ${expected}` : `${source}: ${field}: expected ${expected}`;
}

/** Throws InvalidArgumentError unless `v` is undefined or a positive (by default whole) finite number. */
export function checkPositive(field: string, v: unknown, o: { integer?: boolean; source?: string } = {}): void {
  if (v === undefined) return;
  const integer = o.integer ?? true;
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0) || (integer && !Number.isInteger(v))) {
    throw new InvalidArgumentError(optionMessage(field, `a positive ${integer ? 'integer' : 'number'}`, o.source));
  }
}
