/**
 * Beyond one machine: a job's batches on a BullMQ queue (QueueBatchRunner, QueueWorker), run
 * records for status/attach/cancel (RunStore), and the account quota shared through Redis
 * (RedisRateGate, bottleneck's clustering). Nothing here is loaded unless `--redis` is given.
 */
export { connectRedis, redactRedisUrl, redisConnectionFromUrl, validateRedisUrl, RedisCallCounter, DEFAULT_REDIS_CONNECTION_OPTIONS, type RedisConnectionOptions } from './redis-connection.js';
export { RedisRateGate, gateAccountKey, redisPermitBatch, DEFAULT_REDIS_RATE_GATE_OPTIONS, type RedisRateGateOptions } from './redis-rate-gate.js';
export { QueueNames, DEFAULT_QUEUE_NAME, DEFAULT_QUEUE_PREFIX, newRunId, validateQueueName, validateRunId } from './queue-names.js';
export { toQueuedBatch, type QueuedBatch, type QueuedRates } from './queued-batch.js';
export { RunStore, type RunRecordInit, type RunState, type RunStatus, type WorkerThroughput } from './run-store.js';
export { QueueBatchRunner, cancelRun, type QueueBatchRunnerOptions } from './queue-batch-runner.js';
export { QueueWorker, loadTaskHandlers, DEFAULT_QUEUE_WORKER_OPTIONS, type QueueWorkerOptions } from './queue-worker.js';
export { redisUrlFrom } from './redis-url-from.js';
export { queuePlacement, type QueuePlacementOptions } from './queue-placement.js';
export { setJobPlacement, jobPlacement, type JobPlacement, type Placement, type JobPlacementContext } from '../job-placement.js';
