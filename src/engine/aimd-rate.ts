/**
 * Additive-increase / multiplicative-decrease of a rate, driven by an injected clock (pure logic,
 * no timers). A 429 multiplies the current rate by `decreaseFactor` (at most once per cooldown, so
 * a burst of 429s is one signal); afterwards the rate climbs back by `increaseShare` of the ceiling
 * per second, up to the ceiling.
 */
export interface AimdRateOptions {
  ceiling: number;
  decreaseFactor: number;
  decreaseCooldownMs: number;
  increaseShare: number;
  minShare: number;
  now: () => number;
}

export class AimdRate {
  #ceiling: number;
  #current: number;
  #lastDecrease = Number.NEGATIVE_INFINITY;
  #lastUpdate: number;
  #o: AimdRateOptions;
  #decreases = 0;

  constructor(options: AimdRateOptions) {
    this.#o = options;
    this.#ceiling = options.ceiling;
    this.#current = options.ceiling;
    this.#lastUpdate = options.now();
  }

  /** The current rate (recovery up to now applied). */
  get rate(): number {
    this.#recover();
    return this.#current;
  }

  get ceiling(): number {
    return this.#ceiling;
  }

  get decreases(): number {
    return this.#decreases;
  }

  /** A 429: returns true when it decreased the rate (false inside the cooldown). */
  throttled(): boolean {
    this.#recover();
    const now = this.#o.now();
    if (now - this.#lastDecrease < this.#o.decreaseCooldownMs) return false;
    this.#lastDecrease = now;
    this.#current = Math.max(this.#ceiling * this.#o.minShare, this.#current * this.#o.decreaseFactor);
    this.#decreases += 1;
    return true;
  }

  /** A new ceiling (a ramp step): the current rate moves to it at once. */
  setCeiling(rps: number): void {
    this.#ceiling = rps;
    this.#current = rps;
    this.#lastUpdate = this.#o.now();
  }

  #recover(): void {
    const now = this.#o.now();
    // No recovery during the cooldown after a decrease: count from its end.
    const from = Math.max(this.#lastUpdate, this.#lastDecrease + this.#o.decreaseCooldownMs);
    this.#lastUpdate = now;
    const elapsed = now - from;
    if (elapsed <= 0) return;
    if (this.#current < this.#ceiling) {
      this.#current = Math.min(this.#ceiling, this.#current + (this.#ceiling * this.#o.increaseShare * elapsed) / 1000);
    }
  }
}
