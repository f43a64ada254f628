import { EMULATOR_OPERATIONS, type EmulatorOperation, type ResolvedQuotas } from './emulator-options.js';

/** A token bucket refilled lazily from the clock: `rate` per second, at most `burst` saved. */
class Bucket {
  tokens: number;
  last: number;
  inFlight = 0;
  constructor(burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }
  take(rate: number, burst: number, now: number): boolean {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      const t = this.tokens + (elapsed * rate) / 1000;
      this.tokens = Math.min(t, burst);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What a request holds while it runs: release it once the response is sent. */
export interface QuotaPermit {
  release(): void;
}

const NOOP_PERMIT: QuotaPermit = Object.freeze({ release() {} });

class ThingPermit implements QuotaPermit {
  #bucket: Bucket | undefined;
  constructor(bucket: Bucket) {
    this.#bucket = bucket;
  }
  release(): void {
    const b = this.#bucket;
    if (b !== undefined) {
      b.inFlight--;
      this.#bucket = undefined;
    }
  }
}

/**
 * AWS's quotas: requests per second per account for each operation, and per thing a request
 * rate (all shadow APIs together) plus a cap on requests in flight. Over a limit the caller
 * answers 429 ThrottlingException. Burst = one second of rate.
 */
export class QuotaGate {
  readonly #quotas: ResolvedQuotas;
  readonly #account: Record<EmulatorOperation, Bucket>;
  readonly #things = new Map<string, Bucket>();
  readonly #sweep: NodeJS.Timeout;

  constructor(quotas: ResolvedQuotas) {
    this.#quotas = quotas;
    const now = Date.now();
    const account = {} as Record<EmulatorOperation, Bucket>;
    for (const op of EMULATOR_OPERATIONS) account[op] = new Bucket(Math.max(1, quotas.accountRps[op]), now);
    this.#account = account;
    // Idle per-thing buckets are dropped so a long run over many things keeps memory flat.
    this.#sweep = setInterval(() => this.#dropIdle(), 5000);
    this.#sweep.unref();
  }

  /** Takes a permit, or returns undefined when the request is over a quota. */
  admit(op: EmulatorOperation, thingName: string | undefined, now: number): QuotaPermit | undefined {
    const rate = this.#quotas.accountRps[op];
    if (!this.#account[op].take(rate, Math.max(1, rate), now)) return undefined;
    if (thingName === undefined) return NOOP_PERMIT;
    const q = this.#quotas;
    let b = this.#things.get(thingName);
    if (b === undefined) {
      b = new Bucket(Math.max(1, q.thingRps), now);
      this.#things.set(thingName, b);
    }
    if (b.inFlight >= q.thingInFlight) return undefined;
    if (!b.take(q.thingRps, Math.max(1, q.thingRps), now)) return undefined;
    b.inFlight++;
    return new ThingPermit(b);
  }

  #dropIdle(): void {
    const now = Date.now();
    const full = (1000 * Math.max(1, this.#quotas.thingRps)) / this.#quotas.thingRps;
    for (const [name, b] of this.#things) {
      if (b.inFlight === 0 && now - b.last >= full) this.#things.delete(name);
    }
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#things.clear();
  }
}
