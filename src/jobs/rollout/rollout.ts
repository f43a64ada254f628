/**
 * `runRollout`: change `desired` state on many shadows through the engine, as fast as the
 * quota allows and never faster, without losing a device's concurrent writes, sending only what
 * changed; with ramps, abort criteria, safety caps, a journal for resume, dry runs, convergence
 * checks and a report.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, InvalidArgumentError, isShadowError } from '../../errors.js';
import { stringifyJson } from '../../shadow/json-text.js';
import { itemKey, type ConvergeCheckTaskConfig, type ItemResult, type RolloutTaskConfig, type TargetItem, type WorkerClientConfig } from '../../engine/task-types.js';
import { Coordinator, type CoordinatorOptions } from '../../engine/coordinator.js';
import { Journal, readJournal, specHash } from '../../engine/journal.js';
import { RecentRate } from '../../engine/recent-rate.js';
import type { OperationName } from '../../client/index.js';
import type { JsonObject } from '../../shadow/index.js';
import type { AbortCriterion, RampOptions, RolloutRateOptions, RolloutSpec } from './rollout-spec.js';
import { RolloutKeySet } from './rollout-key-set.js';
import { isSuccessOutcome, outcomeLine, RolloutReport, type RolloutSummary } from './rollout-report.js';
import { countTargets, openTargets, type RolloutTargets } from '../../engine/open-targets.js';

export * from './rollout-spec.js';
export * from './rollout-report.js';
export { openTargets, countTargets, type RolloutTargets } from '../../engine/open-targets.js';
export { RolloutKeySet } from './rollout-key-set.js';


export interface RolloutProgress {
  phase: 'write' | 'plan' | 'converge';
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
}

export interface RolloutOptions extends Omit<RolloutSpec, 'rate'> {
  /** Data plane endpoint, e.g. https://xxxx-ats.iot.eu-west-1.amazonaws.com or the emulator's URL. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A file (one thing a line, CSV or JSON lines), `-` for stdin, a Readable, or an iterable of names/items. */
  targets: RolloutTargets;
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

export interface RolloutConvergencePoint {
  elapsedMs: number;
  converged: number;
  pending: number;
  share: number;
}

export interface RolloutConvergence {
  /** Written things checked. */
  checked: number;
  converged: number;
  share: number;
  /** Keys (thing or thing/shadow) that had not converged at the deadline; at most 1000 listed. */
  notConverged: string[];
  notConvergedCount: number;
  waitedMs: number;
  series: RolloutConvergencePoint[];
}

export interface RolloutResult {
  ok: boolean;
  dryRun: boolean;
  interrupted: boolean;
  aborted?: { reason: string };
  summary: RolloutSummary;
  plan?: RolloutPlan;
  convergence?: RolloutConvergence;
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
  perSecond: 4000,
  thingPerSecond: 20,
  thingInFlight: 10,
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

function hasNullLeaf(v: unknown): boolean {
  if (v === null) return true;
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  for (const k of Object.keys(v as object)) if (hasNullLeaf((v as Record<string, unknown>)[k])) return true;
  return false;
}

/** The failure type a failed result counts under for abort criteria (besides `all`). */
export function failureType(r: ItemResult): 'failed' | 'throttled' | 'timed-out' {
  const code = r.error?.code;
  if (code === 'SHADOW_ERR_THROTTLED' || r.error?.awsErrorType === 'ThrottlingException') return 'throttled';
  if (code === 'SHADOW_ERR_TIMEOUT') return 'timed-out';
  return 'failed';
}

const TRANSIENT_CODES = new Set(['SHADOW_ERR_THROTTLED', 'SHADOW_ERR_UNAVAILABLE', 'SHADOW_ERR_NETWORK', 'SHADOW_ERR_TIMEOUT', 'SHADOW_ERR_WORKER']);
/** Transient stashes are bounded; beyond this, transient failures are final for the run (resume retries them). */
const MAX_STASH = 100_000;

/** A failure worth another pass: throttled out, 5xx, network, timeout, or a crashed worker batch. */
function isTransient(r: ItemResult): boolean {
  return r.error !== undefined && (r.error.retryable === true || TRANSIENT_CODES.has(r.error.code));
}

function refOf(r: { thingName: string; shadowName?: string | undefined }): TargetItem {
  return r.shadowName === undefined ? { thingName: r.thingName } : { thingName: r.thingName, shadowName: r.shadowName };
}

function isFailure(r: ItemResult): boolean {
  return r.outcome === 'failed' || (r.error !== undefined && !isSuccessOutcome(r.outcome));
}

/** Seconds a run over `reads` things writing `writes` of them takes at `rate` requests/s per operation, with an optional ramp. */
export function estimateSeconds(reads: number, writes: number, rate: number, ramp?: RampOptions): number {
  const ops = Math.max(reads, writes);
  if (ramp === undefined) return ops / rate;
  let remaining = ops;
  let r = Math.min(ramp.baseRate, rate);
  let t = 0;
  const max = Math.min(ramp.maxRate ?? rate, rate);
  while (remaining > 0) {
    if (r >= max) return t + remaining / max;
    const n = Math.min(ramp.everySucceeded, remaining);
    t += n / r;
    remaining -= n;
    r = Math.min(max, r * ramp.factor);
  }
  return t;
}

/** Validates options once; messages name the option. */
function validate(o: RolloutOptions): void {
  if (o.desired === undefined && o.transform === undefined) throw new InvalidArgumentError('rollout: give the change as desired (a merge document) or transform (a module path)');
  if (o.desired !== undefined && o.transform !== undefined) throw new InvalidArgumentError('rollout: give either desired or transform, not both');
  if (o.desired !== undefined && (typeof o.desired !== 'object' || o.desired === null || Array.isArray(o.desired))) {
    throw new InvalidArgumentError('desired: expected an object (a desired merge document)');
  }
  if (o.targets === undefined || o.targets === null || o.targets === '') throw new InvalidArgumentError('targets: expected a file, - for stdin, or an iterable of thing names');
  if (o.endpoint === undefined || o.endpoint === '') throw new InvalidArgumentError('endpoint: required (the data plane endpoint URL)');
  if (o.resume && o.journal === undefined) throw new InvalidArgumentError('resume: needs the journal of the earlier run (journal option / --journal)');
  const pos = (name: string, v: number | undefined, int = false): void => {
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (int && !Number.isInteger(v))) {
      throw new InvalidArgumentError(`${name}: expected a positive ${int ? 'integer' : 'number'}`);
    }
  };
  if (o.rate !== undefined && o.rate !== 'off') {
    pos('rate.perSecond', o.rate.perSecond);
    pos('rate.thingPerSecond', o.rate.thingPerSecond);
    pos('rate.thingInFlight', o.rate.thingInFlight, true);
  }
  pos('attempts', o.attempts, true);
  pos('workers', o.workers, true);
  pos('batchSize', o.batchSize, true);
  pos('requestAttempts', o.requestAttempts, true);
  if (o.ramp !== undefined) {
    if (o.rate === 'off') throw new InvalidArgumentError("ramp: needs a rate limit to ramp up to (rate is 'off')");
    pos('ramp.baseRate', o.ramp.baseRate);
    pos('ramp.everySucceeded', o.ramp.everySucceeded, true);
    if (typeof o.ramp.factor !== 'number' || !(o.ramp.factor > 1)) throw new InvalidArgumentError('ramp.factor: expected a number greater than 1');
  }
  for (const [i, c] of (o.abort ?? []).entries()) {
    if (!['failed', 'throttled', 'timed-out', 'all'].includes(c.failureType)) throw new InvalidArgumentError(`abort[${i}].failureType: expected one of failed, throttled, timed-out, all`);
    if (!(c.thresholdPercentage >= 0 && c.thresholdPercentage <= 100)) throw new InvalidArgumentError(`abort[${i}].thresholdPercentage: expected a percentage from 0 to 100`);
  }
}

/** A hash of the transform module's source (the module file itself), or null when it cannot be read. */
async function transformCodeHash(transform: string): Promise<string | null> {
  try {
    const source = await readFile(transform.startsWith('file:') ? fileURLToPath(transform) : transform);
    return createHash('sha256').update(source).digest('hex');
  } catch {
    return null;
  }
}

/** Yields the items of `source`, first the ones already taken by a peek. */
async function* chain<T>(head: T[], rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield* head;
  for (;;) {
    const n = await rest.next();
    if (n.done) return;
    yield n.value;
  }
}

export async function runRollout(options: RolloutOptions): Promise<RolloutResult> {
  validate(options);
  const startedAt = new Date();
  const dryRun = options.dryRun === true;
  const shadowName = options.shadowName;
  const rate = options.rate;
  const perSecond = rate === 'off' ? Infinity : rate?.perSecond ?? DEFAULT_ROLLOUT_OPTIONS.perSecond;
  const maxThings = options.safety?.maxThings ?? DEFAULT_ROLLOUT_OPTIONS.maxThings;
  const maxDeletes = options.safety?.maxDeletes ?? DEFAULT_ROLLOUT_OPTIONS.maxDeletes;
  const allowDeletes = options.allowDeletes === true || options.safety?.allowDeletes === true;
  const ramp = options.ramp;
  const maxRate = Math.min(ramp?.maxRate ?? perSecond, perSecond);
  const progressEvery = options.progressIntervalMs ?? DEFAULT_ROLLOUT_OPTIONS.progressIntervalMs;
  const report = new RolloutReport(startedAt.getTime());

  // 1. Resume: finished things are skipped, and counted (once) from the journal.
  const finished = new Set<string>();
  let outFile: WriteStream | undefined;
  const writeLine = (r: ItemResult): void => {
    outFile?.write(JSON.stringify(outcomeLine(r)) + '\n');
  };
  if (options.report !== undefined) {
    const file = options.report;
    outFile = createWriteStream(file, { flags: 'w' });
    await new Promise<void>((resolve, reject) => {
      outFile!.once('open', () => resolve());
      outFile!.once('error', (err: NodeJS.ErrnoException) =>
        reject(new ConfigError(`${file}: cannot write the report (${err.code ?? err.message})`, { cause: err })),
      );
    });
  }
  // The journal's identity: a resume with another change is refused.
  const change: Record<string, unknown> = { kind: 'rollout', shadow: shadowName ?? null, desired: options.desired ?? null, transform: options.transform ?? null, dryRun };
  // A transform is identified by its code, not only its path: an edited module is another change.
  if (options.transform !== undefined) change.transformCode = await transformCodeHash(options.transform);
  const changeHash = specHash(change);
  // Written things to check for convergence (kept only when asked to wait).
  const wantConverge = !dryRun && (options.waitConvergedMs ?? 0) > 0;
  const written: TargetItem[] = [];
  if (options.resume && options.journal !== undefined && (await stat(options.journal).then((st) => st.size > 0, () => false))) {
    // A thing is finished by its first non-failed entry; failures are tried again.
    const { header } = await readJournal(options.journal, (r) => {
      const key = itemKey(r);
      if (finished.has(key) || isFailure(r)) return;
      finished.add(key);
      report.record(r, true);
      writeLine(r);
      if (wantConverge && (r.outcome === 'written' || r.outcome === 'rebased')) written.push(refOf(r));
    });
    if (header === undefined || header.specHash !== changeHash) {
      outFile?.end();
      throw new ConfigError(
        `${options.journal}: the journal was written for a different change (shadow, desired, transform or dry run); resume with the same change, or start a new journal`,
      );
    }
  }

  // 2. Targets: streamed; duplicates and finished things skipped; the blast-radius cap peeks ahead.
  const total = await countTargets(options.targets).catch(() => undefined);
  let duplicates = 0;
  const seen = new RolloutKeySet();
  // The extra columns of targets in flight (and of transient failures awaiting another pass).
  const dataByKey = new Map<string, Record<string, string>>();
  const invalidTargets: string[] = [];
  let invalidTargetCount = 0;
  const opened = await openTargets(options.targets, (p) => {
    invalidTargetCount += 1;
    if (invalidTargets.length < 100) invalidTargets.push(`${p.file}:${p.line}: ${p.message}`);
  });
  const targets = (async function* (): AsyncGenerator<TargetItem> {
    for await (const raw of opened) {
      const item: TargetItem = raw.shadowName === undefined && shadowName !== undefined ? { ...raw, shadowName } : raw;
      const key = itemKey(item);
      if (!seen.add(key)) {
        duplicates += 1;
        continue;
      }
      if (finished.has(key)) continue;
      if (item.data !== undefined) dataByKey.set(key, item.data);
      yield item;
    }
  })();
  const staticDeletes = options.desired !== undefined && hasNullLeaf(options.desired);
  const peekN = dryRun ? 0 : Math.max(options.yes ? 0 : maxThings + 1, staticDeletes && !allowDeletes ? maxDeletes + 1 : 0);
  const head: TargetItem[] = [];
  for (let i = 0; i < peekN; i++) {
    const n = await targets.next();
    if (n.done) break;
    head.push(n.value);
  }
  if (!dryRun && !options.yes && head.length > maxThings) {
    await targets.return(undefined);
    outFile?.end();
    throw new InvalidArgumentError(
      `rollout targets more than ${maxThings} things (the blast-radius cap, safety.maxThings): confirm with --yes (yes: true), or try --dry-run first`,
    );
  }
  if (!dryRun && staticDeletes && !allowDeletes && head.length > maxDeletes) {
    await targets.return(undefined);
    outFile?.end();
    throw new InvalidArgumentError(
      `the change deletes keys (null in desired) on more than ${maxDeletes} things (safety.maxDeletes): confirm with --allow-deletes (allowDeletes: true)`,
    );
  }
  const source = chain(head, targets);

  // 3. Journal.
  let journalPath = options.journal;
  const temporaryJournal = journalPath === undefined;
  journalPath ??= join(tmpdir(), `shadowfleet-rollout-${process.pid}-${startedAt.getTime()}.journal`);
  // A journal that cannot be written (disk full) stops the run at once: the coordinator drains
  // the work in flight and the failure is thrown at the end, after everything is closed.
  let stopForJournal: (err: Error) => void = () => {};
  const journal = await Journal.open(journalPath, { kind: 'rollout', spec: changeHash, resume: options.resume === true, onError: (err) => stopForJournal(err) });

  // 4. Coordinator.
  const client: WorkerClientConfig = {
    endpoint: options.endpoint!,
    region: options.region ?? process.env.AWS_REGION ?? DEFAULT_ROLLOUT_OPTIONS.region,
    maxAttempts: options.requestAttempts ?? DEFAULT_ROLLOUT_OPTIONS.requestAttempts,
  };
  if (options.credentials !== undefined) client.credentials = options.credentials;
  if (options.timeouts?.requestMs !== undefined) client.requestTimeoutMs = options.timeouts.requestMs;
  const internal = new AbortController();
  const onOuterAbort = (): void => internal.abort(options.signal?.reason);
  if (options.signal?.aborted) internal.abort(options.signal.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const coordinatorOptions: CoordinatorOptions = {
    client,
    rates:
      rate === 'off'
        ? { accountRps: 'off', thingRps: 'off', thingInFlight: 'off' }
        : {
            accountRps: perSecond,
            thingRps: rate?.thingPerSecond ?? DEFAULT_ROLLOUT_OPTIONS.thingPerSecond,
            thingInFlight: rate?.thingInFlight ?? DEFAULT_ROLLOUT_OPTIONS.thingInFlight,
          },
    signal: internal.signal,
  } as CoordinatorOptions;
  if (options.workers !== undefined) (coordinatorOptions as { workers?: number }).workers = options.workers;
  // Batches small enough that journal, progress, ramps and abort criteria see results about
  // every 25 ms of quota (a batch reports when all its things are done), at most 100. A ramp
  // starts slow, so its base rate sizes the batches: Ctrl-C then drains seconds, not minutes.
  const batchRate = ramp !== undefined && rate !== 'off' ? Math.min(ramp.baseRate, perSecond) : perSecond;
  (coordinatorOptions as { batchSize?: number }).batchSize =
    options.batchSize ?? (Number.isFinite(batchRate) ? Math.max(4, Math.min(100, Math.round(batchRate / 40))) : 100);
  const coordinator = new Coordinator(coordinatorOptions);
  stopForJournal = (err) => coordinator.abort(err.message);

  let currentRate = perSecond;
  const rampSteps: RolloutResult['rampSteps'] = [];
  let succeeded = 0;
  const applyRate = (rps: number): void => {
    currentRate = rps;
    rampSteps.push({ atMs: Date.now() - startedAt.getTime(), succeeded, rate: rps });
    report.setRate(rps);
    for (const op of ROLLOUT_OPS) coordinator.setRate(op, rps);
  };
  if (ramp !== undefined && rate !== 'off') applyRate(Math.min(ramp.baseRate, maxRate));
  else if (Number.isFinite(perSecond)) report.setRate(perSecond);

  const config: RolloutTaskConfig = {
    maxAttempts: options.attempts ?? DEFAULT_ROLLOUT_OPTIONS.attempts,
    dryRun,
  };
  if (shadowName !== undefined) config.shadowName = shadowName;
  if (options.desired !== undefined) config.desiredJson = stringifyJson(options.desired); // text: exact numbers cross threads intact
  if (options.transform !== undefined) {
    config.transform = options.transform.startsWith('file:') ? options.transform : pathToFileURL(options.transform).href;
    // A transform may delete keys: have the handler return each update so deletions can be counted.
    if (!allowDeletes && !dryRun) config.includeUpdate = true;
  }

  // 5. Run the write (or plan) phase.
  let aborted: { reason: string } | undefined;
  const abortWith = (reason: string): void => {
    if (aborted !== undefined) return;
    aborted = { reason };
    coordinator.abort(reason);
  };
  const criteria: AbortCriterion[] = options.abort ?? [];
  const failuresByType = { failed: 0, throttled: 0, 'timed-out': 0, all: 0 };
  let rampStep = 0;
  let deletingThings = 0;
  let runDone = 0;
  let phase: RolloutProgress['phase'] = dryRun ? 'plan' : 'write';
  let convergeProgress: Partial<RolloutProgress> = {};
  const recent = new RecentRate();
  const progress = (final = false): void => {
    if (options.onProgress === undefined) return;
    const ph = phase;
    const extra = ph === 'converge' ? convergeProgress : undefined;
    const s = report.summary();
    const now = Date.now();
    const tps = recent.push(now, report.things);
    const p: RolloutProgress = {
      phase: ph,
      done: report.things,
      failed: s.failed,
      throttles: s.throttles,
      thingsPerSecond: Math.round(tps * 10) / 10,
      byOutcome: s.byOutcome,
      elapsedMs: now - startedAt.getTime(),
    };
    if (ph === 'converge') {
      p.thingsPerSecond = 0;
    } else if (total !== undefined) {
      p.total = Math.max(0, total - duplicates);
      if (tps > 0) p.etaSeconds = Math.max(0, Math.round(((p.total - p.done) / tps) * 10) / 10);
    }
    if (Number.isFinite(currentRate)) p.rate = currentRate;
    if (final) {
      p.final = true;
      if (ph !== 'converge') p.thingsPerSecond = s.thingsPerSecond;
    }
    Object.assign(p, extra);
    try {
      options.onProgress(p);
    } catch {
      // a progress callback never breaks the run
    }
  };
  const timer = options.onProgress === undefined ? undefined : setInterval(() => progress(), progressEvery);
  const runTimer =
    options.timeouts?.runMs !== undefined ? setTimeout(() => abortWith(`run timeout: ${options.timeouts!.runMs} ms passed`), options.timeouts.runMs) : undefined;

  let planWriteBilled = 0;
  const retryPasses = options.retryPasses ?? DEFAULT_ROLLOUT_OPTIONS.retryPasses;
  // Things that failed on a transient error (throttled out, 5xx, network, timeout) get another
  // pass at the end; they are journaled and reported once, with their last outcome.
  let stash: ItemResult[] = [];
  const commit = (r: ItemResult): void => {
    journal.append(r);
    if (wantConverge && (r.outcome === 'written' || r.outcome === 'rebased')) written.push(refOf(r));
    report.record(r);
    writeLine(r);
    if (r.outcome === 'would-write') planWriteBilled += Math.max(1, Math.ceil(r.bytesSent / 1024));
    if (dataByKey.size > 0) dataByKey.delete(itemKey(r));
  };
  const onResultOfPass = (pass: number) => (raw: ItemResult): void => {
    let deletes = false;
    let r = raw;
    const d = raw.detail as { update?: unknown } | undefined;
    if (d !== undefined && d !== null && d.update !== undefined) {
      deletes = hasNullLeaf(d.update);
      const { update: _update, ...rest } = d as Record<string, unknown>;
      r = { ...raw };
      if (Object.keys(rest).length > 0) r.detail = rest;
      else delete r.detail;
    }
    const failure = isFailure(r);
    if (pass === 0) {
      runDone += 1;
      if (failure) {
        failuresByType.all += 1;
        failuresByType[failureType(r)] += 1;
      }
    }
    if (!failure && isSuccessOutcome(r.outcome)) succeeded += 1;
    if (failure && isTransient(r) && pass < retryPasses && stash.length < MAX_STASH) stash.push(r);
    else commit(r);
    if (deletes && (r.outcome === 'written' || r.outcome === 'rebased')) {
      deletingThings += 1;
      if (!allowDeletes && !dryRun && deletingThings > maxDeletes) {
        abortWith(`the change deleted keys on more than ${maxDeletes} things (safety.maxDeletes); rerun with --allow-deletes to continue`);
      }
    }
    // Ramp: multiply the rate after every `everySucceeded` successful things, up to the quota.
    if (ramp !== undefined && rate !== 'off' && currentRate < maxRate) {
      const step = Math.floor(succeeded / ramp.everySucceeded);
      if (step > rampStep) {
        rampStep = step;
        applyRate(Math.min(maxRate, ramp.baseRate * ramp.factor ** step));
      }
    }
    if (pass > 0) return;
    for (const c of criteria) {
      if (runDone < Math.max(1, c.minThings)) continue;
      const failedOfType = failuresByType[c.failureType];
      const pct = (failedOfType / runDone) * 100;
      if (pct > c.thresholdPercentage) {
        const what = c.failureType === 'all' || c.failureType === 'failed' ? 'failed' : c.failureType;
        abortWith(
          `abort criterion: ${failedOfType} of ${runDone} things (${pct.toFixed(1)}%) ${what} > ${c.thresholdPercentage}% (failureType ${c.failureType}, minThings ${c.minThings})`,
        );
        break;
      }
    }
  };

  let interrupted = false;
  let fatal: unknown;
  let passes = 0;
  try {
    await coordinator.run<RolloutTaskConfig>('rollout', config, source, onResultOfPass(0));
    while (stash.length > 0 && !coordinator.aborted && !(options.signal?.aborted ?? false)) {
      passes += 1;
      const again = stash.map((r): TargetItem => {
        const item: TargetItem = { thingName: r.thingName };
        if (r.shadowName !== undefined) item.shadowName = r.shadowName;
        const data = dataByKey.get(itemKey(r));
        if (data !== undefined) item.data = data;
        return item;
      });
      stash = [];
      await coordinator.run<RolloutTaskConfig>('rollout', config, again, onResultOfPass(passes));
    }
  } catch (err) {
    if (options.signal?.aborted || (isShadowError(err) && err.code === 'SHADOW_ERR_ABORTED' && aborted === undefined)) interrupted = true;
    else if (!(isShadowError(err) && err.code === 'SHADOW_ERR_ABORTED' && aborted !== undefined)) fatal = err;
  } finally {
    if (runTimer !== undefined) clearTimeout(runTimer);
  }
  if (options.signal?.aborted) interrupted = true;
  // A journal that failed (disk full) throws here; keep the error and still close everything below.
  try {
    for (const r of stash) commit(r);
  } catch (err) {
    fatal ??= err;
  }
  stash = [];
  report.end();
  await journal.flush().catch((err) => (fatal ??= err));
  progress(true);

  // 6. Convergence: after writing, check (within the rate limits) until devices report the new values.
  let convergence: RolloutConvergence | undefined;
  if (fatal === undefined && !dryRun && !interrupted && aborted === undefined && (options.waitConvergedMs ?? 0) > 0) {
    try {
      const check: ConvergeCheckTaskConfig = {};
      if (shadowName !== undefined) check.shadowName = shadowName;
      if (options.desired !== undefined) check.desiredJson = stringifyJson(options.desired);
      phase = 'converge';
      convergeProgress = { done: 0, total: written.length };
      convergence = await waitConverged(coordinator, check, written, options, () => interrupted || (options.signal?.aborted ?? false), (p) => {
        convergeProgress = p;
        progress();
      });
      progress(true);
    } catch (err) {
      if (options.signal?.aborted) interrupted = true;
      else fatal ??= err;
    }
    if (options.signal?.aborted) interrupted = true;
  }

  if (timer !== undefined) clearInterval(timer);
  options.signal?.removeEventListener('abort', onOuterAbort);
  await coordinator.close().catch(() => {});
  await journal.close().catch((err) => (fatal ??= err));
  if (outFile !== undefined) await new Promise<void>((resolve) => outFile!.end(resolve));
  if (temporaryJournal) {
    const { rm } = await import('node:fs/promises');
    await rm(journalPath, { force: true }).catch(() => {});
  }
  if (fatal !== undefined) throw fatal;

  const summary = report.summary();
  const result: RolloutResult = {
    ok: !interrupted && aborted === undefined && summary.failed === 0 && invalidTargetCount === 0,
    dryRun,
    interrupted,
    summary,
    rampSteps,
    retryPasses: passes,
    duplicates,
    invalidTargets: invalidTargetCount,
    invalidTargetLines: invalidTargets,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
  };
  if (aborted !== undefined) result.aborted = aborted;
  if (dryRun) result.plan = planOf(summary, perSecond, ramp, planWriteBilled);
  if (convergence !== undefined) result.convergence = convergence;
  if (!temporaryJournal) result.journal = journalPath;
  if (options.report !== undefined) {
    result.report = options.report;
    result.summaryFile = `${options.report}.summary.json`;
    await writeFile(result.summaryFile, JSON.stringify(result, null, 2) + '\n');
  }
  return result;
}

function planOf(s: RolloutSummary, perSecond: number, ramp: RampOptions | undefined, writeBilled: number): RolloutPlan {
  const c = (k: string): number => s.byOutcome[k] ?? 0;
  const wouldWrite = c('would-write');
  const reads = s.things - s.resumed;
  return {
    wouldWrite,
    unchanged: c('unchanged'),
    skipped: c('skipped'),
    tooLarge: c('too-large'),
    invalid: c('invalid'),
    failed: c('failed'),
    bytesToSend: s.bytesSent,
    wholeBytes: s.wholeBytes,
    // the reads this plan made, plus each would-be write billed per started KB
    billedOperations: s.billedOperations + writeBilled,
    estimatedSeconds: Number.isFinite(perSecond) ? Math.round(estimateSeconds(reads, wouldWrite, perSecond, ramp) * 100) / 100 : 0,
    ratePerSecond: Number.isFinite(perSecond) ? perSecond : 'off',
  };
}

async function waitConverged(
  coordinator: Coordinator,
  config: ConvergeCheckTaskConfig,
  written: TargetItem[],
  options: RolloutOptions,
  stopped: () => boolean,
  onProgress: (p: Partial<RolloutProgress>) => void,
): Promise<RolloutConvergence> {
  const started = Date.now();
  const deadline = started + options.waitConvergedMs!;
  const poll = options.convergePollMs ?? DEFAULT_ROLLOUT_OPTIONS.convergePollMs;
  // Round 1 checks every written thing; later rounds re-check only the laggards.
  let pending: TargetItem[] = [];
  let checked = 0;
  let converged = 0;
  const series: RolloutConvergencePoint[] = [];
  let round = 0;
  for (;;) {
    const next: TargetItem[] = [];
    const src = round === 0 ? written : pending;
    await coordinator.run<ConvergeCheckTaskConfig>('converge-check', config, src, (r) => {
      if (round === 0) checked += 1;
      if (r.outcome === 'converged') converged += 1;
      else next.push(r.shadowName === undefined ? { thingName: r.thingName } : { thingName: r.thingName, shadowName: r.shadowName });
    });
    round += 1;
    pending = next;
    const elapsedMs = Date.now() - started;
    series.push({ elapsedMs, converged, pending: pending.length, share: checked > 0 ? converged / checked : 1 });
    onProgress({ done: converged, total: checked });
    if (pending.length === 0 || stopped() || Date.now() + poll >= deadline) break;
    // Wait one poll interval, or less if interrupted; the listener goes with the wait.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        options.signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, poll);
      options.signal?.addEventListener('abort', done, { once: true });
    });
    if (stopped()) break;
  }
  return {
    checked,
    converged,
    share: checked > 0 ? converged / checked : 1,
    notConverged: pending.slice(0, 1000).map(itemKey),
    notConvergedCount: pending.length,
    waitedMs: Date.now() - started,
    series,
  };
}

