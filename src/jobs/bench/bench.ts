/**
 * `runBench`: drives a known load (a mix of get, update, delete, list and publish over things
 * under one name prefix) through the engine (coordinator, rate gates, worker threads, the
 * shadowfleet client) against an endpoint, or against the emulator started in its own child
 * process, and reports throughput over time, latency percentiles from an HDR histogram, errors
 * by AWS name, throttles, bytes, billed 1 KB operations and an estimated cost.
 *
 * Against a real account it touches only `<prefix>0 .. <prefix>N-1` (and publishes only to
 * `shadowfleet-bench/<thing>`); `cleanup` deletes those shadows afterwards.
 */
import { availableParallelism } from 'node:os';
import { ConfigError, InvalidArgumentError } from '../../errors.js';
import { requirePositive } from '../../options/check-positive.js';
import { openTargets } from '../../engine/open-targets.js';
import {
  checkTargetSelection,
  describeSelection,
  type ControlPlaneAccess,
  type TargetSelection,
} from '../../engine/target-selection.js';
import { JobRun } from '../../engine/job-run.js';
import type { JobPlacement } from '../../engine/job-placement.js';
import type { RateGateOptions } from '../../engine/rate-gate.js';
import { OutcomeTally } from '../../engine/outcome-tally.js';
import { AWS_QUOTA_DEFAULTS } from '../../shadow/aws-quota-defaults.js';
import { RecentRate } from '../../engine/recent-rate.js';
import type { ItemResult, TargetItem, WorkerClientConfig } from '../../engine/task-types.js';
import type { OperationName } from '../../client/index.js';
import { LatencyHistogram } from '../../report/latency-histogram.js';
import { checkReportPageDestination, writeReportPage } from '../../report/write-report-page.js';
import { parseDataEndpoint } from '../../client/resolve-data-endpoint.js';
import {
  BENCH_OPERATIONS,
  checkBenchOptions,
  type BenchOperation,
  type BenchPricing,
  type BenchScenario,
} from './bench-scenario.js';
import {
  startEmulatorProcess,
  type EmulatorProcess,
  type EmulatorProcessOptions,
} from '../../emulator/emulator-process.js';
import { benchReportModel } from './bench-report.js';
import type { BenchResult, ResolvedBenchOptions } from './bench-result.js';

export * from './bench-scenario.js';
export type { BenchOperationResult, BenchResult, ResolvedBenchOptions } from './bench-result.js';
export { benchReportModel, benchSummaryRows, describeMix } from './bench-report.js';
// The report pages are public through the jobs that write them.
// The report pages are public through src/index.ts (./report/index.js).

export interface BenchOptions extends Omit<BenchScenario, 'rate'> {
  /** Data plane endpoint. Absent: the emulator is started in a child process for the run. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Target rate, operations per second over all operations (split by the mix); 'off' = no rate gate at all. Absent: the account quota defaults (4,000/s per operation). */
  rate?: number | 'off';
  /** Per-thing gates of the engine (defaults 20/s and 10 in flight, as AWS). */
  thingRps?: number | 'off';
  thingInFlight?: number | 'off';
  /** The child emulator's settings (only without `endpoint`). */
  emulator?: EmulatorProcessOptions;
  /**
   * Benchmark the things a selection holds (a thing group, a fleet indexing query, all things of
   * `endpoint`) instead of the prefixed bench things: reads only (get, list, publish), no prepare,
   * no cleanup. The names are listed before the load starts and cycled through (held: the working set).
   */
  targets?: TargetSelection;
  /** Control-plane endpoint of `targets`; default the data endpoint (emulator) or the region's (AWS). */
  controlEndpoint?: string;
  /** Client attempts per request (429/5xx/network retried). Default 3. */
  requestAttempts?: number;
  /** Client connections per worker thread. */
  connections?: number;
  /** Time-series bucket, ms. Default 1000. */
  intervalMs?: number;
  /** Duration runs: operations are sent but not measured for this long first (connections, JIT, caches). Default 0. */
  warmupMs?: number;
  /** Write the report page (HTML) here. */
  report?: string;
  signal?: AbortSignal;
  /** Where the job's batches run (e.g. queuePlacement of shadowfleet/queue). Default: this process's thread pool. */
  placement?: JobPlacement;
  onProgress?: (p: BenchProgress) => void;
  progressIntervalMs?: number;
}

export interface BenchProgress {
  phase: 'prepare' | 'run' | 'cleanup';
  elapsedMs: number;
  /** Operations finished in this phase. */
  done: number;
  /** Planned operations of this phase when known (count, prepare, cleanup). */
  total?: number;
  /** Recent rate, ops/s. */
  opsPerSecond: number;
  errors: number;
  throttles: number;
}

export const DEFAULT_BENCH_OPTIONS = Object.freeze({
  operations: Object.freeze({ get: 50, update: 50, delete: 0, list: 0, publish: 0 }),
  things: 1000,
  prefix: 'shadowfleet-bench-',
  documentBytes: Object.freeze([512]),
  concurrency: 64,
  durationMs: 10_000,
  prepare: true,
  cleanup: false,
  pricing: Object.freeze({ perMillion: 1.25, meterBytes: 1024, publishPerMillion: 1.0, publishMeterBytes: 5120 }),
  intervalMs: 1000,
  region: 'us-east-1',
  topicPrefix: 'shadowfleet-bench/',
});

const OP_NAMES: Record<BenchOperation, OperationName> = {
  get: 'GetThingShadow',
  update: 'UpdateThingShadow',
  delete: 'DeleteThingShadow',
  list: 'ListNamedShadowsForThing',
  publish: 'Publish',
};

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  return v === undefined ? fallback : requirePositive(name, v);
}

function nonNegative(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new InvalidArgumentError(`${name} must be a number >= 0, got ${String(v)}`);
  return v;
}

/** Validates options once and fills in the defaults. */
export function resolveBenchOptions(o: BenchOptions): ResolvedBenchOptions {
  const d = DEFAULT_BENCH_OPTIONS;
  // Counts and rate: the scenario file's schema, so both say the same about the same value.
  checkBenchOptions(o);
  const operations = { ...d.operations } as Record<BenchOperation, number>;
  if (o.operations !== undefined) {
    for (const op of BENCH_OPERATIONS) operations[op] = 0;
    for (const [k, w] of Object.entries(o.operations)) {
      if (!BENCH_OPERATIONS.includes(k as BenchOperation))
        throw new InvalidArgumentError(`operations.${k}: unknown operation (expected ${BENCH_OPERATIONS.join(', ')})`);
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
        throw new InvalidArgumentError(`operations.${k}: expected a weight >= 0, got ${String(w)}`);
      operations[k as BenchOperation] = w;
    }
  }
  if (!Object.values(operations).some((w) => w > 0))
    throw new InvalidArgumentError('operations: expected at least one operation with a weight above 0');
  const prefix = o.prefix ?? d.prefix;
  if (!/^[a-zA-Z0-9:_-]{1,100}$/.test(prefix))
    throw new InvalidArgumentError(`prefix: expected 1-100 characters of a-z A-Z 0-9 : _ -, got "${prefix}"`);
  const documentBytes = o.documentBytes ?? [...d.documentBytes];
  if (documentBytes.length === 0 || documentBytes.some((b) => !Number.isInteger(b) || b < 64 || b > 8000)) {
    throw new InvalidArgumentError(
      `documentBytes: expected sizes in bytes from 64 to 8000, got ${JSON.stringify(documentBytes)}`,
    );
  }
  if (o.durationMs !== undefined && !(o.durationMs > 0))
    throw new InvalidArgumentError(`duration must be positive, got ${String(o.durationMs)} ms`);
  const count = o.count === undefined ? undefined : positiveInt('count', o.count, 1);
  const pricing = { ...d.pricing, ...(o.pricing ?? {}) };
  for (const [k, v] of Object.entries(pricing)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new InvalidArgumentError(`pricing.${k}: expected a number >= 0, got ${String(v)}`);
  }
  if (!(pricing.meterBytes > 0) || !(pricing.publishMeterBytes > 0))
    throw new InvalidArgumentError('pricing: meterBytes and publishMeterBytes must be above 0');
  return {
    operations,
    things: positiveInt('things', o.things, d.things),
    prefix,
    shadowName: o.shadowName,
    documentBytes,
    rate: o.rate,
    concurrency: positiveInt('concurrency', o.concurrency, d.concurrency),
    // A count without a duration runs until the count is done.
    durationMs: o.durationMs ?? (count === undefined ? d.durationMs : undefined),
    count,
    workers: positiveInt('workers', o.workers, availableParallelism()),
    prepare: o.prepare ?? d.prepare,
    cleanup: o.cleanup ?? d.cleanup,
    pricing,
    intervalMs: positiveInt('intervalMs', o.intervalMs, d.intervalMs),
    warmupMs: nonNegative('warmupMs', o.warmupMs, 0),
  };
}

/** A cycle of operations that follows the weights exactly (smooth weighted round robin). */
export function operationCycle(weights: Record<BenchOperation, number>, length = 100): BenchOperation[] {
  const ops = BENCH_OPERATIONS.filter((op) => weights[op] > 0);
  const total = ops.reduce((s, op) => s + weights[op], 0);
  const current = new Map(ops.map((op) => [op, 0]));
  const out: BenchOperation[] = [];
  for (let i = 0; i < length; i++) {
    let best = ops[0]!;
    for (const op of ops) {
      current.set(op, current.get(op)! + weights[op]);
      if (current.get(op)! > current.get(best)!) best = op;
    }
    current.set(best, current.get(best)! - total);
    out.push(best);
  }
  return out;
}

class Accumulator {
  readonly latency = new LatencyHistogram();
  readonly perOp = new Map<
    BenchOperation,
    { count: number; ok: number; failed: number; h: LatencyHistogram; bytesSent: number; bytesReceived: number }
  >();
  /** Outcomes, errors, requests, throttles and bytes sent of the measured operations. */
  readonly tally = new OutcomeTally();
  readonly buckets: Array<{
    ops: number;
    throttles: number;
    errors: number;
    byOperation: Partial<Record<BenchOperation, number>>;
  }> = [];
  ok = 0;
  failed = 0;
  bytesReceived = 0;
  billedOperations = 0;
  billedMessages = 0;
  t0 = 0;

  constructor(
    readonly pricing: Required<BenchPricing>,
    readonly intervalMs: number,
  ) {}

  add(r: ItemResult, now: number): void {
    const detail = (r.detail ?? {}) as { op?: BenchOperation; bytesReceived?: number };
    const op = detail.op ?? 'get';
    const received = detail.bytesReceived ?? 0;
    this.tally.add(r);
    this.bytesReceived += received;
    let s = this.perOp.get(op);
    if (s === undefined) {
      s = { count: 0, ok: 0, failed: 0, h: new LatencyHistogram(), bytesSent: 0, bytesReceived: 0 };
      this.perOp.set(op, s);
    }
    s.count += 1;
    s.bytesSent += r.bytesSent;
    s.bytesReceived += received;
    if (r.outcome === 'ok') {
      this.ok += 1;
      s.ok += 1;
      if (op === 'publish') this.billedMessages += Math.max(1, Math.ceil(r.bytesSent / this.pricing.publishMeterBytes));
      else this.billedOperations += Math.max(1, Math.ceil(Math.max(r.bytesSent, received) / this.pricing.meterBytes));
    } else if (r.outcome === 'failed') {
      this.failed += 1;
      s.failed += 1;
    }
    this.latency.record(r.latencyMs);
    s.h.record(r.latencyMs);
    const index = Math.max(0, Math.floor((now - this.t0) / this.intervalMs));
    while (this.buckets.length <= index) this.buckets.push({ ops: 0, throttles: 0, errors: 0, byOperation: {} });
    const b = this.buckets[index]!;
    b.ops += 1;
    b.throttles += r.throttles;
    // Throttles have their own series; errors are the other failures.
    if (r.outcome === 'failed') b.errors += 1;
    b.byOperation[op] = (b.byOperation[op] ?? 0) + 1;
  }

  get operations(): number {
    return this.tally.done;
  }
  get throttles(): number {
    return this.tally.throttles;
  }

  get estimatedCostUsd(): number {
    const usd =
      (this.billedOperations * this.pricing.perMillion + this.billedMessages * this.pricing.publishPerMillion) / 1e6;
    return Math.round(usd * 1e8) / 1e8;
  }
}

/** Runs one load scenario and returns its figures (and writes the report page when asked). */
export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const o = resolveBenchOptions(options);
  const signal = options.signal;
  let emu: EmulatorProcess | undefined;
  let endpoint = options.endpoint ?? process.env.SHADOWFLEET_ENDPOINT;
  // Checked before the load starts: credentials in the URL (they would end up in the page and the
  // JSON), and a report destination that cannot be written (found after the run, it wastes it).
  if (endpoint !== undefined && endpoint !== '')
    parseDataEndpoint(endpoint, options.endpoint !== undefined ? 'endpoint' : 'SHADOWFLEET_ENDPOINT');
  if (options.report !== undefined) await checkReportPageDestination(options.report, 'report');
  if (endpoint === undefined || endpoint === '') {
    emu = await startEmulatorProcess(options.emulator ?? {});
    endpoint = emu.url;
  }
  try {
    return await runAgainst(endpoint, emu, o, options, signal);
  } finally {
    await emu?.close();
  }
}

/**
 * The things of `options.targets`, listed before the load starts. A selection benchmarks real
 * things: reads only, and never a cleanup (it would delete their shadows).
 */
async function benchTargets(
  endpoint: string,
  emu: EmulatorProcess | undefined,
  o: ResolvedBenchOptions,
  options: BenchOptions,
): Promise<string[]> {
  const selection = checkTargetSelection(options.targets, 'targets');
  if (emu !== undefined)
    throw new InvalidArgumentError('targets: a selection benchmarks the things of a fleet: give its endpoint');
  if (o.operations.update > 0 || o.operations.delete > 0) {
    throw new InvalidArgumentError(
      'targets: a selection benchmarks reads of real things: use a mix of get, list and publish (update and delete would change their shadows)',
    );
  }
  if (o.cleanup)
    throw new InvalidArgumentError("cleanup: not with targets (it would delete the selected things' shadows)");
  const control: ControlPlaneAccess = { endpoint };
  if (options.controlEndpoint !== undefined) control.controlEndpoint = options.controlEndpoint;
  if (options.region !== undefined) control.region = options.region;
  if (options.credentials !== undefined) control.credentials = options.credentials;
  if (options.signal !== undefined) control.signal = options.signal;
  const names: string[] = [];
  for await (const item of await openTargets(selection, undefined, control)) names.push(item.thingName);
  if (names.length === 0) throw new ConfigError(`targets: ${describeSelection(selection)} holds no things`);
  o.things = names.length;
  return names;
}

/** The engine side of a bench run: client, gates split by the mix, and enough batches in flight for `concurrency`. */
function benchRun(endpoint: string, o: ResolvedBenchOptions, options: BenchOptions): JobRun {
  const client: WorkerClientConfig = {
    endpoint,
    region: options.region ?? process.env.AWS_REGION ?? DEFAULT_BENCH_OPTIONS.region,
  };
  if (options.credentials !== undefined) client.credentials = options.credentials;
  if (options.requestAttempts !== undefined) client.maxAttempts = options.requestAttempts;
  if (options.connections !== undefined) client.connections = options.connections;

  // Gates: a target rate is split over the operations by the mix; 'off' disables every gate.
  const rates: RateGateOptions =
    o.rate === 'off'
      ? { accountRps: 'off', thingRps: 'off', thingInFlight: 'off' }
      : {
          thingRps: options.thingRps ?? AWS_QUOTA_DEFAULTS.thingRps,
          thingInFlight: options.thingInFlight ?? AWS_QUOTA_DEFAULTS.thingInFlight,
        };
  if (typeof o.rate === 'number') {
    const total = BENCH_OPERATIONS.reduce((s, op) => s + o.operations[op], 0);
    const perOp: Partial<Record<OperationName, number | 'off'>> = {};
    for (const op of BENCH_OPERATIONS)
      if (o.operations[op] > 0) perOp[OP_NAMES[op]] = Math.max(1, (o.rate * o.operations[op]) / total);
    rates.operations = perOp;
  }
  // Batches run all their operations at once; enough batches at once over the threads to hold
  // `concurrency` operations in flight. The signal is not given to the run: the sources stop
  // reading on abort and in-flight batches drain, so a cleanup can still run afterwards.
  const batchesInFlight = Math.max(1, Math.min(o.concurrency, o.workers * 4));
  const batchSize = Math.max(1, Math.ceil(o.concurrency / batchesInFlight));
  return new JobRun({
    workers: o.workers,
    batchSize,
    maxBatchesInFlight: batchesInFlight,
    tasksPerWorker: Math.ceil(batchesInFlight / o.workers),
    client,
    rates,
    ...(options.placement === undefined ? {} : { placement: options.placement }),
  });
}

async function runAgainst(
  endpoint: string,
  emu: EmulatorProcess | undefined,
  o: ResolvedBenchOptions,
  options: BenchOptions,
  signal: AbortSignal | undefined,
): Promise<BenchResult> {
  const names = options.targets === undefined ? undefined : await benchTargets(endpoint, emu, o, options);
  const run = benchRun(endpoint, o, options);
  const config = {
    documentBytes: o.documentBytes,
    topicPrefix: DEFAULT_BENCH_OPTIONS.topicPrefix,
    ...(o.shadowName === undefined ? {} : { shadowName: o.shadowName }),
  };
  const phases = new BenchPhases(run, o, options, config, () => signal?.aborted === true);
  const acc = new Accumulator(o.pricing, o.intervalMs);
  const startedAt = new Date();
  let prepare: BenchResult['prepare'];
  let measured: MeasuredPhase;
  let cleanup: BenchResult['cleanup'];
  try {
    prepare = await phases.prepare(names);
    measured = await phases.measure(names, acc);
    cleanup = await phases.cleanup();
  } finally {
    await run.close();
  }

  const result = benchResult(endpoint, emu, o, acc, measured, startedAt, signal?.aborted === true);
  if (prepare !== undefined) result.prepare = prepare;
  if (cleanup !== undefined) result.cleanup = cleanup;
  if (emu !== undefined) result.emulatorStats = await emu.stats().catch(() => undefined);
  if (options.report !== undefined) result.report = await writeReportPage(options.report, benchReportModel(result));
  return result;
}

/** When the measured phase ran (after its warm-up), and how many operations the warm-up took. */
interface MeasuredPhase {
  runStart: number;
  runEnd: number;
  warmedUp: number;
}

/** The figures of the measured phase, as the result reports them. */
function benchResult(
  endpoint: string,
  emu: EmulatorProcess | undefined,
  o: ResolvedBenchOptions,
  acc: Accumulator,
  { runStart, runEnd, warmedUp }: MeasuredPhase,
  startedAt: Date,
  interrupted: boolean,
): BenchResult {
  const durationMs = Math.max(1, runEnd - runStart);
  const byOperation = benchByOperation(acc, durationMs);
  const timeline = benchTimeline(acc, o.intervalMs, runStart, runEnd);
  const result: BenchResult = {
    endpoint,
    emulator: emu !== undefined,
    options: o,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    durationMs,
    interrupted,
    operations: acc.operations,
    ok: acc.ok,
    failed: acc.failed,
    opsPerSecond: round1((acc.operations / durationMs) * 1000),
    latency: acc.latency.report(),
    byOperation,
    byOutcome: { ...acc.tally.byOutcome },
    errors: { ...acc.tally.byError },
    requests: acc.tally.requests,
    throttles: acc.tally.throttles,
    bytesSent: acc.tally.bytesSent,
    bytesReceived: acc.bytesReceived,
    billedOperations: acc.billedOperations,
    billedMessages: acc.billedMessages,
    estimatedCostUsd: acc.estimatedCostUsd,
    timeline,
  };
  if (warmedUp > 0) result.warmup = { operations: warmedUp, durationMs: o.warmupMs };
  return result;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

/** Per-interval rates of the measured phase; the last, usually partial, bucket scaled by the time it covered. */
function benchTimeline(
  acc: Accumulator,
  intervalMs: number,
  runStart: number,
  runEnd: number,
): BenchResult['timeline'] {
  const secs = intervalMs / 1000;
  // The last bucket is usually partial (the drain after the deadline): scale it by the time it
  // covered, and fold a sliver of less than half an interval into the bucket before it.
  const buckets = acc.buckets.map((b) => ({ ...b, covered: secs }));
  if (buckets.length > 0) {
    const last = buckets[buckets.length - 1]!;
    last.covered = Math.max(0.001, Math.min(secs, (runEnd - runStart) / 1000 - (buckets.length - 1) * secs));
    if (buckets.length > 1 && last.covered < secs / 2) {
      buckets.pop();
      const prev = buckets[buckets.length - 1]!;
      prev.ops += last.ops;
      prev.throttles += last.throttles;
      prev.errors += last.errors;
      for (const [k, v] of Object.entries(last.byOperation) as Array<[BenchOperation, number]>)
        prev.byOperation[k] = (prev.byOperation[k] ?? 0) + v;
      prev.covered += last.covered;
    }
  }
  let elapsed = 0;
  return buckets.map((b) => {
    const covered = b.covered;
    elapsed += covered;
    return {
      t: round1(elapsed),
      rate: round1(b.ops / covered),
      throttles: round1(b.throttles / covered),
      errors: round1(b.errors / covered),
      byOperation: Object.fromEntries(Object.entries(b.byOperation).map(([k, v]) => [k, round1(v / covered)])),
    };
  });
}

function benchByOperation(acc: Accumulator, durationMs: number): BenchResult['byOperation'] {
  const byOperation: BenchResult['byOperation'] = {};
  for (const op of BENCH_OPERATIONS) {
    const s = acc.perOp.get(op);
    if (s === undefined) continue;
    byOperation[op] = {
      count: s.count,
      ok: s.ok,
      failed: s.failed,
      opsPerSecond: round1((s.count / durationMs) * 1000),
      latency: s.h.summary(),
      bytesSent: s.bytesSent,
      bytesReceived: s.bytesReceived,
    };
  }
  return byOperation;
}

type BenchTaskConfigOf = { documentBytes: number[]; topicPrefix: string; shadowName?: string };

/** Progress events of a bench run and its unmeasured sweeps (prepare, cleanup). */
class BenchPhases {
  constructor(
    readonly run: JobRun,
    readonly o: ResolvedBenchOptions,
    readonly options: BenchOptions,
    readonly config: BenchTaskConfigOf,
    readonly aborted: () => boolean,
  ) {}

  get progressEvery(): number {
    return this.options.progressIntervalMs ?? 1000;
  }

  emit(
    phase: BenchProgress['phase'],
    started: number,
    done: number,
    total: number | undefined,
    recent: RecentRate,
    errors: number,
    throttles: number,
    final = false,
  ): void {
    if (this.options.onProgress === undefined) return;
    const now = Date.now();
    // The last event of a phase gives the phase's mean rate; the others the last few seconds'.
    const rate = final ? (done / Math.max(1, now - started)) * 1000 : recent.push(now, done);
    const p: BenchProgress = {
      phase,
      elapsedMs: Math.max(0, now - started),
      done,
      opsPerSecond: Math.round(rate * 10) / 10,
      errors,
      throttles,
    };
    if (total !== undefined) p.total = total;
    this.options.onProgress(p);
  }

  /** Writes every thing once so that reads, lists and deletes find documents; a selection's things already have theirs. */
  async prepare(names: string[] | undefined): Promise<BenchResult['prepare']> {
    const { o } = this;
    const needsData = o.operations.get > 0 || o.operations.list > 0 || o.operations.delete > 0;
    if (!o.prepare || !needsData || names !== undefined || this.aborted()) return undefined;
    const p = await this.sweep('prepare', 'update');
    return { operations: p.done, failed: p.done - (p.byOutcome.ok ?? 0), durationMs: p.durationMs };
  }

  /**
   * The measured phase: an endless (or counted) stream of operations, round robin over the things
   * (`names`, or the generated ones), until the duration, the count or an abort ends it. Results
   * that arrive during the warm-up are counted apart; the others go to `acc`.
   */
  async measure(names: string[] | undefined, acc: Accumulator): Promise<MeasuredPhase> {
    const { o, aborted } = this;
    const cycle = operationCycle(o.operations);
    const sizes = o.documentBytes;
    const sizeTurn = { update: 0, publish: 0 };
    let deadline = Number.POSITIVE_INFINITY;
    const warmup = o.durationMs === undefined ? 0 : o.warmupMs;
    let measuring = warmup === 0;
    let runStart = 0;
    let runEnd = 0;
    let warmedUp = 0;
    const source = (async function* (): AsyncGenerator<TargetItem> {
      runStart = Date.now() + warmup;
      acc.t0 = runStart;
      if (o.durationMs !== undefined) deadline = runStart + o.durationMs;
      for (let seq = 0; ; seq++) {
        if (o.count !== undefined && seq >= o.count) return;
        if (Date.now() >= deadline || aborted()) return;
        const op = cycle[seq % cycle.length]!;
        const data: Record<string, string> = { op, seq: String(seq) };
        // Document sizes in turn per operation (not by seq, which the mix cycle correlates with).
        if (op === 'update' || op === 'publish') data.size = String(sizes[sizeTurn[op]++ % sizes.length]);
        yield { thingName: names === undefined ? `${o.prefix}${seq % o.things}` : names[seq % names.length]!, data };
      }
    })();
    const recent = new RecentRate();
    const timer = setInterval(
      () => this.emit('run', runStart || Date.now(), acc.operations, o.count, recent, acc.failed, acc.throttles),
      this.progressEvery,
    );
    timer.unref();
    try {
      await this.run.run('bench', this.config, source, (r) => {
        const now = Date.now();
        if (!measuring) {
          if (now < runStart) {
            warmedUp += 1;
            return;
          }
          measuring = true;
        }
        acc.add(r, now);
      });
    } finally {
      clearInterval(timer);
      runEnd = Date.now();
    }
    this.emit('run', runStart, acc.operations, o.count, recent, acc.failed, acc.throttles, true);
    return { runStart, runEnd, warmedUp };
  }

  /** Deletes the benchmark's shadows when asked; things already gone count as not found, not as failures. */
  async cleanup(): Promise<BenchResult['cleanup']> {
    if (!this.o.cleanup) return undefined;
    const c = await this.sweep('cleanup', 'delete');
    return {
      deleted: c.byOutcome.ok ?? 0,
      notFound: c.byOutcome['not-found'] ?? 0,
      failed: c.done - (c.byOutcome.ok ?? 0) - (c.byOutcome['not-found'] ?? 0),
      durationMs: c.durationMs,
    };
  }

  /** Runs one op over every thing once (prepare and cleanup), unmeasured. */
  async sweep(
    phase: 'prepare' | 'cleanup',
    op: BenchOperation,
  ): Promise<{ byOutcome: Record<string, number>; done: number; durationMs: number }> {
    const { o, aborted } = this;
    const started = Date.now();
    const byOutcome: Record<string, number> = {};
    let done = 0;
    let errors = 0;
    let throttles = 0;
    const recent = new RecentRate();
    const timer = setInterval(
      () => this.emit(phase, started, done, o.things, recent, errors, throttles),
      this.progressEvery,
    );
    timer.unref();
    try {
      await this.run.run(
        'bench',
        this.config,
        (async function* (): AsyncGenerator<TargetItem> {
          for (let i = 0; i < o.things; i++) {
            // Cleanup finishes even after an interrupt: it is what leaves the account clean.
            if (phase === 'prepare' && aborted()) return;
            yield { thingName: `${o.prefix}${i}`, data: { op, seq: String(i) } };
          }
        })(),
        (r) => {
          done += 1;
          throttles += r.throttles;
          if (r.outcome !== 'ok') errors += 1;
          byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
        },
      );
    } finally {
      clearInterval(timer);
    }
    this.emit(phase, started, done, o.things, recent, errors, throttles, true);
    return { byOutcome, done, durationMs: Date.now() - started };
  }
}
