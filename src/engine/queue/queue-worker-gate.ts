/**
 * The gate a queue worker's handlers use. They run on the worker process's main thread, beside
 * the account gate, so they ask it directly (no MessagePort, no permit cache of their own):
 * each request waits for its per-thing slot (rate and in flight, as in a pool thread), then for
 * one account permit from the gate. The shared Redis gate serves those from chunks it fetches
 * ahead of the requests waiting (see redis-rate-gate.ts), so a process with hundreds of requests
 * waiting keeps enough chunks on the way, and no request costs a Redis round trip of its own.
 */
import type { AttemptOutcome, OperationName, ShadowRef } from '../../client/index.js';
import { AbortError } from '../../errors.js';
import type { RateGate } from '../rate-gate.js';
import { itemKey, type ItemUsage, type ThingLimits, type WorkerGate } from '../task-types.js';
import { ThingLimiter } from '../thing-limiter.js';

export class QueueWorkerGate implements WorkerGate {
  #gate: RateGate;
  #limits: ThingLimits = { thingRps: 0, thingInFlight: 0 };
  #things = new ThingLimiter({ rps: 0, inFlight: 0 });
  #usage = new Map<string, ItemUsage>();

  constructor(gate: RateGate) {
    this.#gate = gate;
  }

  /** Sets the per-thing limits (a batch's; the same for every batch of a job). */
  configure(limits: ThingLimits): void {
    if (limits.thingRps === this.#limits.thingRps && limits.thingInFlight === this.#limits.thingInFlight) return;
    this.#limits = limits;
    this.#things = new ThingLimiter({ rps: limits.thingRps, inFlight: limits.thingInFlight });
  }

  async acquire(op: OperationName, ref: ShadowRef | undefined): Promise<void> {
    if (ref !== undefined) {
      this.#usageOf(ref).requests += 1;
      const wait = this.#things.acquire(ref.thingName);
      if (wait !== undefined) await wait;
    }
    if (this.#gate.batchSize(op) <= 0) return;
    try {
      await this.#gate.take(op, 1);
    } catch (err) {
      // beforeAttempt failed: no attempt, so no afterAttempt will free the thing's slot.
      if (ref !== undefined) this.#things.release(ref.thingName);
      throw new AbortError(`rate gate closed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  release(op: OperationName, ref: ShadowRef | undefined, outcome: AttemptOutcome): void {
    if (ref !== undefined) {
      this.#things.release(ref.thingName);
      if (outcome.statusCode !== undefined) {
        const u = this.#usageOf(ref);
        u.answered = (u.answered ?? 0) + 1;
      }
    }
    if (outcome.statusCode === 429 || outcome.error?.code === 'SHADOW_ERR_THROTTLED') {
      if (ref !== undefined) this.#usageOf(ref).throttles += 1;
      if (this.#gate.batchSize(op) > 0) this.#gate.throttled(op);
    }
  }

  takeUsage(ref: ShadowRef): ItemUsage {
    const key = itemKey(ref);
    const u = this.#usage.get(key);
    if (u === undefined) return { requests: 0, throttles: 0, answered: 0 };
    this.#usage.delete(key);
    return u;
  }

  #usageOf(ref: ShadowRef): ItemUsage {
    const key = itemKey(ref);
    let u = this.#usage.get(key);
    if (u === undefined) {
      u = { requests: 0, throttles: 0, answered: 0 };
      this.#usage.set(key, u);
    }
    return u;
  }
}
