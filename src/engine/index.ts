/**
 * The bulk engine: coordinator, worker pool, rate gates, target sources and journal.
 */
export * from './task-types.js';
export { workerFile, workerPath, type WorkerFile } from './worker-file.js';
export {
  Coordinator,
  DEFAULT_COORDINATOR_OPTIONS,
  type CoordinatorOptions,
  type ResolvedCoordinatorOptions,
  type RunStats,
} from './coordinator.js';
export {
  DEFAULT_RATE_GATE_OPTIONS,
  resolveRateGateOptions,
  defaultPermitBatch,
  type RateGate,
  type RateGateOptions,
  type RateGateStats,
  type OperationGateStats,
  type ResolvedRateGateOptions,
  type ThingLimitOptions,
} from './rate-gate.js';
export { BottleneckRateGate } from './bottleneck-rate-gate.js';
export { AimdRate, type AimdRateOptions } from './aimd-rate.js';
export { ThingLimiter, type ThingLimiterOptions } from './thing-limiter.js';
export { PortWorkerGate } from './port-worker-gate.js';
export { GatePortServer } from './gate-port-server.js';
export type { GateRequest, GateReply } from './gate-messages.js';
export { IterableBatchSource, isBatchSource, type BatchSource } from './batch-source.js';
export {
  readTargets,
  splitCsvLine,
  type ReadTargetsOptions,
  type TargetFormat,
  type TargetProblem,
} from './targets.js';
export { forEachConcurrent } from './for-each-concurrent.js';
export {
  Journal,
  DEFAULT_JOURNAL_OPTIONS,
  loadCompleted,
  readJournal,
  specHash,
  type JournalHeader,
  type JournalOptions,
  type JournalContents,
} from './journal.js';
export {
  JobRun,
  runJob,
  jobClientConfig,
  defaultRegion,
  type JobRunOptions,
  type JobDefinition,
  type JobClientOptions,
} from './job-run.js';
export type { BatchRunner, BatchRunnerFactory, BatchRunnerContext, BatchTask } from './batch-runner.js';
export { PoolBatchRunner, type PoolBatchRunnerOptions } from './pool-batch-runner.js';
export { OutcomeTally } from './outcome-tally.js';
export { ITEM_OUTCOMES, isItemOutcome, type ItemOutcome, type OutcomeCounts } from './item-outcome.js';
export { RampSchedule, estimateSeconds, type RampOptions } from './ramp-schedule.js';
export { AbortCriteria, FAILURE_TYPES, failureType, type AbortCriterion, type FailureType } from './abort-criteria.js';
