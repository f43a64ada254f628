/**
 * The coordinator: streams targets from a source, hands batches to a BatchRunner (by default
 * the thread pool) with a bounded number in flight (backpressure: the source is read only as
 * fast as batches complete), serves the workers' rate gates, and passes each per-item result
 * to the caller as plain data.
 */
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, WorkerError, toErrorRecord } from '../errors.js';
import { requirePositive } from '../options/check-positive.js';
import type { OperationName } from '../client/index.js';
import { OPERATION_NAMES } from '../client/iot-data-client.js';
import type { BatchRunner, BatchRunnerFactory, BatchTask } from './batch-runner.js';
import { IterableBatchSource, isBatchSource, type BatchSource } from './batch-source.js';
import { BottleneckRateGate } from './bottleneck-rate-gate.js';
import type { OutcomeCounts } from './item-outcome.js';
import { OutcomeTally } from './outcome-tally.js';
import { InlineBatchRunner } from './inline-batch-runner.js';
import { PoolBatchRunner } from './pool-batch-runner.js';
import { resolveRateGateOptions, type RateGate, type RateGateOptions, type RateGateStats } from './rate-gate.js';
import type { ItemResult, TargetItem, TaskKind, ThingLimits, WorkerClientConfig } from './task-types.js';
import type { WorkerFile } from './worker-file.js';

export interface CoordinatorOptions {
  client: WorkerClientConfig;
  /** Worker threads. Default: the core count. */
  workers?: number;
  /** Targets per batch. Default 100. */
  batchSize?: number;
  /** Batches handed to the pool and not yet finished. Default workers x 2 + 1. */
  maxBatchesInFlight?: number;
  /** Batches one thread works on at once. Default 2 (the next batch starts while the last items of one finish). */
  tasksPerWorker?: number;
  /** Account and per-thing limits, or 'off'. Defaults: 4000/s for Get/Update/Delete, 20/s and 10 in flight per thing. */
  rates?: RateGateOptions | 'off';
  /** Replaces the in-process gate (e.g. a Redis-backed one); `rates` then only gives the per-thing limits. */
  gate?: RateGate;
  /** Aborting it is `abort()`. */
  signal?: AbortSignal;
  /** The worker module of the default thread pool (default: workers/task-worker via workerFile()). */
  workerFile?: WorkerFile;
  /** Where batches run. Default: a PoolBatchRunner (worker threads on this host). */
  runner?: BatchRunnerFactory;
  /**
   * How many targets the job will have, when it knows before starting (a small file, a list).
   * When they fit in one batch and no runner or worker file is given, the batches run on this
   * thread (InlineBatchRunner): no worker thread is started for them.
   */
  expectedItems?: number;
}

export interface RunStats {
  kind: TaskKind | undefined;
  startedAt: number;
  elapsedMs: number;
  /** Items read from the source. */
  read: number;
  /** Items with a result. */
  done: number;
  /** Items handed to workers and not finished. */
  inFlight: number;
  byOutcome: OutcomeCounts;
  /** Results carrying an error, by error name (AWS error type when the service answered). */
  byError: Record<string, number>;
  requests: number;
  throttles: number;
  bytesSent: number;
  wholeBytes: number;
  /** Sum of per-item latency, ms. */
  latencyMsTotal: number;
  /** Items done per second since the start. */
  itemsPerSecond: number;
  /** Requests per second since the start. */
  requestsPerSecond: number;
  batches: number;
  /** Batches a worker failed as a whole (their items are reported as failed). */
  batchFailures: number;
  aborted: boolean;
  abortReason?: string;
  gate: RateGateStats;
}

export interface ResolvedCoordinatorOptions {
  client: WorkerClientConfig;
  workers: number;
  batchSize: number;
  maxBatchesInFlight: number;
  tasksPerWorker: number;
}

export const DEFAULT_COORDINATOR_OPTIONS = Object.freeze({ batchSize: 100, tasksPerWorker: 2 });

const positiveInt = (name: string, v: unknown): number => requirePositive(name, v);

const ABORTED: unique symbol = Symbol('aborted');

export class Coordinator {
  #o: ResolvedCoordinatorOptions;
  #runner: BatchRunner;
  #gate: RateGate;
  #ownsGate: boolean;
  #tally = new OutcomeTally();
  #thingLimits: ThingLimits;
  #stats: RunStats;
  #aborted = false;
  #abortWaiters: Array<() => void> = [];
  #running = false;
  #closed = false;
  #onSignal: (() => void) | undefined;
  #signal: AbortSignal | undefined;

  constructor(options: CoordinatorOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
    const c = options.client;
    if (typeof c !== 'object' || c === null || typeof c.endpoint !== 'string' || c.endpoint === '')
      throw new InvalidArgumentError('client.endpoint must be a non-empty string');
    if (typeof c.region !== 'string' || c.region === '')
      throw new InvalidArgumentError('client.region must be a non-empty string');
    const workers = options.workers === undefined ? availableParallelism() : positiveInt('workers', options.workers);
    const tasksPerWorker =
      options.tasksPerWorker === undefined
        ? DEFAULT_COORDINATOR_OPTIONS.tasksPerWorker
        : positiveInt('tasksPerWorker', options.tasksPerWorker);
    this.#o = {
      client: { ...c },
      workers,
      batchSize:
        options.batchSize === undefined
          ? DEFAULT_COORDINATOR_OPTIONS.batchSize
          : positiveInt('batchSize', options.batchSize),
      maxBatchesInFlight:
        options.maxBatchesInFlight === undefined
          ? workers * tasksPerWorker + 1
          : positiveInt('maxBatchesInFlight', options.maxBatchesInFlight),
      tasksPerWorker,
    };
    const rates = resolveRateGateOptions(options.rates);
    this.#thingLimits = { thingRps: rates.thingRps, thingInFlight: rates.thingInFlight };
    this.#ownsGate = options.gate === undefined;
    this.#gate = options.gate ?? new BottleneckRateGate(options.rates);
    const context = { workers, tasksPerWorker, gate: this.#gate };
    if (options.runner !== undefined) this.#runner = options.runner(context);
    else if (
      options.workerFile === undefined &&
      options.expectedItems !== undefined &&
      options.expectedItems <= this.#o.batchSize
    )
      // Starting a thread and loading its modules would cost more than the one batch.
      this.#runner = new InlineBatchRunner(context);
    else
      this.#runner = new PoolBatchRunner(
        options.workerFile === undefined ? context : { ...context, workerFile: options.workerFile },
      );
    this.#stats = this.#freshStats(undefined);
    if (options.signal !== undefined) {
      this.#signal = options.signal;
      this.#onSignal = () => this.abort(`aborted: ${String((options.signal as AbortSignal).reason ?? 'signal')}`);
      if (options.signal.aborted) this.#onSignal();
      else options.signal.addEventListener('abort', this.#onSignal, { once: true });
    }
  }

  get options(): Readonly<ResolvedCoordinatorOptions> {
    return this.#o;
  }

  /** The thread pool's filled options (e.g. `atomics`), for inspection; only with the default runner. */
  get poolOptions(): PoolBatchRunner['poolOptions'] {
    if (!(this.#runner instanceof PoolBatchRunner))
      throw new InvalidArgumentError(
        'poolOptions: this coordinator runs its batches on another runner than the thread pool',
      );
    return this.#runner.poolOptions;
  }

  /**
   * Runs every target of `source` through the `kind` handler with `config`. Resolves when the
   * source is exhausted (or the run was aborted) and every batch handed out has finished;
   * `onResult` is called once per item, awaited (backpressure for journal writers).
   */
  async run<C>(
    kind: TaskKind,
    config: C,
    source: AsyncIterable<TargetItem> | Iterable<TargetItem> | BatchSource,
    onResult: (r: ItemResult) => void | Promise<void>,
  ): Promise<RunStats> {
    if (this.#closed) throw new InvalidArgumentError('the coordinator is closed');
    if (this.#running) throw new InvalidArgumentError('a run is already in progress');
    this.#running = true;
    this.#stats = this.#freshStats(kind);
    this.#tally = new OutcomeTally();
    if (this.#aborted) {
      this.#stats.aborted = true;
      this.#stats.abortReason = this.#abortReason;
    }
    const batches: BatchSource = isBatchSource(source) ? source : new IterableBatchSource(source);
    const inFlight = new Set<Promise<void>>();
    let sourceError: unknown;
    let resultError: unknown;
    let pendingNext: Promise<unknown> | undefined;
    try {
      while (!this.#aborted) {
        while (inFlight.size >= this.#o.maxBatchesInFlight && !this.#aborted) await Promise.race(inFlight);
        if (this.#aborted) break;
        let batch: TargetItem[] | undefined | typeof ABORTED;
        const next = batches.nextBatch(this.#o.batchSize);
        try {
          // A slow source (stdin from a slow producer) must not hold an abort up.
          batch = await this.#unlessAborted(next);
        } catch (err) {
          sourceError = err;
          break;
        }
        if (batch === ABORTED) {
          pendingNext = next;
          next.catch(() => undefined);
          break;
        }
        if (batch === undefined) break;
        this.#stats.read += batch.length;
        const p: Promise<void> = this.#dispatch(kind, config, batch, onResult)
          .catch((err: unknown) => {
            // onResult failed (e.g. the journal cannot be written): stop, drain, rethrow.
            resultError ??= err;
            this.abort(`a result could not be handled: ${(err as Error)?.message ?? String(err)}`);
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    } finally {
      // Drain: every batch handed out finishes and reports.
      await Promise.allSettled([...inFlight]);
      if (this.#aborted || sourceError !== undefined) {
        const closing = batches.close().catch(() => undefined);
        // With a read still pending, closing waits for it (an async generator runs one step at a time): do not wait.
        if (pendingNext === undefined) await closing;
      }
      this.#running = false;
    }
    if (sourceError !== undefined) throw sourceError;
    if (resultError !== undefined) throw resultError;
    return this.stats();
  }

  setRate(operation: OperationName, rps: number): void {
    requirePositive('rps', rps, { integer: false });
    this.#gate.setRate(operation, rps);
  }

  stats(): RunStats {
    const s = this.#stats;
    s.elapsedMs = Date.now() - s.startedAt;
    const secs = Math.max(s.elapsedMs, 1) / 1000;
    s.gate = this.#gate.stats();
    const t = this.#tally;
    Object.assign(s, {
      done: t.done,
      requests: t.requests,
      throttles: t.throttles,
      bytesSent: t.bytesSent,
      wholeBytes: t.wholeBytes,
      latencyMsTotal: t.latencyMsTotal,
    });
    s.itemsPerSecond = s.done / secs;
    s.requestsPerSecond = s.requests / secs;
    return { ...s, byOutcome: { ...t.byOutcome }, byError: { ...t.byError } };
  }

  /** Stops reading targets; batches already handed out finish and report (drain). */
  abort(reason: string): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#stats.aborted = true;
    this.#stats.abortReason = reason;
    for (const wake of this.#abortWaiters.splice(0)) wake();
  }

  /** `read`'s value, or ABORTED as soon as abort() is called while it is pending. */
  #unlessAborted<T>(read: Promise<T>): Promise<T | typeof ABORTED> {
    if (this.#aborted) return Promise.resolve(ABORTED);
    return new Promise<T | typeof ABORTED>((resolve, reject) => {
      const wake = (): void => resolve(ABORTED);
      this.#abortWaiters.push(wake);
      const forget = (): void => {
        const i = this.#abortWaiters.indexOf(wake);
        if (i !== -1) this.#abortWaiters.splice(i, 1);
      };
      read.then(
        (v) => {
          forget();
          resolve(v);
        },
        (err: unknown) => {
          forget();
          reject(err);
        },
      );
    });
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#signal !== undefined && this.#onSignal !== undefined)
      this.#signal.removeEventListener('abort', this.#onSignal);
    await this.#runner.close();
    if (this.#ownsGate) await this.#gate.close();
  }

  #abortReason: string | undefined;

  async #dispatch<C>(
    kind: TaskKind,
    config: C,
    items: TargetItem[],
    onResult: (r: ItemResult) => void | Promise<void>,
  ): Promise<void> {
    const permits: Partial<Record<OperationName, number>> = {};
    for (const op of OPERATION_NAMES) {
      const k = this.#gate.batchSize(op);
      if (k > 0) permits[op] = k;
    }
    const task: BatchTask<C> = { kind, config, client: this.#o.client, items, permits, thingLimits: this.#thingLimits };
    this.#stats.inFlight += items.length;
    this.#stats.batches += 1;
    let results: ItemResult[];
    try {
      results = await this.#runner.run(task, this.#signal);
      if (!Array.isArray(results) || results.length !== items.length)
        throw new WorkerError(
          `worker returned ${Array.isArray(results) ? results.length : typeof results} results for ${items.length} items`,
        );
    } catch (err) {
      this.#stats.batchFailures += 1;
      const rec = toErrorRecord(
        err instanceof WorkerError || (err as { code?: string })?.code?.startsWith('SHADOW_ERR')
          ? err
          : new WorkerError(`worker failed the batch: ${(err as Error)?.message ?? String(err)}`, { cause: err }),
      );
      results = items.map((it) => {
        const r: ItemResult = {
          thingName: it.thingName,
          outcome: 'failed',
          error: rec,
          attempts: 0,
          requests: 0,
          throttles: 0,
          latencyMs: 0,
          bytesSent: 0,
        };
        if (it.shadowName !== undefined) r.shadowName = it.shadowName;
        return r;
      });
    }
    for (const r of results) this.#count(r);
    for (const r of results) await onResult(r);
  }

  #count(r: ItemResult): void {
    this.#stats.inFlight -= 1;
    this.#tally.add(r);
  }

  #freshStats(kind: TaskKind | undefined): RunStats {
    return {
      kind,
      startedAt: Date.now(),
      elapsedMs: 0,
      read: 0,
      done: 0,
      inFlight: 0,
      byOutcome: {},
      byError: {},
      requests: 0,
      throttles: 0,
      bytesSent: 0,
      wholeBytes: 0,
      latencyMsTotal: 0,
      itemsPerSecond: 0,
      requestsPerSecond: 0,
      batches: 0,
      batchFailures: 0,
      aborted: false,
      gate: { operations: {}, granted: 0, throttles: 0 },
    };
  }
}
