/**
 * Abort criteria, like IoT Jobs' abortConfig: stop a run when failures of a type pass a
 * percentage of the things finished, once at least `minThings` finished. `record` is given
 * each first-pass result; it returns the reason to abort with, once, or undefined.
 */
import type { ItemResult } from './task-types.js';

export type FailureType = 'failed' | 'throttled' | 'timed-out' | 'all';
export const FAILURE_TYPES: readonly FailureType[] = Object.freeze(['failed', 'throttled', 'timed-out', 'all']);

/** Stop the run when failures of `failureType` pass `thresholdPercentage` of the finished things, once at least `minThings` finished. */
export interface AbortCriterion {
  failureType: FailureType;
  thresholdPercentage: number;
  minThings: number;
}

/** The failure type a failed result counts under for abort criteria (besides `all`). */
export function failureType(r: Pick<ItemResult, 'error'>): 'failed' | 'throttled' | 'timed-out' {
  const code = r.error?.code;
  if (code === 'SHADOW_ERR_THROTTLED' || r.error?.awsErrorType === 'ThrottlingException') return 'throttled';
  if (code === 'SHADOW_ERR_TIMEOUT') return 'timed-out';
  return 'failed';
}

export class AbortCriteria {
  readonly #criteria: readonly AbortCriterion[];
  readonly #failures: Record<FailureType, number> = { failed: 0, throttled: 0, 'timed-out': 0, all: 0 };
  #done = 0;
  #tripped = false;

  constructor(criteria: readonly AbortCriterion[] = []) {
    this.#criteria = criteria;
  }

  /** Things recorded so far. */
  get done(): number {
    return this.#done;
  }

  /**
   * Counts one finished thing (`failure`: whether it failed) and returns the abort reason when
   * a criterion is passed for the first time.
   */
  record(r: Pick<ItemResult, 'error'>, failure: boolean): string | undefined {
    this.#done += 1;
    if (failure) {
      this.#failures.all += 1;
      this.#failures[failureType(r)] += 1;
    }
    if (this.#tripped) return undefined;
    for (const c of this.#criteria) {
      if (this.#done < Math.max(1, c.minThings)) continue;
      const failedOfType = this.#failures[c.failureType];
      const pct = (failedOfType / this.#done) * 100;
      if (pct > c.thresholdPercentage) {
        this.#tripped = true;
        const what = c.failureType === 'all' || c.failureType === 'failed' ? 'failed' : c.failureType;
        return `abort criterion: ${failedOfType} of ${this.#done} things (${pct.toFixed(1)}%) ${what} > ${c.thresholdPercentage}% (failureType ${c.failureType}, minThings ${c.minThings})`;
      }
    }
    return undefined;
  }
}
