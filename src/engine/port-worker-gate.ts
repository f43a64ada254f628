/**
 * The worker side of the rate gates (one per thread): a per-thing limiter, and a small cache of
 * account permits per operation refilled in batches from the coordinator over a MessagePort.
 * The client's hooks call `acquire` before every attempt and `release` after it.
 *
 * A thread adopts the first gate port it is given and keeps it for its life (permits cached in
 * the thread survive from one task to the next); ports that come with later tasks are closed at
 * once, which tells the coordinator to forget them.
 */
import type { MessagePort } from 'node:worker_threads';
import { AbortError } from '../errors.js';
import type { AttemptOutcome, OperationName, ShadowRef } from '../client/index.js';
import type { GateReply, GateRequest } from './gate-messages.js';
import { itemKey, type ItemUsage, type ThingLimits, type WorkerGate } from './task-types.js';
import { ThingLimiter } from './thing-limiter.js';

interface PermitCache {
  batch: number;
  available: number;
  outstanding: number;
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
}

export class PortWorkerGate implements WorkerGate {
  #port: MessagePort | undefined;
  #caches = new Map<OperationName, PermitCache>();
  #things: ThingLimiter;
  #limits: ThingLimits;
  #usage = new Map<string, ItemUsage>();

  constructor(limits: ThingLimits = { thingRps: 0, thingInFlight: 0 }) {
    this.#limits = limits;
    this.#things = new ThingLimiter({ rps: limits.thingRps, inFlight: limits.thingInFlight });
  }

  /**
   * Configures the gate for a task: adopts `port` if the thread has none (else closes it), sets
   * the permit batch per gated op (ops not listed are not gated) and the per-thing limits.
   */
  configure(
    port: MessagePort | undefined,
    permits: Partial<Record<OperationName, number>> | undefined,
    limits: ThingLimits | undefined,
  ): void {
    if (port !== undefined) {
      if (this.#port === undefined) {
        this.#port = port;
        port.on('message', (msg: GateReply) => this.#onReply(msg));
        port.unref();
      } else if (port !== this.#port) {
        port.close();
      }
    }
    for (const [op, batch] of Object.entries(permits ?? {}) as [OperationName, number][]) {
      const c = this.#caches.get(op);
      if (c === undefined) this.#caches.set(op, { batch, available: 0, outstanding: 0, waiters: [] });
      else c.batch = batch;
    }
    for (const op of this.#caches.keys()) {
      if (permits === undefined || !(op in permits)) {
        // No longer gated: let waiters through.
        const c = this.#caches.get(op) as PermitCache;
        this.#caches.delete(op);
        for (const w of c.waiters) w.resolve();
      }
    }
    if (
      limits !== undefined &&
      (limits.thingRps !== this.#limits.thingRps || limits.thingInFlight !== this.#limits.thingInFlight)
    ) {
      this.#limits = limits;
      this.#things = new ThingLimiter({ rps: limits.thingRps, inFlight: limits.thingInFlight });
    }
  }

  async acquire(op: OperationName, ref: ShadowRef | undefined): Promise<void> {
    if (ref !== undefined) {
      const u = this.#usageOf(ref);
      u.requests += 1;
      const wait = this.#things.acquire(ref.thingName);
      if (wait !== undefined) await wait;
    }
    const c = this.#caches.get(op);
    if (c === undefined) return;
    try {
      await this.#permit(op, c);
    } catch (err) {
      // beforeAttempt failed: no attempt, so no afterAttempt will free the thing's slot.
      if (ref !== undefined) this.#things.release(ref.thingName);
      throw err;
    }
  }

  #permit(op: OperationName, c: PermitCache): Promise<void> | undefined {
    if (c.available > 0 && c.waiters.length === 0) {
      c.available -= 1;
      // Prefetch: ask for the next batch before the cache runs dry.
      if (c.available * 2 < c.batch && c.outstanding === 0) this.#request(op, c);
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      c.waiters.push({ resolve, reject });
      if (c.outstanding === 0 || (c.waiters.length > c.batch && c.outstanding < 2)) this.#request(op, c);
    });
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
      if (this.#caches.has(op)) this.#post({ t: 'throttle', op });
    }
  }

  takeUsage(ref: ShadowRef): ItemUsage {
    const key = itemKey(ref);
    const u = this.#usage.get(key);
    if (u === undefined) return { requests: 0, throttles: 0, answered: 0 };
    this.#usage.delete(key);
    return u;
  }

  /** Permits cached in this thread, per op (for tests). */
  cached(op: OperationName): number {
    return this.#caches.get(op)?.available ?? 0;
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

  #request(op: OperationName, c: PermitCache): void {
    if (this.#port === undefined) {
      // No coordinator to ask (a handler run outside a pool): do not gate.
      c.available += c.batch;
      this.#drain(c);
      return;
    }
    c.outstanding += 1;
    this.#post({ t: 'take', op, want: c.batch });
  }

  #onReply(msg: GateReply): void {
    const c = this.#caches.get(msg.op);
    if (c === undefined) return;
    c.outstanding = Math.max(0, c.outstanding - 1);
    if (msg.error !== undefined) {
      const err = new AbortError(`rate gate closed: ${msg.error}`);
      for (const w of c.waiters.splice(0)) w.reject(err);
      return;
    }
    c.available += msg.n;
    this.#drain(c);
    if (c.waiters.length > 0 && c.outstanding === 0) this.#request(msg.op, c);
  }

  #drain(c: PermitCache): void {
    while (c.available > 0 && c.waiters.length > 0) {
      c.available -= 1;
      (c.waiters.shift() as { resolve: () => void }).resolve();
    }
  }

  #post(msg: GateRequest): void {
    this.#port?.postMessage(msg);
  }
}
