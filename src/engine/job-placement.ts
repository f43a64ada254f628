/**
 * Where the engine runs a job's batches when the job does not say: the process-wide placement.
 * Unset (the default), every JobRun uses the thread pool and the in-process gate. The command
 * line sets it once when `--redis` (or SHADOWFLEET_REDIS) is given, so rollout, snapshot,
 * restore, diff --live and bench run on the queue without any job knowing: a job is defined
 * once and the engine decides where its batches run.
 */
import type { BatchRunnerFactory } from './batch-runner.js';
import type { RateGate, RateGateOptions } from './rate-gate.js';
import type { WorkerClientConfig } from './task-types.js';

export interface JobPlacementContext {
  client: WorkerClientConfig;
  rates: RateGateOptions | 'off' | undefined;
}

export interface Placement {
  runner: BatchRunnerFactory;
  /** The account gate of the run (e.g. shared through Redis); absent = the in-process gate. The runner closes it. */
  gate?: RateGate;
}

export type JobPlacement = (context: JobPlacementContext) => Placement;

let current: JobPlacement | undefined;

/** Sets (or with undefined, clears) the placement of every JobRun built from now on without a runner of its own. */
export function setJobPlacement(placement: JobPlacement | undefined): void {
  current = placement;
}

export function jobPlacement(): JobPlacement | undefined {
  return current;
}
