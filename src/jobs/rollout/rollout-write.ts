/**
 * The write (or plan) phase of a rollout on a JobRun: one pass over the targets, then extra
 * passes over the things that failed on a transient error. Each result is journaled, reported
 * and written to the outcome file once, with its last outcome; the ramp and the abort criteria
 * and the deletes cap see every first-pass result.
 */
import { AbortCriteria } from '../../engine/abort-criteria.js';
import type { Journal } from '../../engine/journal.js';
import type { JobRun } from '../../engine/job-run.js';
import type { RampSchedule } from '../../engine/ramp-schedule.js';
import { itemKey, type ItemResult, type RolloutTaskConfig, type TargetItem } from '../../engine/task-types.js';
import type { AbortCriterion } from './rollout-spec.js';
import { isSuccessOutcome, type RolloutReport } from './rollout-report.js';
import type { RolloutOutcomeFile } from './rollout-outcome-file.js';

const TRANSIENT_CODES = new Set([
  'SHADOW_ERR_THROTTLED',
  'SHADOW_ERR_UNAVAILABLE',
  'SHADOW_ERR_NETWORK',
  'SHADOW_ERR_TIMEOUT',
  'SHADOW_ERR_WORKER',
]);
/** Transient stashes are bounded; beyond this, transient failures are final for the run (resume retries them). */
const MAX_STASH = 100_000;

/** A failure worth another pass: throttled out, 5xx, network, timeout, or a crashed worker batch. */
function isTransient(r: ItemResult): boolean {
  return r.error !== undefined && (r.error.retryable === true || TRANSIENT_CODES.has(r.error.code));
}

/** True when a result counts as failed (for the journal on resume, abort criteria and the ok flag). */
export function isRolloutFailure(r: ItemResult): boolean {
  return r.outcome === 'failed' || (r.error !== undefined && !isSuccessOutcome(r.outcome));
}

export function hasNullLeaf(v: unknown): boolean {
  if (v === null) return true;
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  for (const k of Object.keys(v as object)) if (hasNullLeaf((v as Record<string, unknown>)[k])) return true;
  return false;
}

export function refOf(r: { thingName: string; shadowName?: string | undefined }): TargetItem {
  return r.shadowName === undefined ? { thingName: r.thingName } : { thingName: r.thingName, shadowName: r.shadowName };
}

export interface RolloutWriteOptions {
  run: JobRun;
  config: RolloutTaskConfig;
  journal: Journal;
  report: RolloutReport;
  outcomes: RolloutOutcomeFile;
  dataByKey: Map<string, Record<string, string>>;
  retryPasses: number;
  criteria: readonly AbortCriterion[];
  /** Applies a ramp step (undefined: no ramp). */
  ramp: { schedule: RampSchedule; apply: (rps: number, succeeded: number) => void } | undefined;
  /** Abort when a transform deleted keys on more than this many things (undefined: allowed). */
  maxDeletes: number | undefined;
  /** Written things are kept here for the convergence check (undefined: not kept). */
  written: TargetItem[] | undefined;
  /** Called for every result committed (journaled and reported), e.g. by the waves for their gates. */
  onCommit?: (r: ItemResult) => void;
}

export class RolloutWrite {
  readonly #o: RolloutWriteOptions;
  readonly #criteria: AbortCriteria;
  #stash: ItemResult[] = [];
  #succeeded = 0;
  #deletingThings = 0;
  /** Billed operations of the writes a dry run would make. */
  planWriteBilled = 0;
  /** Extra passes run. */
  passes = 0;

  constructor(o: RolloutWriteOptions) {
    this.#o = o;
    this.#criteria = new AbortCriteria(o.criteria);
  }

  /** Runs the first pass and the retry passes; rethrows what the coordinator threw. */
  async run(source: AsyncIterable<TargetItem>, taskConfig?: RolloutTaskConfig): Promise<void> {
    const run = this.#o.run;
    // a wave may run with its own config (a where-wave's condition)
    const config = taskConfig ?? this.#o.config;
    await run.run<RolloutTaskConfig>('rollout', config, source, (r) => this.#onResult(r, 0));
    while (this.#stash.length > 0 && !run.stopped && !run.interrupted) {
      this.passes += 1;
      const again = this.#stash.map((r): TargetItem => {
        const item = refOf(r);
        const data = this.#o.dataByKey.get(itemKey(r));
        if (data !== undefined) item.data = data;
        return item;
      });
      this.#stash = [];
      const pass = this.passes;
      await run.run<RolloutTaskConfig>('rollout', config, again, (r) => this.#onResult(r, pass));
    }
  }

  /** Commits what is still stashed (a run that stopped before its retry passes). */
  flushStash(): void {
    const stash = this.#stash;
    this.#stash = [];
    for (const r of stash) this.#commit(r);
  }

  #commit(r: ItemResult): void {
    const o = this.#o;
    o.journal.append(r);
    o.onCommit?.(r);
    if (o.written !== undefined && (r.outcome === 'written' || r.outcome === 'rebased')) o.written.push(refOf(r));
    o.report.record(r);
    o.outcomes.write(r);
    if (r.outcome === 'would-write') this.planWriteBilled += Math.max(1, Math.ceil(r.bytesSent / 1024));
    if (o.dataByKey.size > 0) o.dataByKey.delete(itemKey(r));
  }

  #onResult(raw: ItemResult, pass: number): void {
    const o = this.#o;
    // a where-wave's condition did not hold: the thing belongs to a later wave, nothing to record
    if (raw.outcome === 'not-in-wave') {
      o.dataByKey.delete(itemKey(raw));
      return;
    }
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
    const failure = isRolloutFailure(r);
    const reason = pass === 0 ? this.#criteria.record(r, failure) : undefined;
    if (!failure && isSuccessOutcome(r.outcome)) this.#succeeded += 1;
    if (failure && isTransient(r) && pass < o.retryPasses && this.#stash.length < MAX_STASH) this.#stash.push(r);
    else this.#commit(r);
    if (deletes && (r.outcome === 'written' || r.outcome === 'rebased')) {
      this.#deletingThings += 1;
      if (o.maxDeletes !== undefined && this.#deletingThings > o.maxDeletes) {
        o.run.abort(
          `the change deleted keys on more than ${o.maxDeletes} things (safety.maxDeletes); rerun with --allow-deletes to continue`,
        );
      }
    }
    // Ramp: multiply the rate after every `everySucceeded` successful things, up to the quota.
    const next = o.ramp?.schedule.next(this.#succeeded);
    if (next !== undefined) o.ramp!.apply(next, this.#succeeded);
    if (reason !== undefined) o.run.abort(reason);
  }
}
