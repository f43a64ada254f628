/**
 * Where a job's batches run: a per-job choice, given with the job's options
 * (`JobRunOptions.placement`, and `placement` in the options of every job, which hands it to
 * each JobRun it opens). Without one, a JobRun uses the thread pool of this process and the
 * in-process rate gate. The command line builds one from `--redis` (the queue, see
 * queue/queue-placement.ts) and gives it to the job it runs; nothing is process-wide.
 *
 * A job may open several JobRuns (sync: one per side; a multi-account plan: one per account):
 * it passes the same placement to each. The placement is called once per JobRun, with that
 * run's client (so its account endpoint) and rates, and decides what they share: the queue
 * placement queues every JobRun's batches under one run id (one submission, one id for
 * status, attach and cancel) and gives each JobRun the shared gate of its own account.
 */
import type { BatchRunnerFactory } from './batch-runner.js';
import type { RateGate, RateGateOptions } from './rate-gate.js';
import type { WorkerClientConfig } from './task-types.js';

/** What a placement is told about one JobRun. */
export interface JobPlacementContext {
  /** The run's client: its endpoint names the account whose quota the run's gate holds. */
  client: WorkerClientConfig;
  rates: RateGateOptions | 'off' | undefined;
}

/** Where one JobRun's batches run, and the gate it uses. */
export interface Placement {
  runner: BatchRunnerFactory;
  /** The account gate of the run (e.g. shared through Redis); absent = the in-process gate. The runner closes it. */
  gate?: RateGate;
  /**
   * Batches in flight when the JobRun does not say (`maxBatchesInFlight`): where batches run
   * elsewhere, what those workers can hold, not this host's threads. Absent: this host's.
   */
  maxBatchesInFlight?: number;
}

/** Called once for each JobRun the job opens (in the order the job opens them). */
export type JobPlacement = (context: JobPlacementContext) => Placement;
