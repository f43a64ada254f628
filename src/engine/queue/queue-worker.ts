/**
 * The worker side of the batch queue (`shadowfleet worker`): takes batches from a BullMQ queue,
 * runs each with the task handlers the thread pool uses (workers/handlers), with this process's
 * own client (credentials from its own AWS chain: none travel on the queue), its own per-thing
 * limits, and account permits from the shared Redis rate gate; returns the per-thing results
 * as the batch's return value and counts them in the run record.
 *
 * One process works on `concurrency` batches at once on its main thread (the handlers are
 * asynchronous; signing is the CPU cost: run one worker process per core).
 * A batch held by a worker that dies is moved back to the queue by another worker's stalled
 * check after `lockDurationMs`; version guards and clientTokens make the repeat safe, and the
 * run record counts each batch once.
 * SIGTERM (close()): takes no new batch, finishes the ones in hand, then stops.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { IotDataClient } from '../../client/index.js';
import { newBatchClient } from '../batch-client.js';
import { InvalidArgumentError, WorkerError } from '../../errors.js';
import type { RateGate } from '../rate-gate.js';
import { loadTaskHandlers } from '../worker-file.js';
import { BottleneckRateGate } from '../bottleneck-rate-gate.js';
import type { ItemResult, TaskHandler } from '../task-types.js';
import type { TaskHandlers } from '../task-runner.js';
import type { QueuedBatch } from './queued-batch.js';
import { DEFAULT_QUEUE_NAME, DEFAULT_QUEUE_PREFIX, QueueNames } from './queue-names.js';
import { QueueWorkerGate } from './queue-worker-gate.js';
import { connectRedis, RedisCallCounter, redisConnectionFromUrl, validateRedisUrl } from './redis-connection.js';
import { RedisRateGate } from './redis-rate-gate.js';
import { RunStore } from './run-store.js';

export interface QueueWorkerOptions {
  redisUrl: string;
  /** The task handlers by kind. Default: the thread pool's, workers/handlers/index (loadTaskHandlers in worker-file.ts). */
  handlers?: TaskHandlers;
  queue?: string;
  prefix?: string;
  /** Batches worked on at once. Default 2. */
  concurrency?: number;
  /** A batch's lock; a dead worker's batch is taken again after this. Default 30000 ms. */
  lockDurationMs?: number;
  /** How often stalled batches are looked for. Default lockDurationMs / 2. */
  stalledIntervalMs?: number;
  /** Name in logs and status. Default host:pid. */
  workerId?: string;
  /** JSON-lines log sink. Default: none. */
  log?: (entry: Record<string, unknown>) => void;
  counter?: RedisCallCounter;
  connectTimeoutMs?: number;
  /** Gate prefix on Redis (the rate gates of every queue on the same account are shared). Default 'shadowfleet'. */
  gatePrefix?: string;
}

export const DEFAULT_QUEUE_WORKER_OPTIONS = Object.freeze({ concurrency: 2, lockDurationMs: 30_000 });

/** One account's gate in this process: the shared Redis gate, asked directly by the handlers' clients. */
interface AccountGate {
  gate: RateGate;
  workerGate: QueueWorkerGate;
  clients: Map<string, IotDataClient>;
}

export class QueueWorker {
  readonly workerId: string;
  readonly names: QueueNames;
  #o: QueueWorkerOptions;
  #redis: Redis;
  #subscriber: Redis;
  #store: RunStore;
  #worker: Worker<QueuedBatch, ItemResult[]> | undefined;
  #gates = new Map<string, AccountGate>();
  #active = new Map<string, { runId: string; abort: AbortController }>();
  #log: (entry: Record<string, unknown>) => void;
  #closing: Promise<void> | undefined;
  batchesDone = 0;
  itemsDone = 0;

  private constructor(o: QueueWorkerOptions, names: QueueNames, redis: Redis, subscriber: Redis) {
    this.#o = o;
    this.names = names;
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.#store = new RunStore(redis, names);
    this.workerId = o.workerId ?? `${hostname()}:${process.pid}`;
    this.#log = o.log ?? (() => undefined);
  }

  /** Connects (failing fast with the URL named) and starts taking batches. */
  static async start(o: QueueWorkerOptions): Promise<QueueWorker> {
    const url = validateRedisUrl(o.redisUrl);
    if (o.handlers !== undefined && (typeof o.handlers !== 'object' || o.handlers === null))
      throw new InvalidArgumentError('QueueWorkerOptions.handlers must map task kinds to handlers');
    const handlers = o.handlers ?? (await loadTaskHandlers());
    const concurrency = o.concurrency ?? DEFAULT_QUEUE_WORKER_OPTIONS.concurrency;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1)
      throw new InvalidArgumentError(`--concurrency must be a positive integer, got ${JSON.stringify(o.concurrency)}`);
    const lockDuration = o.lockDurationMs ?? DEFAULT_QUEUE_WORKER_OPTIONS.lockDurationMs;
    if (!Number.isSafeInteger(lockDuration) || lockDuration < 100)
      throw new InvalidArgumentError(
        `lockDurationMs must be an integer >= 100, got ${JSON.stringify(o.lockDurationMs)}`,
      );
    const names = new QueueNames(o.queue ?? DEFAULT_QUEUE_NAME, o.prefix ?? DEFAULT_QUEUE_PREFIX);
    const counter = o.counter ?? new RedisCallCounter();
    const conn: { counter: RedisCallCounter; connectTimeoutMs?: number } = { counter };
    if (o.connectTimeoutMs !== undefined) conn.connectTimeoutMs = o.connectTimeoutMs;
    const redis = await connectRedis(url, conn);
    const subscriber = redis.duplicate();
    subscriber.on('error', () => undefined);
    await subscriber.subscribe(names.control());
    const w = new QueueWorker({ ...o, handlers, counter }, names, redis, subscriber);
    subscriber.on('message', (_c: string, m: string) => {
      if (m.startsWith('cancel ')) w.#cancel(m.slice(7));
    });
    w.#worker = new Worker<QueuedBatch, ItemResult[]>(names.queue, (job) => w.#process(job), {
      connection: redisConnectionFromUrl(url, { maxRetriesPerRequest: null }),
      prefix: names.prefix,
      concurrency,
      lockDuration,
      stalledInterval: o.stalledIntervalMs ?? Math.max(100, Math.floor(lockDuration / 2)),
      // A batch may stall a few times (workers killed one after another) before it is failed.
      maxStalledCount: 5,
    });
    w.#worker.on('error', (err) => w.#log({ level: 'error', msg: 'queue error', error: err.message }));
    w.#worker.on('stalled', (jobId) => w.#log({ level: 'warn', msg: 'batch stalled; queued again', batch: jobId }));
    await w.#worker.waitUntilReady();
    // Count BullMQ's own round trips too (its command and blocking connections).
    counter.attach((await w.#worker.client) as unknown as Redis);
    const blocking = (w.#worker as unknown as { blockingConnection?: { client: Promise<Redis> } }).blockingConnection;
    if (blocking !== undefined) counter.attach(await blocking.client);
    w.#log({
      level: 'info',
      msg: 'worker started',
      worker: w.workerId,
      queue: names.queue,
      concurrency,
      lockDurationMs: lockDuration,
    });
    return w;
  }

  /** Stops taking batches, finishes those in hand, and closes. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#log({
        level: 'info',
        msg: 'worker stopping after its current batches',
        worker: this.workerId,
        active: this.#active.size,
      });
      await this.#worker?.close();
      for (const g of this.#gates.values()) {
        await g.gate.close();
        for (const c of g.clients.values()) await c.close();
      }
      this.#subscriber.disconnect();
      this.#redis.disconnect();
      // Redis calls of the shared gates and the run records (BullMQ's own connections not counted).
      this.#log({
        level: 'info',
        msg: 'worker stopped',
        worker: this.workerId,
        batches: this.batchesDone,
        items: this.itemsDone,
        redisCalls: this.#o.counter?.calls,
      });
    })();
    return this.#closing;
  }

  async #process(job: Job<QueuedBatch, ItemResult[]>): Promise<ItemResult[]> {
    const b = job.data;
    const id = job.id ?? this.names.batchId(b.runId, b.seq);
    if ((await this.#store.state(b.runId)) === 'cancelled') {
      this.#log({ level: 'info', msg: 'batch of a cancelled job skipped', batch: id, job: b.runId });
      return [];
    }
    const handler = this.#o.handlers?.[b.kind] as TaskHandler<unknown> | undefined;
    if (handler === undefined) throw new WorkerError(`no worker handler for task kind "${b.kind}"`);
    const abort = new AbortController();
    // Every item of the batch in flight listens for the cancel: more than EventTarget's default 10.
    setMaxListeners(0, abort.signal);
    this.#active.set(id, { runId: b.runId, abort });
    const started = Date.now();
    this.#log({
      level: 'info',
      msg: 'batch started',
      batch: id,
      job: b.runId,
      kind: b.kind,
      items: b.items.length,
      attempt: job.attemptsStarted,
    });
    try {
      const g = this.#gateFor(b);
      g.workerGate.configure(b.thingLimits);
      const results = await handler(b.items, {
        config: b.config,
        client: this.#clientFor(g, b),
        gate: g.workerGate,
        signal: abort.signal,
      });
      if (!Array.isArray(results) || results.length !== b.items.length)
        throw new WorkerError(
          `handler returned ${Array.isArray(results) ? results.length : typeof results} results for ${b.items.length} items`,
        );
      const ms = Date.now() - started;
      await this.#store.recordBatch(b.runId, b.seq, this.workerId, results, ms);
      this.batchesDone += 1;
      this.itemsDone += results.length;
      this.#log({
        level: 'info',
        msg: 'batch done',
        batch: id,
        job: b.runId,
        kind: b.kind,
        items: results.length,
        ms,
        attempt: job.attemptsStarted,
      });
      return results;
    } finally {
      this.#active.delete(id);
    }
  }

  #cancel(runId: string): void {
    for (const [id, a] of this.#active) {
      if (a.runId !== runId) continue;
      this.#log({ level: 'info', msg: 'batch aborted: job cancelled', batch: id, job: runId });
      a.abort.abort(new Error(`job ${runId} was cancelled`));
    }
  }

  /** The gate of the batch's account and rates, made once per process. */
  #gateFor(b: QueuedBatch): AccountGate {
    const key = JSON.stringify([b.client.endpoint, b.rates]);
    let g = this.#gates.get(key);
    if (g !== undefined) return g;
    const gate: RateGate =
      b.rates === 'off'
        ? new BottleneckRateGate('off')
        : new RedisRateGate({
            ...b.rates,
            redis: this.#redis,
            redisUrl: this.#o.redisUrl,
            account: b.client.endpoint,
            onWarning: (message) => this.#log({ level: 'warn', msg: message }),
            ...(this.#o.gatePrefix === undefined ? {} : { prefix: this.#o.gatePrefix }),
          });
    g = { gate, workerGate: new QueueWorkerGate(gate), clients: new Map() };
    this.#gates.set(key, g);
    return g;
  }

  /** One client per client config and account gate, its hooks wired to the gate. */
  #clientFor(g: AccountGate, b: QueuedBatch): IotDataClient {
    const key = JSON.stringify(b.client);
    let client = g.clients.get(key);
    if (client !== undefined) return client;
    // A queued batch carries no credentials: a profile or role the job names is resolved from
    // this host's own AWS files and chain, else the client takes this process's chain.
    client = newBatchClient(b.client, g.workerGate);
    g.clients.set(key, client);
    return client;
  }
}
