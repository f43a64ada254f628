/**
 * What travels on the queue for one batch: the same plain task a worker thread gets
 * (`WorkerTask`), minus what cannot or must not leave the submitting process: no MessagePort
 * (a queue worker takes permits from the shared Redis gate) and no credentials (a queue
 * worker signs with its own AWS credential chain; secrets never sit in Redis).
 */
import type { OperationName } from '../../client/index.js';
import type { TargetItem, TaskKind, ThingLimits, WorkerClientConfig, WorkerTask } from '../task-types.js';

/** The rate options that travel with a batch (plain data: no clock). */
export interface QueuedRates {
  accountRps?: number | 'off';
  operations?: Partial<Record<OperationName, number | 'off'>>;
  permitBatch?: number;
  burstSeconds?: number;
  decreaseFactor?: number;
  decreaseCooldownMs?: number;
  increaseShare?: number;
  minShare?: number;
}

export interface QueuedBatch<C = unknown> {
  runId: string;
  seq: number;
  kind: TaskKind;
  config: C;
  client: Omit<WorkerClientConfig, 'credentials'>;
  items: TargetItem[];
  /** The account quota, shared through Redis by every worker; 'off' = not gated. */
  rates: QueuedRates | 'off';
  thingLimits: ThingLimits;
  /** The lane of the run (one per JobRun of a job with several; see QueueBatchRunnerOptions.lane). */
  lane?: string;
}

/** What a queued batch is made from: a pool task or the engine's BatchTask (the port, if any, stays behind). */
export type QueueableTask<C> = Pick<WorkerTask<C>, 'kind' | 'config' | 'client' | 'items' | 'thingLimits'>;

/** The queued form of a pool task. */
export function toQueuedBatch<C>(
  task: QueueableTask<C>,
  runId: string,
  seq: number,
  rates: QueuedRates | 'off',
): QueuedBatch<C> {
  const { credentials: _secret, ...client } = task.client;
  return {
    runId,
    seq,
    kind: task.kind,
    config: task.config,
    client,
    items: task.items,
    rates,
    thingLimits: task.thingLimits ?? { thingRps: 0, thingInFlight: 0 },
  };
}
