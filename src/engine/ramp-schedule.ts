/**
 * An exponential ramp, like IoT Jobs' rollout: start at `baseRate` requests/s, multiply by
 * `factor` after every `everySucceeded` successful things, up to `maxRate` (capped by the
 * quota). A pure schedule: the job run tells it how many things succeeded and applies the
 * rate it returns.
 */

/** Start at `baseRate` requests/s, multiply by `factor` after every `everySucceeded` successful things, up to `maxRate` (default the quota). */
export interface RampOptions {
  baseRate: number;
  factor: number;
  everySucceeded: number;
  maxRate?: number;
}

export class RampSchedule {
  readonly #ramp: RampOptions;
  readonly #max: number;
  #step = 0;
  #rate: number;

  /** `quota`: the account rate the ramp may not pass (Infinity when unlimited). */
  constructor(ramp: RampOptions, quota: number) {
    this.#ramp = ramp;
    this.#max = Math.min(ramp.maxRate ?? quota, quota);
    this.#rate = Math.min(ramp.baseRate, this.#max);
  }

  /** The rate in force now, requests/s per operation. */
  get rate(): number {
    return this.#rate;
  }

  /** The rate to apply after `succeeded` successful things, or undefined when it does not change. */
  next(succeeded: number): number | undefined {
    if (this.#rate >= this.#max) return undefined;
    const step = Math.floor(succeeded / this.#ramp.everySucceeded);
    if (step <= this.#step) return undefined;
    this.#step = step;
    this.#rate = Math.min(this.#max, this.#ramp.baseRate * this.#ramp.factor ** step);
    return this.#rate;
  }
}

/** Seconds a run over `reads` things writing `writes` of them takes at `rate` requests/s per operation, with an optional ramp. */
export function estimateSeconds(reads: number, writes: number, rate: number, ramp?: RampOptions): number {
  const ops = Math.max(reads, writes);
  if (ramp === undefined) return ops / rate;
  let remaining = ops;
  let r = Math.min(ramp.baseRate, rate);
  let t = 0;
  const max = Math.min(ramp.maxRate ?? rate, rate);
  while (remaining > 0) {
    if (r >= max) return t + remaining / max;
    const n = Math.min(ramp.everySucceeded, remaining);
    t += n / r;
    remaining -= n;
    r = Math.min(max, r * ramp.factor);
  }
  return t;
}
