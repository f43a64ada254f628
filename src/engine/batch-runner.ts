/**
 * Where a job's batches run: the seam between the coordinator and the workers. The coordinator
 * cuts targets into batches and hands each to a BatchRunner; the runner gets it processed by
 * the task handler of its `kind` (workers/handlers) and resolves with one plain ItemResult per
 * item. The jobs never choose: the engine does (JobRunOptions.runner).
 *
 * Today's runner is the thread pool (PoolBatchRunner, the default), which runs its first
 * batches on the main thread while its threads start; a job whose targets fit in one batch runs
 * on the main thread alone (InlineBatchRunner, chosen by the coordinator from the job's target
 * count, no thread started). A queue runner (BullMQ over
 * Redis) implements the same interface: `run` adds the task to a queue, workers on other hosts
 * run the same handlers and the promise resolves with the same records; its gates are then the
 * shared Redis limiters instead of the coordinator's GatePortServer.
 */
import type { OperationName } from '../client/index.js';
import type { RateGate } from './rate-gate.js';
import type { ItemResult, TargetItem, TaskKind, ThingLimits, WorkerClientConfig } from './task-types.js';

/** One batch, as plain structured-clone-safe data (it may cross a thread or a host). */
export interface BatchTask<C = unknown> {
  kind: TaskKind;
  config: C;
  client: WorkerClientConfig;
  items: TargetItem[];
  /** Permit batch size per gated operation (ops absent are not account-gated). */
  permits: Partial<Record<OperationName, number>>;
  thingLimits: ThingLimits;
}

export interface BatchRunner {
  /**
   * Processes one batch; resolves with one result per item, rejects when the batch as a whole
   * failed. When `signal` aborts (an interrupt), the handler's signal aborts too: its requests in
   * flight and its waits between retries stop at once, and the batch resolves with what happened
   * (the interrupted items as failed with SHADOW_ERR_ABORTED, tried again on resume).
   */
  run<C>(task: BatchTask<C>, signal?: AbortSignal): Promise<ItemResult[]>;
  /** Stops the workers (batches in flight are not waited for). */
  close(): Promise<void>;
}

/** What the engine gives a runner factory: the sizes it resolved and the account gate of the run. */
export interface BatchRunnerContext {
  workers: number;
  tasksPerWorker: number;
  gate: RateGate;
}

/** Builds the runner of one coordinator. */
export type BatchRunnerFactory = (context: BatchRunnerContext) => BatchRunner;
