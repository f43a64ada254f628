/**
 * Parsing of the command-line values the commands share: numbers, counts, rates, durations and
 * repeatable flags. One place, so every command reads `--workers` or `--rate` the same way and
 * says the same thing when it cannot (`--workers: expected a positive integer, got "0"`).
 * Loaded with the CLI itself, so it imports only the light public entry (shadowfleet/input).
 */
import {
  ConfigError,
  InvalidArgumentError,
  isPositive,
  optionMessage,
  parseDataEndpoint,
  parseDuration,
} from '../input.js';

/** A number passing `check`, or undefined when the flag is absent. Blank text is rejected. */
export function numberFlag(
  flag: string,
  text: string | undefined,
  check: (n: number) => boolean,
  expected: string,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new InvalidArgumentError(optionMessage(flag, expected, { value: text }));
  return n;
}

/** The one positive check (src/options/check-positive.ts), for whole numbers. */
export const isPositiveInt = (n: number): boolean => isPositive(n, true);

/**
 * A flag's text as a job's schema sees it: a number when it reads as one, else the text as
 * typed (the message then shows it quoted). For flags checked by the job's own schema.
 */
export function schemaFlagValue(text: string): number | string {
  const n = Number(text);
  return text.trim() === '' || Number.isNaN(n) ? text : n;
}

/**
 * Flags that set fields of a job's one schema: `[flag, field path, text]` each (absent flags
 * skipped), mapped to an options fragment and checked by the job's `check` with the flag as the
 * source of its field (`--workers: workers: expected a positive integer, got 0`).
 */
export function checkedFlags(
  list: ReadonlyArray<readonly [flag: string, field: string, text: string | undefined]>,
  check: (options: unknown, source: (field: string) => string | undefined) => void,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const flagOf = new Map<string, string>();
  for (const [flag, field, text] of list) {
    if (text === undefined) continue;
    const path = field.split('.');
    let at = out;
    for (const [i, key] of path.entries()) {
      flagOf.set(path.slice(0, i + 1).join('.'), flag);
      if (i === path.length - 1) at[key] = schemaFlagValue(text);
      else at = (at[key] ??= {}) as Record<string, unknown>;
    }
  }
  check(out, (field) => flagOf.get(field));
  return out;
}

/** `--workers 4`: a positive integer. */
export function positiveIntFlag(flag: string, text: string | undefined): number | undefined {
  return numberFlag(flag, text, isPositiveInt, 'a positive integer');
}

/** `--max-things 0`: a whole number >= 0 (blank text reads as 0, as `Number('')` does). */
export function wholeNumberFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${flag}: expected a whole number >= 0, got "${text}"`);
  return n;
}

/** `--rate 2000` or `--rate off`. */
export function rateFlag(flag: string, text: string | undefined): number | 'off' | undefined {
  if (text === 'off') return 'off';
  return numberFlag(flag, text, (n) => isPositive(n, false), 'a positive number or off');
}

/**
 * `--timeout 90s`: milliseconds. `example` shows the expected form in the message
 * (`expected a duration like 90s or 5m`); `positive` rejects a zero duration.
 */
export function durationFlag(
  flag: string,
  text: string | undefined,
  example: string,
  positive = false,
): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || (positive && ms <= 0))
    throw new InvalidArgumentError(`${flag}: expected a duration like ${example}, got "${text}"`);
  return ms;
}

/** The emulator's flags (`shadowfleet serve`): any number, checked by the emulator's own options. */
export function serveNumberFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`${flag} must be a number, got '${raw}'`);
  return n;
}

/** Commander's collector for a repeatable flag (`--abort a --abort b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--endpoint` or $SHADOWFLEET_ENDPOINT; a job that writes or reads a fleet never guesses one. Credentials in the URL are refused. */
export function requiredEndpoint(flag: string | undefined): string {
  const endpoint = flag ?? process.env.SHADOWFLEET_ENDPOINT;
  if (endpoint === undefined || endpoint === '') {
    throw new ConfigError(
      'no endpoint: pass --endpoint URL or set SHADOWFLEET_ENDPOINT (shadowfleet does not guess an AWS account)',
    );
  }
  parseDataEndpoint(endpoint, flag !== undefined ? '--endpoint' : 'SHADOWFLEET_ENDPOINT');
  return endpoint;
}

/** An optional endpoint flag (`--s3-endpoint`, `--control-endpoint`), checked by the one endpoint parser. */
export function endpointFlag(flag: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  parseDataEndpoint(text, flag);
  return text;
}
