/**
 * What every worker gate does the same way, wherever its account permits come from (a pool
 * thread's MessagePort to the coordinator, a queue worker's shared Redis gate): the per-thing
 * limit (rate and in flight), the usage counted per target (requests, answers, throttles), and
 * what a failed permit means. A subclass says only how it gets a permit and reports a throttle.
 *
 * A permit that cannot be had: when the account gate was closed because the run stopped
 * (interrupt, abort, end) the request is aborted (AbortError, "not done"); when the gate failed
 * while the run went on (its Redis failed, its connection closed) the item failed (RateGateError:
 * counted as failed, sent again by a rerun).
 */
import type { AttemptOutcome, OperationName, ShadowRef } from '../client/index.js';
import { AbortError, isShadowError, RateGateError } from '../errors.js';
import { itemKey, type ItemUsage, type ThingLimits, type WorkerGate } from './task-types.js';
import { ThingLimiter } from './thing-limiter.js';

export abstract class ThingWorkerGate implements WorkerGate {
  #limits: ThingLimits;
  #things: ThingLimiter;
  #usage = new Map<string, ItemUsage>();

  constructor(limits: ThingLimits = { thingRps: 0, thingInFlight: 0 }) {
    this.#limits = limits;
    this.#things = new ThingLimiter({ rps: limits.thingRps, inFlight: limits.thingInFlight });
  }

  /** An account permit for `op`: undefined when `op` is not gated or a permit is at hand. */
  protected abstract permit(op: OperationName): Promise<unknown> | undefined;

  /** Reports a 429 of `op` to the account gate (if `op` is gated). */
  protected abstract throttled(op: OperationName): void;

  /** Sets the per-thing limits (a task's; the same for every task of a job). */
  protected setThingLimits(limits: ThingLimits | undefined): void {
    if (limits === undefined) return;
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
    try {
      const permit = this.permit(op);
      if (permit !== undefined) await permit;
    } catch (err) {
      // beforeAttempt failed: no attempt, so no afterAttempt will free the thing's slot.
      if (ref !== undefined) this.#things.release(ref.thingName);
      throw permitFailure(err);
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
      this.throttled(op);
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

/**
 * The error of a permit that could not be had: an abort when the account gate was closed
 * because the run stopped (the gate rejects with an AbortError then), else a RateGateError.
 */
export function permitFailure(err: unknown): AbortError | RateGateError {
  if (err instanceof AbortError || err instanceof RateGateError) return err;
  const message = (err as Error)?.message ?? String(err);
  if (isShadowError(err) && err.code === 'SHADOW_ERR_ABORTED')
    return new AbortError(`rate gate closed: ${message}`, { cause: err });
  return new RateGateError(`rate gate failed: ${message}`, { cause: err });
}
