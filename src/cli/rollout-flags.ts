/** The rollout flags `apply` takes too: `--ramp` and `--abort`. */
import type { RolloutOptions } from '../index.js';

/** `--ramp base:factor:every` (also used by `apply`). */
export function rampFlag(
  text: string,
  InvalidArgumentError: new (m: string) => Error,
): NonNullable<RolloutOptions['ramp']> {
  const parts = text.split(':').map(Number);
  if (parts.length !== 3 || !(parts[0]! > 0) || !(parts[1]! > 1) || !Number.isInteger(parts[2]) || !(parts[2]! > 0)) {
    throw new InvalidArgumentError(
      `--ramp: expected base:factor:every with base > 0, factor > 1 and a whole every > 0, got "${text}"`,
    );
  }
  return { baseRate: parts[0]!, factor: parts[1]!, everySucceeded: parts[2]! };
}

/** Repeated `--abort type:percent:min` (also used by `apply`). */
export function abortFlags(
  list: readonly string[],
  InvalidArgumentError: new (m: string) => Error,
): NonNullable<RolloutOptions['abort']> {
  return list.map((text) => {
    const [type, pct, min] = text.split(':');
    const percent = Number(pct);
    const minThings = min === undefined ? 0 : Number(min);
    if (
      !['failed', 'throttled', 'timed-out', 'all'].includes(type ?? '') ||
      !(percent >= 0 && percent <= 100) ||
      !Number.isInteger(minThings) ||
      minThings < 0
    ) {
      throw new InvalidArgumentError(
        `--abort: expected type:percent:min with type failed, throttled, timed-out or all, got "${text}"`,
      );
    }
    return {
      failureType: type as 'failed' | 'throttled' | 'timed-out' | 'all',
      thresholdPercentage: percent,
      minThings,
    };
  });
}
