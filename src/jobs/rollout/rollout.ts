/**
 * `runRollout`: change `desired` state on many shadows through the engine, as fast as the
 * quota allows and never faster, without losing a device's concurrent writes, sending only what
 * changed; with ramps, abort criteria, safety caps, a journal for resume, dry runs, convergence
 * checks and a report.
 *
 * The rollout is a definition on the engine's JobRun (src/engine/job-run.ts): the run owns the
 * client, the coordinator and where batches run, the gates, the signal and run timeout, the
 * progress ticker and the teardown; this module says what to read (rollout-target-stream.ts),
 * what to compute (the `rollout` task, workers/handlers/rollout.ts), what to write
 * (rollout-write.ts: journal, outcome file, retry passes) and what to report.
 *
 * Seam for waves: a wave is one more `RolloutWrite.run` over an ordered subset of the targets on
 * the same JobRun, with its gate (a wait, a convergence check, a failure threshold) between.
 */
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, InvalidArgumentError, isShadowError, SnapshotError } from '../../errors.js';
import { checkDestinationFile } from '../../io/check-destination.js';
import { writeFileAtomic } from '../../io/write-file-atomic.js';
import { stringifyJson } from '../../shadow/json-text.js';
import { parseDataEndpoint } from '../../client/resolve-data-endpoint.js';
import { validateShadowName } from '../../shadow/validation.js';
import { DEFAULT_SHADOW_LIMITS, parseUpdateRequest, stateSize, type JsonObject } from '../../shadow/index.js';
import {
  itemKey,
  type ConvergeCheckTaskConfig,
  type ItemResult,
  type RolloutTaskConfig,
  type TargetItem,
} from '../../engine/task-types.js';
import { Journal } from '../../engine/journal.js';
import { JobRun, jobClientConfig, type JobRunOptions } from '../../engine/job-run.js';
import type { JobPlacement } from '../../engine/job-placement.js';
import { RampSchedule, estimateSeconds } from '../../engine/ramp-schedule.js';
import { RecentRate } from '../../engine/recent-rate.js';
import type { OperationName } from '../../client/index.js';
import {
  credentialSourceProvider,
  hasCredentialSource,
  type CredentialSourceOptions,
} from '../../client/credential-source.js';
import { checkRolloutOptions, type RampOptions, type RolloutRateOptions, type RolloutSpec } from './rollout-spec.js';
import { RolloutReport, type RolloutSummary } from './rollout-report.js';
import { AWS_QUOTA_DEFAULTS } from '../../shadow/aws-quota-defaults.js';
import type { RolloutTargets } from '../../engine/open-targets.js';
import { checkTargetSelection, isTargetSelection, type ControlPlaneAccess } from '../../engine/target-selection.js';
import { ShadowCondition } from '../../shadow/shadow-condition.js';
import { RolloutOutcomeFile } from './rollout-outcome-file.js';
import { readFinished, rolloutChangeHash } from './rollout-resume.js';
import { RolloutTargetStream, knownTargetCount, workersForTargets } from './rollout-target-stream.js';
import { RolloutWrite, hasNullLeaf, refOf } from './rollout-write.js';
import { waitConverged, type RolloutConvergence } from './rollout-convergence.js';
import { intentLogPath } from '../../engine/intent-log.js';
import { WavePhase, type RolloutRollbackSummary, type WavePhaseHooks } from './waves/wave-phase.js';
import { waveLabel } from './waves/wave-spec.js';
import type { RolloutWaveReport, WaveGateFailure } from './waves/rollout-waves.js';

export * from './rollout-spec.js';
export * from './rollout-report.js';
export { openTargets, countTargets, type RolloutTargets } from '../../engine/open-targets.js';
export { RolloutKeySet } from './rollout-key-set.js';
export { failureType } from '../../engine/abort-criteria.js';
export { estimateSeconds } from '../../engine/ramp-schedule.js';
export type { RolloutConvergence, RolloutConvergencePoint } from './rollout-convergence.js';

export interface RolloutProgress {
  phase: 'write' | 'plan' | 'converge' | 'gate' | 'rollback';
  /** Things finished in this phase (resumed ones included in the write phase). */
  done: number;
  /** Known when the targets are a file (write phase) or during convergence. */
  total?: number;
  failed: number;
  throttles: number;
  /** Things per second over the last few seconds. */
  thingsPerSecond: number;
  /** Seconds left at the current pace, when the total is known. */
  etaSeconds?: number;
  /** The rate limit now in force (ramps), requests/s per operation. */
  rate?: number;
  byOutcome: Record<string, number>;
  elapsedMs: number;
  /** Set on the last event of a phase. */
  final?: boolean;
  /** Phase `gate`: the wave's gate after its last round of re-reads. */
  gate?: {
    wave: number;
    label: string;
    verdict: 'pass' | 'fail' | 'wait';
    things: number;
    converged: number;
    healthy: number;
    unhealthy: number;
  };
}

export interface RolloutOptions extends Omit<RolloutSpec, 'rate' | 'targets'>, CredentialSourceOptions {
  /** Data plane endpoint, e.g. https://xxxx-ats.iot.eu-west-1.amazonaws.com or the emulator's URL. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * A file (one thing a line, CSV or JSON lines), `-` for stdin, a snapshot, a Readable, an
   * iterable of names/items, or a selection: `{ thingGroup, recursive? }`, `{ query, index? }`
   * (fleet indexing) or `{ allThings: true }`, listed page by page from the control plane.
   */
  targets: RolloutTargets;
  /** Control-plane endpoint of a selection; default the data endpoint (emulator) or https://iot.<region>.amazonaws.com (AWS). */
  controlEndpoint?: string;
  /** Rate limits; 'off' disables the account and per-thing gates (emulator benchmarks). */
  rate?: RolloutRateOptions | 'off';
  /** Confirms a rollout over more than `safety.maxThings` things. */
  yes?: boolean;
  /** Allows a change that deletes keys on more than `safety.maxDeletes` things. */
  allowDeletes?: boolean;
  /** Journal file; a temporary one (removed at the end) when absent. */
  journal?: string;
  /** Continue the journal: finished things are skipped and counted from it. */
  resume?: boolean;
  /** Per-thing outcome file (NDJSON); the summary goes to `${report}.summary.json`. */
  report?: string;
  /** Read and diff only; writes nothing. */
  dryRun?: boolean;
  /** Aborting it drains in-flight work, flushes the journal and returns a partial result (`interrupted: true`). */
  signal?: AbortSignal;
  /** Where the job's batches run (e.g. queuePlacement of shadowfleet/queue). Default: this process's thread pool. */
  placement?: JobPlacement;
  onProgress?: (p: RolloutProgress) => void;
  /** How often onProgress is called, ms. Default 500. */
  progressIntervalMs?: number;
  /** Pause between convergence rounds, ms. Default 1000. */
  convergePollMs?: number;
  /** Things per worker batch. Default: the rate / 40, from 4 to 100 (100 when unlimited). */
  batchSize?: number;
  /** HTTP-level attempts per request (429/5xx/network) inside the client. Default 6. */
  requestAttempts?: number;
  /** Extra passes over things that failed on a transient error (throttled out, 5xx, network, timeout). Default 2. */
  retryPasses?: number;
}

export interface RolloutPlan {
  wouldWrite: number;
  unchanged: number;
  skipped: number;
  /** Things whose shadow does not meet `where` (the others, would-write or unchanged, are its matches). */
  skippedCondition?: number;
  tooLarge: number;
  invalid: number;
  failed: number;
  /** Bytes of the minimal update documents that would be sent. */
  bytesToSend: number;
  /** Bytes of the whole desired documents (what a naive rollout sends). */
  wholeBytes: number;
  /** Billed 1 KB operations of the real run (reads + writes). */
  billedOperations: number;
  /** Time the real run would take at the configured rate (and ramp), seconds. */
  estimatedSeconds: number;
  ratePerSecond: number | 'off';
}

export interface RolloutResult {
  ok: boolean;
  dryRun: boolean;
  interrupted: boolean;
  aborted?: { reason: string };
  summary: RolloutSummary;
  plan?: RolloutPlan;
  convergence?: RolloutConvergence;
  /** Progressive rollouts: per wave, what it wrote and its gate (a dry run: the waves' sizes). */
  waves?: RolloutWaveReport[];
  /** The gate that failed, with its figures (the rollout stopped there; `aborted` says so too). */
  gateFailure?: WaveGateFailure;
  /** What the automatic rollback after a failed gate did (onGateFailure: rollback). */
  rollback?: RolloutRollbackSummary;
  /** The journal path (kept unless it was a temporary one). */
  journal?: string;
  report?: string;
  summaryFile?: string;
  /** The rate changes of the ramp: at start, then after every `everySucceeded` successful things. */
  rampSteps: Array<{ atMs: number; succeeded: number; rate: number }>;
  /** Extra passes run over transient failures. */
  retryPasses: number;
  /** Targets that appeared more than once in the list (done once). */
  duplicates: number;
  /** Lines of the things file that were not a valid target (skipped), and the first 100 of them. */
  invalidTargets: number;
  invalidTargetLines: string[];
  startedAt: string;
  endedAt: string;
}

export const DEFAULT_ROLLOUT_OPTIONS = Object.freeze({
  perSecond: AWS_QUOTA_DEFAULTS.accountRps,
  thingPerSecond: AWS_QUOTA_DEFAULTS.thingRps,
  thingInFlight: AWS_QUOTA_DEFAULTS.thingInFlight,
  attempts: 5,
  maxThings: 1000,
  maxDeletes: 10,
  requestAttempts: 6,
  retryPasses: 2,
  progressIntervalMs: 500,
  convergePollMs: 1000,
  region: 'us-east-1',
});

const ROLLOUT_OPS: OperationName[] = ['GetThingShadow', 'UpdateThingShadow'];

/** The first number that JSON cannot carry (1e400 parses as Infinity), as a path, or undefined. */
function nonFinitePath(v: unknown, path: string): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : path;
  if (v === null || typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v)) {
    const found = nonFinitePath(x, Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * A change that can never succeed (a number out of range, a null in an array, too deep, more
 * than the state limit) is refused before the first request, with AWS's reason: it would
 * otherwise cost one billed read and one failure per thing.
 */
function checkChange(desired: JsonObject): void {
  const bad = nonFinitePath(desired, 'desired');
  if (bad !== undefined)
    throw new InvalidArgumentError(`${bad}: a number outside the range of a double (like 1e400) cannot be sent`);
  const parsed = parseUpdateRequest(stringifyJson({ state: { desired } }), DEFAULT_SHADOW_LIMITS);
  if (!parsed.ok) throw new InvalidArgumentError(`desired: the change can never be applied: ${parsed.fault.message}`);
  const size = stateSize(desired);
  if (size > DEFAULT_SHADOW_LIMITS.maxStateBytes) {
    throw new InvalidArgumentError(
      `desired: the change is ${size} bytes, more than the ${DEFAULT_SHADOW_LIMITS.maxStateBytes} bytes a shadow's state may hold`,
    );
  }
}

/** Validates options once; messages name the option. */
function validate(o: RolloutOptions): void {
  if (o.desired === undefined && o.transform === undefined)
    throw new InvalidArgumentError(
      'rollout: give the change as desired (a merge document) or transform (a module path)',
    );
  if (o.desired !== undefined && o.transform !== undefined)
    throw new InvalidArgumentError('rollout: give either desired or transform, not both');
  if (o.desired !== undefined && (typeof o.desired !== 'object' || o.desired === null || Array.isArray(o.desired))) {
    throw new InvalidArgumentError('desired: expected an object (a desired merge document)');
  }
  if (o.targets === undefined || o.targets === null || o.targets === '')
    throw new InvalidArgumentError('targets: expected a file, - for stdin, or an iterable of thing names');
  if (isTargetSelection(o.targets)) checkTargetSelection(o.targets, 'targets');
  if (o.controlEndpoint !== undefined) parseDataEndpoint(o.controlEndpoint, 'controlEndpoint');
  // Compiled here, once, so a syntax error is a usage error before any request; the workers compile it again from its text.
  if (o.where !== undefined) new ShadowCondition(o.where);
  if (o.endpoint === undefined || o.endpoint === '')
    throw new InvalidArgumentError('endpoint: required (the data plane endpoint URL)');
  parseDataEndpoint(o.endpoint, 'endpoint');
  if (o.shadowName !== undefined) {
    const bad = validateShadowName(o.shadowName);
    if (bad !== undefined)
      throw new InvalidArgumentError(
        `shadow: ${JSON.stringify(o.shadowName)} is not a shadow name AWS accepts: ${bad}`,
      );
  }
  if (o.desired !== undefined) checkChange(o.desired);
  if (o.resume && o.journal === undefined)
    throw new InvalidArgumentError('resume: needs the journal of the earlier run (journal option / --journal)');
  // Rates, ramp, abort criteria, counts and caps: the rollout's one schema, the spec files' too.
  checkRolloutOptions(o);
  if (o.ramp !== undefined && o.rate === 'off')
    throw new InvalidArgumentError("ramp: needs a rate limit to ramp up to (rate is 'off')");
}

/** The settings of one rollout, resolved once from its options. */
interface RolloutPlanOfRun {
  dryRun: boolean;
  perSecond: number;
  maxThings: number;
  maxDeletes: number;
  allowDeletes: boolean;
  ramp: RampOptions | undefined;
}

function resolveRun(options: RolloutOptions): RolloutPlanOfRun {
  const rate = options.rate;
  return {
    dryRun: options.dryRun === true,
    perSecond: rate === 'off' ? Infinity : (rate?.perSecond ?? DEFAULT_ROLLOUT_OPTIONS.perSecond),
    maxThings: options.safety?.maxThings ?? DEFAULT_ROLLOUT_OPTIONS.maxThings,
    maxDeletes: options.safety?.maxDeletes ?? DEFAULT_ROLLOUT_OPTIONS.maxDeletes,
    allowDeletes: options.allowDeletes === true || options.safety?.allowDeletes === true,
    ramp: rate === 'off' ? undefined : options.ramp,
  };
}

/** The engine side of a rollout: client, gates, pool and batch sizes, signal, run timeout. */
function rolloutRunOptions(options: RolloutOptions, r: RolloutPlanOfRun): JobRunOptions {
  const client = jobClientConfig({
    endpoint: options.endpoint!,
    region: options.region ?? process.env.AWS_REGION ?? DEFAULT_ROLLOUT_OPTIONS.region,
    credentials: options.credentials,
    profile: options.profile,
    roleArn: options.roleArn,
    externalId: options.externalId,
    sessionName: options.sessionName,
    requestAttempts: options.requestAttempts ?? DEFAULT_ROLLOUT_OPTIONS.requestAttempts,
    requestTimeoutMs: options.timeouts?.requestMs,
  });
  const rate = options.rate;
  const ro: JobRunOptions = {
    client,
    rates:
      rate === 'off'
        ? { accountRps: 'off', thingRps: 'off', thingInFlight: 'off' }
        : {
            accountRps: r.perSecond,
            thingRps: rate?.thingPerSecond ?? DEFAULT_ROLLOUT_OPTIONS.thingPerSecond,
            thingInFlight: rate?.thingInFlight ?? DEFAULT_ROLLOUT_OPTIONS.thingInFlight,
          },
  };
  if (options.workers !== undefined) ro.workers = options.workers;
  if (options.signal !== undefined) ro.signal = options.signal;
  if (options.placement !== undefined) ro.placement = options.placement;
  if (options.timeouts?.runMs !== undefined) ro.runTimeoutMs = options.timeouts.runMs;
  // Batches small enough that journal, progress, ramps and abort criteria see results about
  // every 25 ms of quota (a batch reports when all its things are done), at most 100. A ramp
  // starts slow, so its base rate sizes the batches: Ctrl-C then drains seconds, not minutes.
  const batchRate = r.ramp !== undefined ? Math.min(r.ramp.baseRate, r.perSecond) : r.perSecond;
  ro.batchSize =
    options.batchSize ?? (Number.isFinite(batchRate) ? Math.max(4, Math.min(100, Math.round(batchRate / 40))) : 100);
  return ro;
}

function taskConfig(options: RolloutOptions, r: RolloutPlanOfRun): RolloutTaskConfig {
  const config: RolloutTaskConfig = {
    maxAttempts: options.attempts ?? DEFAULT_ROLLOUT_OPTIONS.attempts,
    dryRun: r.dryRun,
  };
  if (options.shadowName !== undefined) config.shadowName = options.shadowName;
  if (options.where !== undefined) config.where = options.where;
  if (options.desired !== undefined) config.desiredJson = stringifyJson(options.desired); // text: exact numbers cross threads intact
  if (options.transform !== undefined) {
    config.transform = options.transform.startsWith('file:')
      ? options.transform
      : pathToFileURL(options.transform).href;
    // A transform may delete keys: have the handler return each update so deletions can be counted.
    if (!r.allowDeletes && !r.dryRun) config.includeUpdate = true;
  }
  return config;
}

/** What progress events need to know, updated as the run goes. */
class RolloutProgressState {
  phase: RolloutProgress['phase'];
  converge: Partial<RolloutProgress> = {};
  gate: RolloutProgress['gate'];
  rate: number;
  targets: RolloutTargetStream | undefined;
  readonly #recent = new RecentRate();

  constructor(
    readonly report: RolloutReport,
    readonly startedAt: number,
    dryRun: boolean,
    rate: number,
  ) {
    this.phase = dryRun ? 'plan' : 'write';
    this.rate = rate;
  }

  event(final: boolean): RolloutProgress {
    const ph = this.phase;
    const now = Date.now();
    const s = this.report.progress(now);
    const tps = this.#recent.push(now, this.report.things);
    const p: RolloutProgress = {
      phase: ph,
      done: this.report.things,
      failed: s.failed,
      throttles: s.throttles,
      thingsPerSecond: Math.round(tps * 10) / 10,
      byOutcome: s.byOutcome,
      elapsedMs: now - this.startedAt,
    };
    const total = this.targets?.total;
    if (ph === 'converge') {
      p.thingsPerSecond = 0;
    } else if (total !== undefined) {
      p.total = Math.max(0, total - (this.targets?.duplicates ?? 0));
      if (tps > 0) p.etaSeconds = Math.max(0, Math.round(((p.total - p.done) / tps) * 10) / 10);
    }
    if (Number.isFinite(this.rate)) p.rate = this.rate;
    if (final) {
      p.final = true;
      if (ph !== 'converge') p.thingsPerSecond = s.thingsPerSecond;
    }
    if (ph === 'converge') Object.assign(p, this.converge);
    if (ph === 'gate' && this.gate !== undefined) p.gate = this.gate;
    return p;
  }
}

export async function runRollout(options: RolloutOptions): Promise<RolloutResult> {
  validate(options);
  const startedAt = new Date();
  const r = resolveRun(options);
  const report = new RolloutReport(startedAt.getTime());
  const state = new RolloutProgressState(
    report,
    startedAt.getTime(),
    r.dryRun,
    r.ramp === undefined ? r.perSecond : new RampSchedule(r.ramp, r.perSecond).rate,
  );
  await checkDestinations(options);
  const outcomes = await RolloutOutcomeFile.open(options.report);
  const ro = await engineOptions(options, r, state);
  // The engine starts first: its worker threads come up while the journal and targets are read.
  let run: JobRun;
  try {
    run = new JobRun(ro);
  } catch (err) {
    await outcomes.abort();
    throw err;
  }
  const files: RolloutFiles = {
    journal: undefined,
    journalPath: options.journal,
    temporaryJournal: options.journal === undefined,
    writing: false,
  };
  let fatal: unknown;
  let result: RolloutResult | undefined;
  try {
    const inputs = await openInputs(options, r, run, state, outcomes, files, startedAt);
    // 4. Write (or plan), then 5. convergence.
    files.writing = true;
    ({ result, fatal } = await writeAndConverge(options, r, run, state, outcomes, inputs, files, startedAt));
  } catch (err) {
    fatal ??= err;
  } finally {
    fatal = await closeRollout(run, outcomes, files, fatal);
  }
  if (fatal !== undefined) throw fatal;
  if (options.report !== undefined) await writeSummaryFile(options.report, result!);
  return result!;
}

/** Every destination is checked before the first request (a directory, a device, procfs). */
async function checkDestinations(options: RolloutOptions): Promise<void> {
  if (options.journal !== undefined) await checkDestinationFile(options.journal, 'journal');
  if (options.report !== undefined) {
    await checkDestinationFile(options.report, 'report');
    await checkDestinationFile(`${options.report}.summary.json`, 'report summary');
  }
}

/** The engine options of the run: rates, batches, threads sized to the targets, progress. */
async function engineOptions(
  options: RolloutOptions,
  r: RolloutPlanOfRun,
  state: RolloutProgressState,
): Promise<JobRunOptions> {
  const ro = rolloutRunOptions(options, r);
  const count = await knownTargetCount(options.targets);
  // Targets that fit in one batch run on this thread unless threads were asked for (the engine decides).
  if (count !== undefined && ro.workers === undefined) ro.expectedItems = count;
  ro.workers ??= workersForTargets(count, ro.batchSize!);
  const onProgress = options.onProgress;
  if (onProgress !== undefined) {
    ro.onProgress = (_run, final) => onProgress(state.event(final));
    ro.progressIntervalMs = options.progressIntervalMs ?? DEFAULT_ROLLOUT_OPTIONS.progressIntervalMs;
  }
  return ro;
}

/** The files of a run, as far as they got: what the teardown closes or removes. */
interface RolloutFiles {
  journal: Journal | undefined;
  journalPath: string | undefined;
  temporaryJournal: boolean;
  /** Until the write phase starts nothing was sent: a refusal leaves an existing report as it was. */
  writing: boolean;
}

/** What the write phase reads: the change's hash, the targets, the journal, the written things (for convergence). */
interface RolloutInputs {
  targets: RolloutTargetStream;
  journal: Journal;
  written: TargetItem[] | undefined;
}

/** 1. Resume, 2. targets, 3. journal: everything read before the first write. */
async function openInputs(
  options: RolloutOptions,
  r: RolloutPlanOfRun,
  run: JobRun,
  state: RolloutProgressState,
  outcomes: RolloutOutcomeFile,
  files: RolloutFiles,
  startedAt: Date,
): Promise<RolloutInputs> {
  const report = state.report;
  // 1. Resume: finished things are skipped, and counted (once) from the journal.
  const changeHash = await rolloutChangeHash({
    shadowName: options.shadowName,
    desired: options.desired,
    transform: options.transform,
    dryRun: r.dryRun,
    where: options.where,
  });
  const written: TargetItem[] | undefined = !r.dryRun && (options.waitConvergedMs ?? 0) > 0 ? [] : undefined;
  // A finished thing is counted and reported when it is a target again, never for being in the journal.
  const done = new Map<string, ItemResult>();
  if (options.resume && options.journal !== undefined)
    await readFinished(options.journal, changeHash, (d) => done.set(itemKey(d), d));
  const finished = {
    has: (key: string): boolean => {
      const d = done.get(key);
      if (d === undefined) return false;
      report.record(d, true);
      outcomes.write(d);
      if (written !== undefined && (d.outcome === 'written' || d.outcome === 'rebased')) written.push(refOf(d));
      return true;
    },
  };
  // 2. Targets: streamed; duplicates and finished things skipped; the safety caps peek ahead.
  const staticDeletes = options.desired !== undefined && hasNullLeaf(options.desired);
  const checkDeletes = !r.dryRun && staticDeletes && !r.allowDeletes;
  const peek = r.dryRun ? 0 : Math.max(options.yes ? 0 : r.maxThings + 1, checkDeletes ? r.maxDeletes + 1 : 0);
  const targets = await RolloutTargetStream.open(
    options.targets,
    options.shadowName,
    finished,
    {
      peek,
      maxThings: !r.dryRun && !options.yes ? r.maxThings : undefined,
      maxDeletes: checkDeletes ? r.maxDeletes : undefined,
    },
    controlAccess(options),
  ).catch((err: unknown) => {
    // Targets that cannot be opened (a directory that is no snapshot) are a usage error: nothing was sent yet.
    throw err instanceof SnapshotError ? new ConfigError(`targets: ${err.message}`, { cause: err }) : err;
  });
  state.targets = targets;
  // 3. Journal. One that cannot be written (disk full) stops the run at once: the coordinator
  // drains the work in flight and the failure is thrown at the end, after everything is closed.
  // pid and time alone are not unique: runs started together in one process (one per account) share the millisecond.
  files.journalPath ??= join(
    tmpdir(),
    `shadowfleet-rollout-${process.pid}-${startedAt.getTime()}-${randomBytes(4).toString('hex')}.journal`,
  );
  const journal = await Journal.open(files.journalPath, {
    kind: 'rollout',
    spec: changeHash,
    resume: options.resume === true,
    onError: (err) => run.drain(err.message),
  });
  files.journal = journal;
  return { targets, journal, written };
}

/** 4. Write (or plan), a failed gate's rollback, then 5. convergence; the result, or the error that stopped the run. */
async function writeAndConverge(
  options: RolloutOptions,
  r: RolloutPlanOfRun,
  run: JobRun,
  state: RolloutProgressState,
  outcomes: RolloutOutcomeFile,
  inputs: RolloutInputs,
  files: RolloutFiles,
  startedAt: Date,
): Promise<{ result: RolloutResult; fatal: unknown }> {
  const { targets, journal, written } = inputs;
  const write = await writePhase(options, r, run, state, journal, outcomes, targets, written);
  let fatal = write.fatal;
  // A failed gate stops the rollout (no convergence wait, exit 1); with rollback, every write is undone first.
  const gateFailure = fatal === undefined ? write.waves?.gateFailure : undefined;
  let rollback: RolloutRollbackSummary | undefined;
  if (gateFailure !== undefined) {
    if (gateFailure.action === 'rollback' && !run.interrupted) {
      state.phase = 'rollback';
      run.progress(false);
      rollback = await write
        .waves!.rollback(run, journal.path, outcomes, taskConfig(options, r))
        .catch((err: unknown) => {
          fatal ??= err;
          return undefined;
        });
    }
    run.abort(WavePhase.reason(gateFailure));
  }
  const convergence =
    fatal === undefined ? await convergePhase(options, run, state, written, write.interrupted) : undefined;
  if (convergence?.fatal !== undefined) fatal = convergence.fatal;
  const interrupted = write.interrupted || convergence?.interrupted === true || run.interrupted;
  const result = rolloutResult(options, r, run, state.report, { write, targets, interrupted, startedAt });
  if (convergence?.convergence !== undefined) result.convergence = convergence.convergence;
  if (!files.temporaryJournal) result.journal = files.journalPath;
  if (write.waves !== undefined) result.waves = write.waves.reports;
  if (gateFailure !== undefined) result.gateFailure = gateFailure;
  if (rollback !== undefined) result.rollback = rollback;
  return { result, fatal };
}

/** Teardown, always: the engine, the journal, the outcome file, a temporary journal's files. Returns the first error. */
async function closeRollout(
  run: JobRun,
  outcomes: RolloutOutcomeFile,
  files: RolloutFiles,
  error: unknown,
): Promise<unknown> {
  let fatal = error;
  await run.close().catch(() => {});
  if (files.journal !== undefined) await files.journal.close().catch((err) => (fatal ??= err));
  if (files.writing) await outcomes.end().catch((err) => (fatal ??= err));
  else await outcomes.abort();
  const journalPath = files.journalPath;
  if (files.temporaryJournal && journalPath !== undefined) {
    for (const f of [journalPath, intentLogPath(journalPath), `${journalPath}.rollback`])
      await rm(f, { force: true }).catch(() => {});
  }
  return fatal;
}

/** `<report>.summary.json`: the result, written once the run is over. */
async function writeSummaryFile(report: string, result: RolloutResult): Promise<void> {
  result.report = report;
  result.summaryFile = `${report}.summary.json`;
  await writeFileAtomic(result.summaryFile, JSON.stringify(result, null, 2) + '\n').catch(
    (err: NodeJS.ErrnoException) => {
      throw new SnapshotError(`${result.summaryFile}: cannot write the report summary (${err.code ?? err.message})`, {
        cause: err,
      });
    },
  );
}

interface WritePhaseResult {
  write: RolloutWrite;
  waves: WavePhase | undefined;
  interrupted: boolean;
  fatal: unknown;
}

/** Runs the write (or plan) phase with its retry passes; a stop by the job itself is not an error. */
async function writePhase(
  options: RolloutOptions,
  r: RolloutPlanOfRun,
  run: JobRun,
  state: RolloutProgressState,
  journal: Journal,
  outcomes: RolloutOutcomeFile,
  targets: RolloutTargetStream,
  written: TargetItem[] | undefined,
): Promise<WritePhaseResult> {
  const report = state.report;
  let ramp: ConstructorParameters<typeof RolloutWrite>[0]['ramp'];
  const applyRate = (rps: number, succeeded: number): void => {
    state.rate = rps;
    rampSteps.push({ atMs: Date.now() - state.startedAt, succeeded, rate: rps });
    report.setRate(rps);
    run.setRate(ROLLOUT_OPS, rps);
  };
  const rampSteps: RolloutResult['rampSteps'] = [];
  if (r.ramp !== undefined) {
    const schedule = new RampSchedule(r.ramp, r.perSecond);
    ramp = { schedule, apply: applyRate };
    applyRate(schedule.rate, 0);
  } else if (Number.isFinite(r.perSecond)) report.setRate(r.perSecond);
  const config = taskConfig(options, r);
  // Each write's undo record is on disk before the write is sent: a rollback after a kill -9 knows it.
  if (!r.dryRun) config.intentLog = intentLogPath(journal.path);
  const waves =
    options.waves === undefined ? undefined : await WavePhase.open(options.waves, wavePhaseHooks(options, run, state));
  const write = new RolloutWrite({
    run,
    config,
    journal,
    report,
    outcomes,
    dataByKey: targets.dataByKey,
    retryPasses: options.retryPasses ?? DEFAULT_ROLLOUT_OPTIONS.retryPasses,
    criteria: options.abort ?? [],
    ramp,
    maxDeletes: !r.allowDeletes && !r.dryRun ? r.maxDeletes : undefined,
    written,
    ...(waves === undefined ? {} : { onCommit: waves.committed }),
  });
  let interrupted = false;
  let fatal: unknown;
  try {
    if (waves !== undefined)
      await waves.write(run, targets.source, targets.dataByKey, config, (items, cfg) => write.run(items, cfg));
    else await write.run(targets.source);
  } catch (err) {
    const abortedErr = isShadowError(err) && err.code === 'SHADOW_ERR_ABORTED';
    if (run.interrupted || (abortedErr && run.aborted === undefined)) interrupted = true;
    else if (!(abortedErr && run.aborted !== undefined)) fatal = err;
  } finally {
    run.stopRunTimeout();
  }
  if (run.interrupted) interrupted = true;
  // A journal that failed (disk full) throws here; keep the error and still close everything.
  try {
    write.flushStash();
  } catch (err) {
    fatal ??= err;
  }
  report.end();
  await journal.flush().catch((err) => (fatal ??= err));
  run.progress(true);
  Object.assign(write, { rampSteps });
  return { write, interrupted, fatal, waves };
}

/** The waves' gates report progress (phase `gate`) after each round of re-reads. */
function wavePhaseHooks(options: RolloutOptions, run: JobRun, state: RolloutProgressState): WavePhaseHooks {
  return {
    pollMs: options.convergePollMs ?? DEFAULT_ROLLOUT_OPTIONS.convergePollMs,
    signal: options.signal,
    resumeJournal: options.resume === true ? options.journal : undefined,
    onGate: (wave, d) => {
      state.phase = 'gate';
      state.gate = {
        wave,
        label: waveLabel(options.waves!.waves[wave]!),
        verdict: d.verdict,
        things: d.things,
        converged: d.converged,
        healthy: d.healthy,
        unhealthy: d.unhealthy,
      };
      run.progress(false);
      if (d.verdict === 'pass') state.phase = 'write';
    },
  };
}

/** Waits for convergence when asked (not after a dry run, an interrupt or an abort). */
async function convergePhase(
  options: RolloutOptions,
  run: JobRun,
  state: RolloutProgressState,
  written: TargetItem[] | undefined,
  interrupted: boolean,
): Promise<{ convergence?: RolloutConvergence; interrupted: boolean; fatal?: unknown } | undefined> {
  if (written === undefined || interrupted || run.aborted !== undefined) return undefined;
  const check: ConvergeCheckTaskConfig = {};
  if (options.shadowName !== undefined) check.shadowName = options.shadowName;
  if (options.desired !== undefined) check.desiredJson = stringifyJson(options.desired);
  state.phase = 'converge';
  state.converge = { done: 0, total: written.length };
  try {
    const convergence = await waitConverged(run, check, written, {
      waitMs: options.waitConvergedMs!,
      pollMs: options.convergePollMs ?? DEFAULT_ROLLOUT_OPTIONS.convergePollMs,
      signal: options.signal,
      onProgress: (p) => {
        state.converge = p;
        run.progress(false);
      },
    });
    run.progress(true);
    return { convergence, interrupted: run.interrupted };
  } catch (err) {
    if (run.interrupted) return { interrupted: true };
    return { interrupted: false, fatal: err };
  }
}

function rolloutResult(
  _options: RolloutOptions,
  r: RolloutPlanOfRun,
  run: JobRun,
  report: RolloutReport,
  x: { write: WritePhaseResult; targets: RolloutTargetStream; interrupted: boolean; startedAt: Date },
): RolloutResult {
  const summary = report.summary();
  const aborted = run.aborted;
  const write = x.write.write;
  const result: RolloutResult = {
    ok: !x.interrupted && aborted === undefined && summary.failed === 0 && x.targets.invalidCount === 0,
    dryRun: r.dryRun,
    interrupted: x.interrupted,
    summary,
    rampSteps: (write as unknown as { rampSteps: RolloutResult['rampSteps'] }).rampSteps,
    retryPasses: write.passes,
    duplicates: x.targets.duplicates,
    invalidTargets: x.targets.invalidCount,
    invalidTargetLines: x.targets.invalidLines,
    startedAt: x.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
  };
  if (aborted !== undefined) result.aborted = aborted;
  if (r.dryRun) result.plan = planOf(summary, r.perSecond, r.ramp, write.planWriteBilled);
  return result;
}

/** Where a selection's control-plane calls go: the rollout's endpoint, region, credentials and signal. */
function controlAccess(o: RolloutOptions): ControlPlaneAccess {
  const a: ControlPlaneAccess = { endpoint: o.endpoint! };
  if (o.controlEndpoint !== undefined) a.controlEndpoint = o.controlEndpoint;
  const region = o.region ?? process.env.AWS_REGION;
  if (region !== undefined) a.region = region;
  if (o.credentials !== undefined) a.credentials = o.credentials;
  else if (hasCredentialSource(o))
    a.credentials = credentialSourceProvider(o, region ?? DEFAULT_ROLLOUT_OPTIONS.region);
  if (o.signal !== undefined) a.signal = o.signal;
  return a;
}

function planOf(s: RolloutSummary, perSecond: number, ramp: RampOptions | undefined, writeBilled: number): RolloutPlan {
  const c = (k: string): number => s.byOutcome[k] ?? 0;
  const wouldWrite = c('would-write');
  const reads = s.things - s.resumed;
  return {
    wouldWrite,
    unchanged: c('unchanged'),
    skipped: c('skipped'),
    skippedCondition: c('skipped-condition'),
    tooLarge: c('too-large'),
    invalid: c('invalid'),
    failed: c('failed'),
    bytesToSend: s.bytesSent,
    wholeBytes: s.wholeBytes,
    // the reads this plan made, plus each would-be write billed per started KB
    billedOperations: s.billedOperations + writeBilled,
    estimatedSeconds: Number.isFinite(perSecond)
      ? Math.round(estimateSeconds(reads, wouldWrite, perSecond, ramp) * 100) / 100
      : 0,
    ratePerSecond: Number.isFinite(perSecond) ? perSecond : 'off',
  };
}
