/**
 * The one shape of a bulk job. A JobRun owns what every job needs, so a job says only what to
 * read, what to compute, what to write and what to report:
 *
 * - the client configuration the workers build their client from (`jobClientConfig`);
 * - the coordinator, and through it the rate gates and where batches run (a BatchRunner: the
 *   thread pool by default, a queue over Redis when the engine is given one; never the job's
 *   choice);
 * - the signal (an outer abort interrupts: targets stop, batches in flight drain) and the run
 *   timeout;
 * - the progress ticker;
 * - the typed tally of outcomes of every result;
 * - the teardown (`close`, always, also after a failure).
 *
 * A job is either a JobDefinition given to `runJob` (one pass: restore, snapshot) or a
 * function that opens a JobRun and calls `run` once per pass (rollout: write, retry passes,
 * convergence; bench: prepare, measure, cleanup).
 *
 * Seams for what comes next: targets from more sources (thing groups, fleet index queries) are
 * more async iterables handed to `run` (see open-targets.ts); waves are a rollout calling `run`
 * once per ordered subset with its gate between calls (the coordinator, pool and gates stay up
 * between passes); a journal of before-images is one more `onResult` writer.
 */
import { ConfigError } from '../errors.js';
import type { OperationName } from '../client/index.js';
import type { CredentialSourceOptions } from '../client/credential-source.js';
import type { BatchRunnerFactory } from './batch-runner.js';
import type { JobPlacement } from './job-placement.js';
import type { BatchSource } from './batch-source.js';
import { Coordinator, type CoordinatorOptions, type RunStats } from './coordinator.js';
import { OutcomeTally } from './outcome-tally.js';
import type { RateGate, RateGateOptions } from './rate-gate.js';
import type { ItemResult, TargetItem, TaskKind, WorkerClientConfig } from './task-types.js';

export interface JobRunOptions {
  client: WorkerClientConfig;
  /** Account and per-thing limits, or 'off'. */
  rates?: RateGateOptions | 'off';
  /** A shared gate (e.g. Redis-backed) instead of the in-process one. */
  gate?: RateGate;
  /** Where batches run. Default: the thread pool of this process. */
  runner?: BatchRunnerFactory;
  /**
   * Where batches run and which gate the run uses, decided per job (e.g. the Redis queue, see
   * queuePlacement in shadowfleet/queue). Used when neither `runner` nor `gate` is given. A job
   * that opens several JobRuns gives each the same placement.
   */
  placement?: JobPlacement;
  workers?: number;
  batchSize?: number;
  /** The number of targets, when known before the run (see CoordinatorOptions.expectedItems). */
  expectedItems?: number;
  maxBatchesInFlight?: number;
  tasksPerWorker?: number;
  /** Aborting it interrupts the run: no more targets are read, batches in flight finish. */
  signal?: AbortSignal;
  /** The run stops with reason `run timeout: N ms passed` after this long (`stopRunTimeout` ends the clock). */
  runTimeoutMs?: number;
  /** Called every `progressIntervalMs` from the first pass until `close`, and with `final` by `progress(true)`. */
  onProgress?: (run: JobRun, final: boolean) => void;
  progressIntervalMs?: number;
}

/** The client fields every job accepts (`profile`, `roleArn`...: the account's credentials, resolved by each worker). */
export interface JobClientOptions extends CredentialSourceOptions {
  endpoint: string;
  region?: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  requestAttempts?: number | undefined;
  requestTimeoutMs?: number | undefined;
  connections?: number | undefined;
}

/** The region when none is given: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1. */
export function defaultRegion(): string {
  return process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

/** The worker client configuration of a job, from the fields every job accepts. */
export function jobClientConfig(o: JobClientOptions): WorkerClientConfig {
  const client: WorkerClientConfig = { endpoint: o.endpoint, region: o.region ?? defaultRegion() };
  if (o.requestAttempts !== undefined) client.maxAttempts = o.requestAttempts;
  if (o.credentials !== undefined) client.credentials = { ...o.credentials };
  if (o.requestTimeoutMs !== undefined) client.requestTimeoutMs = o.requestTimeoutMs;
  if (o.connections !== undefined) client.connections = o.connections;
  for (const k of ['profile', 'roleArn', 'externalId', 'sessionName'] as const) {
    const v = o[k];
    if (v !== undefined) client[k] = v;
  }
  return client;
}

export class JobRun {
  readonly startedAt = Date.now();
  /** Every result of every pass, by outcome. */
  readonly tally = new OutcomeTally();
  readonly #coordinator: Coordinator;
  readonly #internal = new AbortController();
  readonly #outer: AbortSignal | undefined;
  readonly #onOuterAbort: () => void;
  #aborted: { reason: string } | undefined;
  #runTimer: NodeJS.Timeout | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #onProgress: ((run: JobRun, final: boolean) => void) | undefined;
  #progressIntervalMs: number;
  #closed = false;

  constructor(options: JobRunOptions) {
    const co: CoordinatorOptions = { client: options.client, signal: this.#internal.signal };
    if (options.rates !== undefined) co.rates = options.rates;
    if (options.gate !== undefined) co.gate = options.gate;
    if (options.runner !== undefined) co.runner = options.runner;
    if (options.workers !== undefined) co.workers = options.workers;
    if (options.batchSize !== undefined) co.batchSize = options.batchSize;
    if (options.expectedItems !== undefined) co.expectedItems = options.expectedItems;
    if (options.maxBatchesInFlight !== undefined) co.maxBatchesInFlight = options.maxBatchesInFlight;
    if (options.tasksPerWorker !== undefined) co.tasksPerWorker = options.tasksPerWorker;
    // No runner or gate of its own: the job's placement decides (the queue with --redis).
    const placed =
      options.runner === undefined && options.gate === undefined
        ? options.placement?.({ client: options.client, rates: options.rates })
        : undefined;
    if (placed !== undefined) {
      co.runner = placed.runner;
      if (placed.gate !== undefined) co.gate = placed.gate;
      if (placed.maxBatchesInFlight !== undefined && options.maxBatchesInFlight === undefined)
        co.maxBatchesInFlight = placed.maxBatchesInFlight;
    }
    // Built first: the pool's threads start now, while the job reads its targets.
    this.#coordinator = new Coordinator(co);
    this.#outer = options.signal;
    this.#onOuterAbort = () => this.#internal.abort(this.#outer?.reason);
    if (this.#outer?.aborted) this.#internal.abort(this.#outer.reason);
    else this.#outer?.addEventListener('abort', this.#onOuterAbort, { once: true });
    if (options.runTimeoutMs !== undefined) {
      const ms = options.runTimeoutMs;
      this.#runTimer = setTimeout(() => this.abort(`run timeout: ${ms} ms passed`), ms);
    }
    this.#onProgress = options.onProgress;
    this.#progressIntervalMs = options.progressIntervalMs ?? 500;
  }

  /** True once the outer signal aborted (Ctrl-C): the result is partial. */
  get interrupted(): boolean {
    return this.#outer?.aborted === true;
  }

  /** Set when the job stopped itself (abort criterion, safety cap, run timeout). */
  get aborted(): { reason: string } | undefined {
    return this.#aborted;
  }

  /** True when no more targets are read (interrupted, aborted or drained). */
  get stopped(): boolean {
    return this.#coordinator.aborted;
  }

  /** Stops the job for `reason` (the first reason wins): no more targets, batches in flight drain. */
  abort(reason: string): void {
    if (this.#aborted !== undefined) return;
    this.#aborted = { reason };
    this.#coordinator.abort(reason);
  }

  /** Stops reading targets without calling it an abort (e.g. the job will throw an error of its own). */
  drain(reason: string): void {
    this.#coordinator.abort(reason);
  }

  setRate(operations: readonly OperationName[], rps: number): void {
    for (const op of operations) this.#coordinator.setRate(op, rps);
  }

  stopRunTimeout(): void {
    if (this.#runTimer !== undefined) clearTimeout(this.#runTimer);
    this.#runTimer = undefined;
  }

  /** Calls the progress callback now; a throwing callback never breaks the run. */
  progress(final: boolean): void {
    try {
      this.#onProgress?.(this, final);
    } catch {
      // progress is best effort
    }
  }

  /**
   * One pass: every target of `source` through the `kind` handler with `config`, wherever the
   * engine runs batches. Each result is tallied, then given to `onResult` (awaited: backpressure
   * for writers). Resolves when the source is exhausted or the run stopped, and every batch
   * handed out has reported.
   */
  run<C>(
    kind: TaskKind,
    config: C,
    source: AsyncIterable<TargetItem> | Iterable<TargetItem> | BatchSource,
    onResult: (r: ItemResult) => void | Promise<void>,
  ): Promise<RunStats> {
    if (this.#closed) throw new ConfigError('the job run is closed');
    // Progress ticks from the first pass on (not while the job still reads its targets).
    if (this.#onProgress !== undefined && this.#ticker === undefined) {
      this.#ticker = setInterval(() => this.progress(false), this.#progressIntervalMs);
      this.#ticker.unref();
    }
    return this.#coordinator.run<C>(kind, config, source, (r) => {
      this.tally.add(r);
      return onResult(r);
    });
  }

  /** Teardown: timers, the signal listener, the coordinator (pool, gates). Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.stopRunTimeout();
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#outer?.removeEventListener('abort', this.#onOuterAbort);
    await this.#coordinator.close();
  }
}

/** A one-pass job: what to read, what to compute (the task kind and its config), what to write, what to report. */
export interface JobDefinition<C, R> {
  kind: TaskKind;
  config: C;
  /** What to read: the targets, streamed. */
  targets(
    run: JobRun,
  ): AsyncIterable<TargetItem> | Iterable<TargetItem> | Promise<AsyncIterable<TargetItem> | Iterable<TargetItem>>;
  /** What to write: called once per result, after the tally counted it. */
  onResult(r: ItemResult, run: JobRun): void | Promise<void>;
  /** What to report, once the pass ended (also when interrupted). */
  report(run: JobRun, stats: RunStats): R | Promise<R>;
}

/** Runs a one-pass job on a new JobRun and always closes it. */
export async function runJob<C, R>(options: JobRunOptions, job: JobDefinition<C, R>): Promise<R> {
  const run = new JobRun(options);
  try {
    const source = await job.targets(run);
    const stats = await run.run(job.kind, job.config, source, (r) => job.onResult(r, run));
    return await job.report(run, stats);
  } finally {
    await run.close();
  }
}
