/**
 * The jobs' option schemas are built from these zod fields, so a spec or scenario file, the
 * CLI's flags and a library call accept the same numbers (through the one positive check,
 * src/options/check-positive.ts) and word a problem with the one template:
 * `[<source>: ]<field>: expected <what>, got <value>`. A field's issue carries only
 * `expected <what>, got <value>`; the field path and the source are put in front by
 * `checkOptions` (a library call, a flag) or by the spec file reader (a file).
 */
import { z } from 'zod';
import { InvalidArgumentError } from '../../errors.js';
import { formatOptionValue, isPositive, positiveExpected } from '../../options/check-positive.js';
import { formatIssues } from './spec-file.js';

/** A zod error message of the one template: `expected <what>, got <value>`. */
export const expected =
  (what: string) =>
  (iss: { input?: unknown }): string =>
    `expected ${what}, got ${formatOptionValue(iss.input)}`;

/** A positive finite number (`what` words it, e.g. "a rate in operations per second"). */
export const positiveField = (what = positiveExpected(false)) =>
  z.number({ error: expected(what) }).refine((n) => isPositive(n, false), { error: expected(what) });

/** A positive whole number. */
export const positiveIntField = () =>
  z
    .number({ error: expected(positiveExpected(true)) })
    .refine((n) => isPositive(n, true), { error: expected(positiveExpected(true)) });

/** A whole number >= 0. */
export const nonNegativeIntField = () =>
  z
    .number({ error: expected('a whole number >= 0') })
    .refine((n) => n === 0 || isPositive(n, true), { error: expected('a whole number >= 0') });

/** Where an option came from: one name for all fields, a function of the field path (a flag per field), or nothing (a library call). */
export type OptionSource = string | ((field: string) => string | undefined) | undefined;

/**
 * Checks `options` against a job's schema: every problem, one a line, in the one template, each
 * prefixed by its source when there is one. Throws InvalidArgumentError.
 */
export function checkOptions(schema: z.ZodType, options: unknown, source?: OptionSource): void {
  const result = schema.safeParse(options);
  if (result.success) return;
  const lines = formatIssues(result.error.issues).map((line) => {
    const field = line.slice(0, line.indexOf(': '));
    const from = typeof source === 'function' ? source(field) : source;
    return from === undefined ? line : `${from}: ${line}`;
  });
  throw new InvalidArgumentError(lines.join('\n'));
}
