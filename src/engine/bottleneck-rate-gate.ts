/**
 * The in-process RateGate: one bottleneck limiter per gated operation, its reservoir used as the
 * token bucket, permits handed out in weighted batches (`schedule({ weight: k })`), never one
 * schedule() per request (a schedule() waits on timers, ~2.5 ms each: ~400 calls/s).
 *
 * The reservoir is refilled by this class from elapsed time (tokens = rate x elapsed, fractions
 * carried), capped at the burst size. bottleneck's own reservoirIncreaseInterval was measured
 * to under-deliver here (3,333 of 4,000 permits/s idle, 100 ms interval): its heartbeat restarts
 * the interval at each tick's `now`, so every late or early tick loses time. Elapsed-time refill
 * keeps the long-run rate exact.
 */
import Bottleneck from 'bottleneck';
import type { OperationName } from '../client/index.js';
import { AbortError } from '../errors.js';
import { AimdRate } from './aimd-rate.js';
import {
  defaultPermitBatch,
  resolveRateGateOptions,
  type OperationGateStats,
  type RateGate,
  type RateGateOptions,
  type RateGateStats,
  type ResolvedRateGateOptions,
} from './rate-gate.js';

interface OperationBucket {
  limiter: Bottleneck;
  aimd: AimdRate;
  carry: number;
  lastRefill: number;
  granted: number;
  throttles: number;
  /** Pending drop of the permits above a lowered rate's capacity (takes wait for it). */
  trim: Promise<void> | undefined;
}

export class BottleneckRateGate implements RateGate {
  #o: ResolvedRateGateOptions;
  #buckets = new Map<OperationName, OperationBucket>();
  #timer: NodeJS.Timeout | undefined;
  #refilling = false;
  #closed = false;

  constructor(options?: RateGateOptions | 'off') {
    this.#o = resolveRateGateOptions(options);
    for (const [op, rps] of Object.entries(this.#o.rates) as [OperationName, number][]) {
      const aimd = new AimdRate({
        ceiling: rps,
        decreaseFactor: this.#o.decreaseFactor,
        decreaseCooldownMs: this.#o.decreaseCooldownMs,
        increaseShare: this.#o.increaseShare,
        minShare: this.#o.minShare,
        now: this.#o.now,
      });
      // Starts full: one burst is allowed at once, then the refill rate rules.
      const limiter = new Bottleneck({ reservoir: this.#capacity(rps), maxConcurrent: null, minTime: 0 });
      this.#buckets.set(op, {
        limiter,
        aimd,
        carry: 0,
        lastRefill: this.#o.now(),
        granted: 0,
        throttles: 0,
        trim: undefined,
      });
    }
    if (this.#buckets.size > 0) {
      this.#timer = setInterval(() => void this.#refill(), this.#o.refillIntervalMs);
      this.#timer.unref();
    }
  }

  /** The resolved options (per-thing limits travel to the workers from here). */
  get options(): Readonly<ResolvedRateGateOptions> {
    return this.#o;
  }

  batchSize(op: OperationName): number {
    const b = this.#buckets.get(op);
    if (b === undefined) return 0;
    return this.#o.permitBatch ?? defaultPermitBatch(b.aimd.ceiling);
  }

  async take(op: OperationName, want: number): Promise<number> {
    const b = this.#buckets.get(op);
    if (b === undefined) return want;
    if (b.trim !== undefined) await b.trim;
    const weight = Math.max(1, Math.min(want, this.#capacity(b.aimd.rate)));
    let n: number;
    try {
      n = await b.limiter.schedule({ weight }, async () => weight);
    } catch (err) {
      // Closed (the run stopped): the take is aborted, not failed.
      if (this.#closed) throw new AbortError('rate gate closed', { cause: err });
      throw err;
    }
    b.granted += n;
    return n;
  }

  throttled(op: OperationName): void {
    const b = this.#buckets.get(op);
    if (b === undefined) return;
    b.throttles += 1;
    b.aimd.throttled();
  }

  setRate(op: OperationName, rps: number): void {
    const b = this.#buckets.get(op);
    if (b === undefined) return;
    b.aimd.setCeiling(rps);
    // A lower rate lowers the burst too: the bucket keeps at most the new capacity (a ramp that
    // starts slow must not start with a burst of the full quota).
    const trim = (async (): Promise<void> => {
      await b.trim;
      const cap = this.#capacity(b.aimd.rate);
      const level = (await b.limiter.currentReservoir()) ?? 0;
      if (level > cap) await b.limiter.incrementReservoir(cap - level);
    })();
    b.trim = trim;
    void trim
      .then(
        () => undefined,
        () => undefined, // a stopped limiter: the takes that wait for the trim see the error
      )
      .finally(() => {
        if (b.trim === trim) b.trim = undefined;
      });
  }

  stats(): RateGateStats {
    const operations: Partial<Record<OperationName, OperationGateStats>> = {};
    let granted = 0;
    let throttles = 0;
    for (const [op, b] of this.#buckets) {
      operations[op] = {
        configuredRps: b.aimd.ceiling,
        currentRps: b.aimd.rate,
        granted: b.granted,
        throttles: b.throttles,
        decreases: b.aimd.decreases,
      };
      granted += b.granted;
      throttles += b.throttles;
    }
    return { operations, granted, throttles };
  }

  /** Refills every bucket now (the timer calls this; tests with fake timers too). */
  async refill(): Promise<void> {
    await this.#refill();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await Promise.all(
      [...this.#buckets.values()].map((b) => b.limiter.stop({ dropWaitingJobs: true }).catch(() => undefined)),
    );
  }

  #capacity(rps: number): number {
    return Math.max(this.#o.permitBatch ?? defaultPermitBatch(rps), Math.ceil(rps * this.#o.burstSeconds));
  }

  async #refill(): Promise<void> {
    if (this.#refilling || this.#closed) return;
    this.#refilling = true;
    try {
      const now = this.#o.now();
      for (const b of this.#buckets.values()) {
        const rate = b.aimd.rate;
        const tokens = b.carry + (rate * (now - b.lastRefill)) / 1000;
        b.lastRefill = now;
        const whole = Math.floor(tokens);
        b.carry = tokens - whole;
        if (whole <= 0) continue;
        const level = (await b.limiter.currentReservoir()) ?? 0;
        const add = Math.min(whole, this.#capacity(rate) - level);
        // A full bucket drops the surplus (and its fraction): that is what keeps bursts bounded.
        if (add < whole) b.carry = 0;
        if (add > 0) await b.limiter.incrementReservoir(add);
      }
    } finally {
      this.#refilling = false;
    }
  }
}
