/**
 * The worker side of the rate gates (one per thread): a per-thing limiter, and a small cache of
 * account permits per operation refilled in batches from the coordinator over a MessagePort.
 * The client's hooks call `acquire` before every attempt and `release` after it.
 *
 * A thread adopts the first gate port it is given and keeps it for its life (permits cached in
 * the thread survive from one task to the next); ports that come with later tasks are closed at
 * once, which tells the coordinator to forget them.
 *
 * When the coordinator closes the port (the run is over, or the warm-up runner closed), permit
 * requests still queued on it are never answered: every waiter, and every later request, is
 * rejected with an AbortError instead of waiting for ever.
 */
import type { MessagePort } from 'node:worker_threads';
import type { OperationName } from '../client/index.js';
import { AbortError, RateGateError } from '../errors.js';
import type { GateReply, GateRequest } from './gate-messages.js';
import type { ThingLimits } from './task-types.js';
import { ThingWorkerGate } from './thing-worker-gate.js';

interface PermitCache {
  batch: number;
  available: number;
  outstanding: number;
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
}

export class PortWorkerGate extends ThingWorkerGate {
  #port: MessagePort | undefined;
  #portClosed = false;
  #caches = new Map<OperationName, PermitCache>();

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
        port.once('close', () => this.#onPortClose());
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
    this.setThingLimits(limits);
  }

  protected permit(op: OperationName): Promise<void> | undefined {
    const c = this.#caches.get(op);
    return c === undefined ? undefined : this.#permit(op, c);
  }

  protected throttled(op: OperationName): void {
    if (this.#caches.has(op)) this.#post({ t: 'throttle', op });
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

  /** Permits cached in this thread, per op (for tests). */
  cached(op: OperationName): number {
    return this.#caches.get(op)?.available ?? 0;
  }

  #onPortClose(): void {
    this.#portClosed = true;
    const err = new AbortError('rate gate closed: the coordinator closed the gate port');
    for (const c of this.#caches.values()) {
      c.outstanding = 0;
      for (const w of c.waiters.splice(0)) w.reject(err);
    }
  }

  #request(op: OperationName, c: PermitCache): void {
    if (this.#portClosed) {
      const err = new AbortError('rate gate closed: the coordinator closed the gate port');
      for (const w of c.waiters.splice(0)) w.reject(err);
      return;
    }
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
      // Closed because the run stopped: an abort; failed while the run went on: the items fail.
      const err = msg.aborted
        ? new AbortError(`rate gate closed: ${msg.error}`)
        : new RateGateError(`rate gate failed: ${msg.error}`);
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
