/**
 * The gate a queue worker's handlers use. They run on the worker process's main thread, beside
 * the account gate, so they ask it directly (no MessagePort, no permit cache of their own):
 * each request waits for its per-thing slot (rate and in flight, as in a pool thread), then for
 * one account permit from the gate. The shared Redis gate serves those from chunks it fetches
 * ahead of the requests waiting (see redis-rate-gate.ts), so a process with hundreds of requests
 * waiting keeps enough chunks on the way, and no request costs a Redis round trip of its own.
 */
import type { OperationName } from '../../client/index.js';
import type { RateGate } from '../rate-gate.js';
import type { ThingLimits } from '../task-types.js';
import { ThingWorkerGate } from '../thing-worker-gate.js';

export class QueueWorkerGate extends ThingWorkerGate {
  #gate: RateGate;

  constructor(gate: RateGate) {
    super();
    this.#gate = gate;
  }

  /** Sets the per-thing limits (a batch's; the same for every batch of a job). */
  configure(limits: ThingLimits): void {
    this.setThingLimits(limits);
  }

  protected permit(op: OperationName): Promise<number> | undefined {
    return this.#gate.batchSize(op) > 0 ? this.#gate.take(op, 1) : undefined;
  }

  protected throttled(op: OperationName): void {
    if (this.#gate.batchSize(op) > 0) this.#gate.throttled(op);
  }
}
