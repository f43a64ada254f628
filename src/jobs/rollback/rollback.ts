/**
 * `runRollback`: undo a finished, stopped or crashed rollout from its journal. Every write the
 * rollout made (or may have made: the intents beside the journal cover a kill -9) carries its
 * undo record; per thing, the keys the write changed go back to their previous values, keys
 * that did not exist are deleted, and a key someone changed after the write is kept and
 * reported. Writes are version-guarded (a device writing in between causes a re-read).
 *
 * The rollback has a journal of its own (`<journal>.rollback` unless given); running the same
 * command again continues it, skipping the things it finished. A dry run reads and plans only.
 *
 * The undo records of the written things are held in memory while the rollback runs (one JSON
 * text per written thing), read from the journal and the intent log in one streamed pass each.
 */
import { stat, writeFile } from 'node:fs/promises';
import { ConfigError, InvalidArgumentError } from '../../errors.js';
import { checkPositive } from '../../options/check-positive.js';
import { intentLogPath, readIntents } from '../../engine/intent-log.js';
import { jobClientConfig, JobRun, type JobRunOptions } from '../../engine/job-run.js';
import { Journal, readJournal, type JournalHeader } from '../../engine/journal.js';
import type { RateGateOptions } from '../../engine/rate-gate.js';
import { itemKey, type ItemResult, type TargetItem } from '../../engine/task-types.js';
import { UNDO_DATA_KEY, type RollbackTaskConfig } from '../../engine/wave-task-types.js';
import type { KeptKey } from '../../shadow/rollback-update.js';
import { RolloutOutcomeFile } from '../rollout/rollout-outcome-file.js';

export interface RollbackOptions {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The journal of the rollout to undo. */
  journal: string;
  /** The rollback's own journal. Default `<journal>.rollback`. */
  rollbackJournal?: string;
  /** Read and plan only; writes nothing (and keeps no journal). */
  dryRun?: boolean;
  /** Per-thing outcome file (NDJSON); the summary goes to `${report}.summary.json`. */
  report?: string;
  rates?: RateGateOptions | 'off';
  workers?: number;
  batchSize?: number;
  /** Read-plan-write attempts per thing on version conflicts. Default 5. */
  maxAttempts?: number;
  requestAttempts?: number;
  signal?: AbortSignal;
  onProgress?: (p: RollbackProgress) => void;
  progressIntervalMs?: number;
}

export interface RollbackProgress {
  done: number;
  total: number;
  rolledBack: number;
  kept: number;
  failed: number;
  elapsedMs: number;
  final?: boolean;
}

/** A key left alone because someone changed it after the rollout wrote it. */
export interface KeptKeyReport extends KeptKey {
  thing: string;
  shadow?: string;
}

export interface RollbackResult {
  ok: boolean;
  dryRun: boolean;
  interrupted: boolean;
  /** The rollout journal undone. */
  journal: string;
  rollbackJournal?: string;
  /** Things the rollout wrote (or may have written), each undone once. */
  things: number;
  /** Things finished by an earlier run of this rollback (skipped). */
  resumed: number;
  rolledBack: number;
  /** Things already at their previous values (nothing sent). */
  unchanged: number;
  /** Dry run: things a rollback would write. */
  wouldWrite: number;
  /** Things with at least one key kept. */
  keptThings: number;
  keptKeyCount: number;
  /** The kept keys, at most 1000 listed. */
  keptKeys: KeptKeyReport[];
  failed: number;
  failures: Array<{ thing: string; shadow?: string; message: string }>;
  report?: string;
  summaryFile?: string;
  startedAt: string;
  endedAt: string;
}

const MAX_LISTED = 1000;

/** One undo per written thing: the journal's records, then the intents (later attempts win). */
export async function collectUndoRecords(
  journal: string,
): Promise<{ header: JournalHeader | undefined; undo: Map<string, { item: TargetItem; undo: string }> }> {
  const undo = new Map<string, { item: TargetItem; undo: string }>();
  const put = (t: { thingName: string; shadowName?: string | undefined }, undoJson: string): void => {
    const item: TargetItem = { thingName: t.thingName };
    if (t.shadowName !== undefined) item.shadowName = t.shadowName;
    undo.set(itemKey(t), { item, undo: undoJson });
  };
  const exists = await stat(journal).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!exists) throw new ConfigError(`${journal}: no such journal (give the --journal of the rollout to undo)`);
  const { header } = await readJournal(journal, (r) => {
    const undoJson = (r.detail as { undoJson?: unknown } | undefined)?.undoJson;
    if (typeof undoJson === 'string') put(r, undoJson);
  });
  if (header === undefined) throw new ConfigError(`${journal}: not a shadowfleet journal (no header line)`);
  if (header.kind !== 'rollout')
    throw new ConfigError(`${journal}: a ${header.kind} journal; only a rollout can be rolled back`);
  await readIntents(intentLogPath(journal), (i) => put(i, i.undoJson));
  return { header, undo };
}

function validate(o: RollbackOptions): void {
  if (typeof o.journal !== 'string' || o.journal === '')
    throw new InvalidArgumentError('journal: expected the path of the rollout journal to undo');
  if (o.endpoint === undefined || o.endpoint === '')
    throw new InvalidArgumentError('endpoint: required (the data plane endpoint URL)');
  checkPositive('maxAttempts', o.maxAttempts);
}

/** Tallies a rollback's results into the result fields. */
class RollbackTally {
  rolledBack = 0;
  unchanged = 0;
  wouldWrite = 0;
  keptThings = 0;
  keptKeyCount = 0;
  readonly keptKeys: KeptKeyReport[] = [];
  failed = 0;
  readonly failures: RollbackResult['failures'] = [];

  add(r: ItemResult): void {
    if (r.outcome === 'rolled-back') this.rolledBack += 1;
    else if (r.outcome === 'unchanged') this.unchanged += 1;
    else if (r.outcome === 'would-write') this.wouldWrite += 1;
    else if (r.outcome === 'failed') {
      this.failed += 1;
      if (this.failures.length < MAX_LISTED) {
        const f: RollbackResult['failures'][number] = { thing: r.thingName, message: r.error?.message ?? 'failed' };
        if (r.shadowName !== undefined) f.shadow = r.shadowName;
        this.failures.push(f);
      }
    }
    const kept = (r.detail as { kept?: KeptKey[] } | undefined)?.kept ?? [];
    if (kept.length > 0) this.keptThings += 1;
    this.keptKeyCount += kept.length;
    for (const k of kept) {
      if (this.keptKeys.length >= MAX_LISTED) break;
      const line: KeptKeyReport = { thing: r.thingName, ...k };
      if (r.shadowName !== undefined) line.shadow = r.shadowName;
      this.keptKeys.push(line);
    }
  }
}

/**
 * One rollback pass on an open JobRun (a rollout's automatic rollback reuses its own run):
 * undoes `items` (each with `data.undo`), calling `onResult` per thing.
 */
export async function rollbackPass(
  run: JobRun,
  items: AsyncIterable<TargetItem> | Iterable<TargetItem>,
  config: RollbackTaskConfig,
  onResult: (r: ItemResult) => void | Promise<void>,
): Promise<void> {
  await run.run<RollbackTaskConfig>('rollback', config, items, onResult);
}

export async function runRollback(options: RollbackOptions): Promise<RollbackResult> {
  validate(options);
  const startedAt = new Date();
  const dryRun = options.dryRun === true;
  const { header, undo } = await collectUndoRecords(options.journal);
  const rollbackJournalPath = options.rollbackJournal ?? `${options.journal}.rollback`;
  // A rollback journal continues where an earlier run of the same rollback stopped.
  const done = new Set<string>();
  const identity = { kind: 'rollback', of: header!.specHash, startedAt: header!.startedAt };
  if (
    !dryRun &&
    (await stat(rollbackJournalPath).then(
      (s) => s.size > 0,
      () => false,
    ))
  ) {
    const { header: old } = await readJournal(rollbackJournalPath, (r) => {
      if (r.outcome !== 'failed') done.add(itemKey(r));
    });
    if (old !== undefined && old.kind !== 'rollback')
      throw new ConfigError(
        `${rollbackJournalPath}: a ${old.kind} journal, not a rollback's; give another --rollback-journal`,
      );
  }
  const outFile = await RolloutOutcomeFile.open(options.report);
  const journal = dryRun
    ? undefined
    : await Journal.open(rollbackJournalPath, { kind: 'rollback', spec: identity, resume: true });

  const runOptions: JobRunOptions = {
    client: jobClientConfig({
      endpoint: options.endpoint!,
      region: options.region,
      credentials: options.credentials,
      requestAttempts: options.requestAttempts,
    }),
  };
  if (options.rates !== undefined) runOptions.rates = options.rates;
  if (options.workers !== undefined) runOptions.workers = options.workers;
  if (options.batchSize !== undefined) runOptions.batchSize = options.batchSize;
  if (options.signal !== undefined) runOptions.signal = options.signal;
  const tally = new RollbackTally();
  const total = undo.size - [...undo.keys()].filter((k) => done.has(k)).length;
  const progress = (run: JobRun, final: boolean): void => {
    const p: RollbackProgress = {
      done: run.tally.done,
      total,
      rolledBack: tally.rolledBack,
      kept: tally.keptThings,
      failed: tally.failed,
      elapsedMs: Date.now() - startedAt.getTime(),
    };
    if (final) p.final = true;
    options.onProgress?.(p);
  };
  if (options.onProgress !== undefined) {
    runOptions.onProgress = progress;
    if (options.progressIntervalMs !== undefined) runOptions.progressIntervalMs = options.progressIntervalMs;
  }
  const run = new JobRun(runOptions);
  const config: RollbackTaskConfig = { dryRun };
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  function* items(): Generator<TargetItem> {
    for (const [key, u] of undo) if (!done.has(key)) yield { ...u.item, data: { [UNDO_DATA_KEY]: u.undo } };
  }
  let fatal: unknown;
  try {
    await rollbackPass(run, items(), config, (r) => {
      journal?.append(r);
      outFile.write(r);
      tally.add(r);
    });
  } catch (err) {
    fatal = err;
  } finally {
    run.progress(true);
    const interrupted = run.interrupted;
    await run.close().catch((err) => (fatal ??= err));
    await journal?.close().catch((err) => (fatal ??= err));
    await outFile.end();
    if (interrupted && fatal !== undefined && (fatal as { code?: string }).code === 'SHADOW_ERR_ABORTED')
      fatal = undefined;
  }
  if (fatal !== undefined) throw fatal;
  const result: RollbackResult = {
    ok: !run.interrupted && tally.failed === 0,
    dryRun,
    interrupted: run.interrupted,
    journal: options.journal,
    things: undo.size,
    resumed: undo.size - total,
    rolledBack: tally.rolledBack,
    unchanged: tally.unchanged,
    wouldWrite: tally.wouldWrite,
    keptThings: tally.keptThings,
    keptKeyCount: tally.keptKeyCount,
    keptKeys: tally.keptKeys,
    failed: tally.failed,
    failures: tally.failures,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
  };
  if (!dryRun) result.rollbackJournal = rollbackJournalPath;
  if (options.report !== undefined) {
    result.report = options.report;
    result.summaryFile = `${options.report}.summary.json`;
    await writeFile(result.summaryFile, `${JSON.stringify(result, null, 2)}\n`);
  }
  return result;
}
