/**
 * The submitting side of the batch queue: runs a job's batches on a BullMQ queue instead of
 * the local thread pool. `run(task)` puts one batch on the queue and resolves with its
 * per-thing results when a `shadowfleet worker` (any host) has done it: the same contract as
 * the pool's `run(task)`.
 *
 * Results come back through QueueEvents ('completed' / 'failed'), with a sweep that reads the
 * state of every batch still awaited (a missed event, a reconnect) so nothing waits for ever.
 * A batch whose worker died (SIGKILL) is moved back to the queue by BullMQ's stalled-job check
 * on another worker and done again; the submitter just keeps waiting for it.
 * A collected batch is removed from Redis once its results are handed over: from then on the
 * submitter's journal holds them (see run-store.ts for what is kept where).
 */
import { hostname } from 'node:os';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { AbortError, ConfigError, InvalidArgumentError, WorkerError } from '../../errors.js';
import type { ItemResult } from '../task-types.js';
import { itemKey } from '../task-types.js';
import { toQueuedBatch, type QueueableTask, type QueuedBatch, type QueuedRates } from './queued-batch.js';
import { newRunId, QueueNames, validateRunId, DEFAULT_QUEUE_NAME, DEFAULT_QUEUE_PREFIX } from './queue-names.js';
import {
  connectRedis,
  redactRedisUrl,
  redisConnectionFromUrl,
  validateRedisUrl,
  type RedisCallCounter,
} from './redis-connection.js';
import { RunStore, type RunRecordInit, type RunState, type RunStatus } from './run-store.js';

export interface QueueBatchRunnerOptions {
  redisUrl: string;
  /** Queue name (`--queue`). Default 'shadowfleet'. */
  queue?: string;
  /** Key prefix. Default 'shadowfleet'. */
  prefix?: string;
  /** Follow (attach to) this existing run instead of creating one. */
  runId?: string;
  /** Identity of a new run. */
  run?: RunRecordInit;
  /** The id of the new run (e.g. chosen before a detached submitter starts). Default: a new one. */
  newRunId?: string;
  /**
   * The part of the run this runner queues (a job with several JobRuns queues them all under one
   * run id, one lane each). Travels with each batch; `adopt` collects only its own lane's batches.
   */
  lane?: string;
  /** The account quota the workers apply through the shared Redis gate. Default: AWS's (4,000/s). */
  rates?: QueuedRates | 'off';
  /** How long a collected batch stays in Redis (for a take-over after a crash before the journal write). Default 10000 ms. */
  retainCollectedMs?: number;
  /** How often awaited batches are checked besides events. Default 1000 ms. */
  sweepIntervalMs?: number;
  connectTimeoutMs?: number;
  counter?: RedisCallCounter;
}

interface Waiter {
  resolve: (r: ItemResult[]) => void;
  reject: (e: unknown) => void;
  since: number;
}

export class QueueBatchRunner {
  readonly runId: string;
  readonly names: QueueNames;
  readonly store: RunStore;
  #url: string;
  #redis: Redis;
  #subscriber: Redis;
  #queue: Queue<QueuedBatch>;
  #events: QueueEvents;
  #rates: QueuedRates | 'off';
  #lane: string | undefined;
  #waiters = new Map<string, Waiter>();
  #sweep: NodeJS.Timeout;
  #cancelled = false;
  #cancelListeners: Array<() => void> = [];
  #closed = false;

  private constructor(
    runId: string,
    names: QueueNames,
    url: string,
    redis: Redis,
    subscriber: Redis,
    queue: Queue<QueuedBatch>,
    events: QueueEvents,
    o: QueueBatchRunnerOptions,
  ) {
    this.runId = runId;
    this.names = names;
    this.#url = url;
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.store = new RunStore(redis, names);
    this.#queue = queue;
    this.#events = events;
    this.#rates = o.rates ?? {};
    this.#lane = o.lane;
    this.#retainMs = o.retainCollectedMs ?? 10_000;
    this.#sweepAfterMs = 3 * (o.sweepIntervalMs ?? 1000);
    events.on('completed', ({ jobId, returnvalue }) => this.#settle(jobId, returnvalue));
    events.on('failed', ({ jobId, failedReason }) =>
      this.#fail(jobId, new WorkerError(`batch ${jobId} failed on a worker: ${failedReason}`)),
    );
    subscriber.on('message', (_channel: string, message: string) => {
      if (message === `cancel ${this.runId}`) this.#onCancel();
    });
    this.#sweep = setInterval(() => void this.#sweepOnce().catch(() => undefined), o.sweepIntervalMs ?? 1000);
    this.#sweep.unref();
  }

  /** Connects (failing fast, naming the URL), then creates the run or checks that `runId` exists. */
  static async open(o: QueueBatchRunnerOptions): Promise<QueueBatchRunner> {
    const url = validateRedisUrl(o.redisUrl);
    const names = new QueueNames(o.queue ?? DEFAULT_QUEUE_NAME, o.prefix ?? DEFAULT_QUEUE_PREFIX);
    const conn: { counter?: RedisCallCounter; connectTimeoutMs?: number } = {};
    if (o.counter !== undefined) conn.counter = o.counter;
    if (o.connectTimeoutMs !== undefined) conn.connectTimeoutMs = o.connectTimeoutMs;
    const redis = await connectRedis(url, conn);
    const store = new RunStore(redis, names);
    let runId: string;
    if (o.runId !== undefined) {
      runId = validateRunId(o.runId);
      if (!(await store.exists(runId))) {
        redis.disconnect();
        throw new InvalidArgumentError(`no job "${runId}" on queue "${names.queue}" at ${redactRedisUrl(url)}`);
      }
      await store.setSubmitter(runId, submitterName());
    } else {
      if (o.run === undefined) throw new InvalidArgumentError('QueueBatchRunnerOptions.run is required for a new run');
      runId = o.newRunId ?? newRunId();
      // A detached submitter's record was made by its parent: keep it (attach may be following).
      if (o.newRunId !== undefined && (await store.exists(runId))) await store.setSubmitter(runId, submitterName());
      else await store.create(runId, o.run, submitterName());
    }
    const subscriber = redis.duplicate();
    subscriber.on('error', () => undefined);
    await subscriber.subscribe(names.control());
    const connection = redisConnectionFromUrl(url, { maxRetriesPerRequest: null });
    const queue = new Queue<QueuedBatch>(names.queue, { connection, prefix: names.prefix });
    const events = new QueueEvents(names.queue, { connection, prefix: names.prefix });
    queue.on('error', () => undefined);
    events.on('error', () => undefined);
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    } catch (err) {
      throw new ConfigError(
        `Redis at ${redactRedisUrl(url)} is unreachable: ${(err as Error)?.message ?? String(err)}`,
        { cause: err },
      );
    }
    if (o.counter !== undefined)
      for (const c of await Promise.all([queue.client, events.client])) o.counter.attach(c as unknown as Redis);
    const runner = new QueueBatchRunner(runId, names, url, redis, subscriber, queue, events, o);
    if ((await store.state(runId)) === 'cancelled') runner.#onCancel();
    return runner;
  }

  /** True once the run was cancelled (here or from elsewhere). */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Calls `listener` once when the run is cancelled from anywhere. */
  onCancel(listener: () => void): void {
    if (this.#cancelled) listener();
    else this.#cancelListeners.push(listener);
  }

  /**
   * Puts one batch on the queue; resolves with one result per item when a worker has done it.
   * Items whose result was adopted from an earlier submitter of this run (see `adopt`) are
   * answered from it and not queued again.
   */
  async run<C>(task: QueueableTask<C>): Promise<ItemResult[]> {
    if (this.#cancelled) throw new AbortError(`job ${this.runId} was cancelled`);
    let items = task.items;
    const held: ItemResult[] = [];
    if (this.#adopted.size > 0) {
      items = [];
      for (const it of task.items) {
        const r = this.#adopted.get(itemKey(it));
        if (r === undefined) items.push(it);
        else {
          this.#adopted.delete(itemKey(it));
          held.push(r);
        }
      }
      if (items.length === 0) return held;
    }
    // A lane of a run with several (see `lane`) leaves the run's kind as its submission named it.
    if (!this.#kindKnown && this.#lane === undefined) {
      this.#kindKnown = true;
      await this.#redis.hset(this.names.run(this.runId), 'kind', task.kind);
    }
    const seq = await this.store.nextBatch(this.runId, items.length);
    const id = this.names.batchId(this.runId, seq);
    const done = this.#wait(id);
    const batch = toQueuedBatch({ ...task, items }, this.runId, seq, this.#rates) as QueuedBatch;
    if (this.#lane !== undefined) batch.lane = this.#lane;
    await this.#queue.add('batch', batch, {
      jobId: id,
      removeOnComplete: false,
      removeOnFail: false,
      attempts: 1,
    });
    const results = await done;
    return held.length === 0 ? results : [...held, ...results];
  }

  /** Results adopted from an earlier submitter and not yet asked for, by item key. */
  #adopted = new Map<string, ItemResult>();
  #kindKnown = false;

  /**
   * Take over a run whose submitter died: waits for every batch it queued and did not collect
   * (waiting, running or done) and keeps their results; the resumed job then gets them from
   * `run` for those things instead of queueing them again, so each thing is counted once, with
   * the outcome its first run had. Returns the number of results kept.
   */
  async adoptOutstanding(): Promise<number> {
    await this.adopt((results) => {
      for (const r of results) this.#adopted.set(itemKey(r), r);
    });
    return this.#adopted.size;
  }

  /**
   * Collects the batches an earlier submitter of this run queued and did not collect (attach
   * after the submitter died): each one's results are passed to `onResults` once, in the order
   * they finish. Batches already collected are in that submitter's journal.
   */
  async adopt(onResults: (results: ItemResult[], seq: number) => void | Promise<void>): Promise<number> {
    const status = await this.status();
    const batches = status?.batches ?? 0;
    let chain = Promise.resolve();
    const waits: Promise<void>[] = [];
    for (let seq = 0; seq < batches; seq++) {
      const id = this.names.batchId(this.runId, seq);
      const state = await this.#queue.getJobState(id);
      if (state === 'unknown') continue;
      if (this.#lane !== undefined && (await this.#queue.getJob(id))?.data.lane !== this.#lane) continue;
      waits.push(
        this.#wait(id).then((results) => {
          chain = chain.then(() => onResults(results, seq));
          return chain;
        }),
      );
      // Already finished before we listened: the sweep would find it too, but do not wait a period.
      if (state === 'completed' || state === 'failed') void this.#check(id);
    }
    await Promise.all(waits);
    return waits.length;
  }

  async markSourceDone(): Promise<void> {
    await this.store.markSourceDone(this.runId);
  }

  async status(): Promise<RunStatus | undefined> {
    return this.store.status(this.runId);
  }

  /** Records how the run ended; 'running': this runner's lane is over, the run goes on (another lane). */
  async finish(state: RunState): Promise<void> {
    if (state === 'running') return this.#removeCollected(true);
    await this.store.markSourceDone(this.runId);
    await this.#removeCollected(true);
    if ((await this.store.state(this.runId)) !== 'cancelled') await this.store.setState(this.runId, state);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    const err = new AbortError('the queue runner was closed');
    for (const w of this.#waiters.values()) w.reject(err);
    this.#waiters.clear();
    await Promise.allSettled([this.#events.close(), this.#queue.close()]);
    this.#subscriber.disconnect();
    this.#redis.disconnect();
  }

  #wait(id: string): Promise<ItemResult[]> {
    return new Promise<ItemResult[]>((resolve, reject) =>
      this.#waiters.set(id, { resolve, reject, since: Date.now() }),
    );
  }

  #settle(id: string, value: unknown): void {
    const w = this.#waiters.get(id);
    if (w === undefined) return;
    this.#waiters.delete(id);
    let results = value;
    if (typeof results === 'string') {
      try {
        results = JSON.parse(results);
      } catch {
        // reported below as a malformed result
      }
    }
    if (!Array.isArray(results)) {
      w.reject(new WorkerError(`batch ${id} came back without results`));
      return;
    }
    w.resolve(results as ItemResult[]);
    // Handed over; the journal keeps it from here. Kept in Redis a while longer all the same: a
    // submitter killed before its journal write leaves it for the one that takes over.
    this.#collected.push({ id, at: Date.now() });
  }

  #fail(id: string, err: Error): void {
    const w = this.#waiters.get(id);
    if (w === undefined) return;
    this.#waiters.delete(id);
    w.reject(err);
    void this.#queue.remove(id).catch(() => undefined);
  }

  async #check(id: string): Promise<void> {
    const state = await this.#queue.getJobState(id);
    if (state === 'completed') {
      const job = await this.#queue.getJob(id);
      if (job !== undefined) this.#settle(id, job.returnvalue);
    } else if (state === 'failed') {
      const job = await this.#queue.getJob(id);
      this.#fail(id, new WorkerError(`batch ${id} failed on a worker: ${job?.failedReason ?? 'unknown reason'}`));
    } else if (state === 'unknown' && this.#waiters.has(id)) {
      const cancelled = (await this.store.state(this.runId)) === 'cancelled';
      if (cancelled) this.#onCancel();
      else
        this.#fail(
          id,
          new WorkerError(
            `batch ${id} is no longer on queue "${this.names.queue}" at ${redactRedisUrl(this.#url)} (was Redis restarted? it keeps nothing on disk)`,
          ),
        );
    }
  }

  /** Batches collected, removed from Redis `retainCollectedMs` later. */
  #collected: Array<{ id: string; at: number }> = [];
  #retainMs: number;
  #sweepAfterMs: number;

  async #removeCollected(all: boolean): Promise<void> {
    const before = Date.now() - this.#retainMs;
    while (this.#collected.length > 0 && (all || (this.#collected[0] as { at: number }).at <= before)) {
      const { id } = this.#collected.shift() as { id: string };
      await this.#queue.remove(id).catch(() => undefined);
    }
  }

  async #sweepOnce(): Promise<void> {
    if (this.#closed) return;
    await this.#removeCollected(false);
    // The submitter's heartbeat: `attach` takes over a run whose submitter stopped beating.
    await this.#redis.hset(this.names.run(this.runId), 'submitterSeenAt', Date.now());
    // Events bring nearly every result: only batches awaited for a while are looked up (a
    // Redis call each), so the sweep costs little while events flow.
    const before = Date.now() - this.#sweepAfterMs;
    for (const [id, w] of [...this.#waiters]) if (w.since <= before) await this.#check(id);
  }

  #onCancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const err = new AbortError(`job ${this.runId} was cancelled`);
    for (const w of this.#waiters.values()) w.reject(err);
    this.#waiters.clear();
    for (const l of this.#cancelListeners.splice(0)) l();
  }
}

function submitterName(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Cancels a run from anywhere: marks it cancelled, removes its batches still waiting and tells
 * workers (they abort the batches of the run they are doing) and the submitter.
 */
export async function cancelRun(
  redisUrl: string,
  runId: string,
  options: { queue?: string; prefix?: string; connectTimeoutMs?: number } = {},
): Promise<{ removed: number }> {
  const url = validateRedisUrl(redisUrl);
  const names = new QueueNames(options.queue ?? DEFAULT_QUEUE_NAME, options.prefix ?? DEFAULT_QUEUE_PREFIX);
  const redis = await connectRedis(
    url,
    options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs },
  );
  const store = new RunStore(redis, names);
  const queue = new Queue(names.queue, {
    connection: redisConnectionFromUrl(url, { maxRetriesPerRequest: null }),
    prefix: names.prefix,
  });
  queue.on('error', () => undefined);
  try {
    const status = await store.status(validateRunId(runId));
    if (status === undefined)
      throw new InvalidArgumentError(`no job "${runId}" on queue "${names.queue}" at ${redactRedisUrl(url)}`);
    await store.publishCancel(runId);
    let removed = 0;
    for (let seq = 0; seq < status.batches; seq++) {
      const id = names.batchId(runId, seq);
      // remove() refuses a batch a worker holds (locked); that one is aborted by the worker.
      const n = await queue.remove(id).catch(() => 0);
      removed += n === 1 ? 1 : 0;
    }
    return { removed };
  } finally {
    await queue.close().catch(() => undefined);
    redis.disconnect();
  }
}
