/**
 * shadowfleet/queue: beyond one machine. A job's batches on a BullMQ queue (QueueBatchRunner,
 * QueueWorker), run records for status/attach/cancel (RunStore), and the account quota shared
 * through Redis (RedisRateGate, bottleneck's clustering), and the placement that gives a job
 * all of it (queuePlacement). A public entry point of its own, so
 * that BullMQ and ioredis load only for a program that runs on Redis, never with the package
 * root; the CLI imports it only when `--redis` is given. test/api/public-surface.test.ts pins
 * the runtime names.
 */
export {
  /** Opens an ioredis connection and waits until it is ready; the error names the URL (without its password). */
  connectRedis,
  /** The URL without its password, for messages. */
  redactRedisUrl,
  /** The ioredis options of a URL (host, port, user, password, db, TLS), as handed to BullMQ. */
  redisConnectionFromUrl,
  /** Checks a Redis URL once; the message names the option it came from. */
  validateRedisUrl,
  /** Counts Redis commands sent by the clients it is attached to. */
  RedisCallCounter,
  /** The Redis connections' defaults (connect timeout, reconnect attempts). */
  DEFAULT_REDIS_CONNECTION_OPTIONS,
  type RedisConnectionOptions,
} from './redis-connection.js';
export {
  /** The account quota shared by every process through Redis (bottleneck's clustering), permits in batches. */
  RedisRateGate,
  /** The limiter key of an account: the endpoint's host (and port), lower case. */
  gateAccountKey,
  /** The permits taken per Redis call at a given rate. */
  redisPermitBatch,
  /** RedisRateGate's defaults. */
  DEFAULT_REDIS_RATE_GATE_OPTIONS,
  type RedisRateGateOptions,
} from './redis-rate-gate.js';
export {
  /** Where one queue's records live. */
  QueueNames,
  /** The queue name when none is given. */
  DEFAULT_QUEUE_NAME,
  /** The Redis key prefix of every queue. */
  DEFAULT_QUEUE_PREFIX,
  /** A new run id: time-ordered and unique enough across hosts. */
  newRunId,
  /** Checks a queue name; the message names the option. */
  validateQueueName,
  /** Checks a run id. */
  validateRunId,
} from './queue-names.js';
export {
  /** The queued form of a pool task. */
  toQueuedBatch,
  type QueuedBatch,
  type QueuedRates,
} from './queued-batch.js';
export {
  /** The run records status, attach and cancel read: state, progress, workers' throughput. */
  RunStore,
  type RunRecordInit,
  type RunState,
  type RunStatus,
  type WorkerThroughput,
} from './run-store.js';
export {
  /** Runs a job's batches on the queue: a BatchRunner the engine is given in place of the thread pool. */
  QueueBatchRunner,
  /** Cancels a run: its queued batches are removed and the workers and the submitter stop it. */
  cancelRun,
  type QueueBatchRunnerOptions,
} from './queue-batch-runner.js';
export {
  /** Takes batches from the queue and runs them with the task handlers (`shadowfleet worker`). */
  QueueWorker,
  /** QueueWorker's defaults. */
  DEFAULT_QUEUE_WORKER_OPTIONS,
  type QueueWorkerOptions,
} from './queue-worker.js';
/** The thread pool's task handlers (workers/handlers/index), loaded from beside the pool's worker file. */
export { loadTaskHandlers } from '../worker-file.js';
/** The Redis URL of `--redis` or SHADOWFLEET_REDIS. */
export { redisUrlFrom } from './redis-url-from.js';
/**
 * Where a job's batches run is the job's own option (`placement`, in every job's options and
 * in JobRunOptions): `queuePlacement({ redisUrl, queue })` puts them on the queue. One
 * placement is one submission, one run id (`placement.runId`), however many JobRuns the job
 * opens (each a lane of the run, each with the Redis gate of its own account endpoint);
 * `await placement.finish()` once the job has returned.
 *
 * ```ts
 * const placement = queuePlacement({ redisUrl: 'redis://127.0.0.1:6379', queue: 'team-a' });
 * try {
 *   await runRollout({ ...options, placement });
 * } finally {
 *   await placement.finish();
 * }
 * ```
 */
export { queuePlacement, type QueuePlacement, type QueuePlacementOptions } from './queue-placement.js';
export type { JobPlacement, Placement, JobPlacementContext } from '../job-placement.js';
