/**
 * `runSnapshotAccounts`: a snapshot of every account of a plan at once. Each account is a
 * snapshot of its own, on its own JobRun: its own client and credentials (a profile, a role or
 * the default chain, resolved by each worker), its own rate gate at its quota (on the queue the
 * Redis gate keyed by its endpoint), its own targets, and its own destination `<out>/<name>/`:
 * a complete, ordinary snapshot that restore, diff and sync read as any other. Every
 * destination is checked before the first read; a refusal leaves no directory behind. What
 * comes back is one result: a section per account and their total; one progress stream.
 */
import { access, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, InvalidArgumentError } from '../../errors.js';
import { checkDestinationDir } from '../../io/check-destination.js';
import type { RolloutTargets } from '../../engine/open-targets.js';
import type { RateGateOptions } from '../../engine/rate-gate.js';
import { createSnapshotSink, type CreateSnapshotSinkOptions } from '../../sinks/create-snapshot-sink.js';
import { parseSnapshotLocation, type SnapshotLocation } from '../../sinks/snapshot-location.js';
import { parseShadowFilter } from '../../shadow/shadow-filter.js';
import {
  checkSnapshotOptions,
  runSnapshot,
  type SnapshotOptions,
  type SnapshotProgress,
  type SnapshotResult,
} from '../snapshot/snapshot.js';
import { loadAccountPlan, type AccountPlan, type PlanAccount } from './account-plan.js';
import {
  accountClientFields,
  accountSection,
  accountTargets,
  type AccountSection,
  followAccounts,
  type PlanAccountFields,
  startInOrder,
  usageErrorOfAll,
} from './plan-runs.js';

/** What a plan's account takes from the plan, not from the job. */
type AccountFields = PlanAccountFields | 'things' | 'allThings';

export interface AccountsSnapshotOptions extends Omit<SnapshotOptions, AccountFields> {
  /** The plan, or the path of its file (YAML or JSON). */
  accounts: AccountPlan | string;
  /** A directory or `s3://bucket/prefix/`: account `name`'s snapshot goes to `<out>/<name>/`. */
  out: string;
  /** Targets of the accounts that name none. */
  things?: RolloutTargets;
  /** Every thing of each account that names no targets. */
  allThings?: boolean;
  /** One event for the whole plan (counts added up), with each account's own under `accounts`. */
  onProgress?: (p: AccountsSnapshotProgress) => void;
}

export type AccountsSnapshotProgress = SnapshotProgress & { accounts: Record<string, SnapshotProgress> };

/** One account's section of the result (`result` absent when its snapshot could not be taken: nothing was written). */
export interface AccountSnapshotSection extends AccountSection<SnapshotResult> {
  /** Where its snapshot is (or would have been): `<out>/<name>/`. */
  location: string;
}

export interface AccountsSnapshotTotal {
  things: number;
  records: number;
  failed: number;
  requests: number;
  throttles: number;
  /** The longest account's time (they run at once). */
  durationMs: number;
  recordsPerSecond: number;
  /** Accounts whose snapshot was not taken or has things that could not be read. */
  failedAccounts: number;
}

export interface AccountsSnapshotResult {
  ok: boolean;
  /** Stopped by the signal: the accounts not finished by then wrote nothing (their sections say so). */
  interrupted: boolean;
  /** The destination as given; the accounts' snapshots are under it. */
  location: string;
  accounts: AccountSnapshotSection[];
  total: AccountsSnapshotTotal;
  startedAt: string;
  endedAt: string;
}

/** Account `name`'s destination under `dest`: `<dir>/<name>` or `s3://bucket/<prefix><name>/`. */
export function accountSnapshotLocation(dest: SnapshotLocation, name: string): string {
  if (dest.kind === 's3') return `s3://${dest.bucket}/${dest.prefix}${name}/`;
  return /^file:\/\//i.test(dest.text) ? join(dest.dir, name) : join(dest.text, name);
}

/** The job's rates with the account's quota over them, field by field; 'off' stays off only where the account sets none. */
function accountRates(job: RateGateOptions | 'off' | undefined, a: PlanAccount): RateGateOptions | 'off' | undefined {
  if (a.rate === undefined) return job;
  const rates: RateGateOptions = job === 'off' || job === undefined ? {} : { ...job };
  const { perSecond, thingPerSecond, thingInFlight } = a.rate;
  if (perSecond !== undefined) {
    rates.accountRps = perSecond;
    // A snapshot lists each thing's named shadows too: that call is held to the account's quota as well.
    rates.operations = { ...rates.operations, ListNamedShadowsForThing: perSecond };
  }
  if (thingPerSecond !== undefined) rates.thingRps = thingPerSecond;
  if (thingInFlight !== undefined) rates.thingInFlight = thingInFlight;
  return rates;
}

/** One account's snapshot options: the job's, with the account's endpoint, credentials, targets, quota and destination. */
function accountOptions(o: AccountsSnapshotOptions, plan: AccountPlan, i: number, out: string): SnapshotOptions {
  const a = plan.accounts[i]!;
  const { accounts: _plan, onProgress: _p, things, allThings, rates: _r, ...job } = o;
  const fallback = allThings === true ? { allThings: true as const } : things;
  const targets = accountTargets(plan, i, fallback, 'in the plan, or --things/a selection for every account');
  const options: SnapshotOptions = { ...job, ...accountClientFields(plan, i), out };
  if (typeof targets === 'object' && targets !== null && 'allThings' in targets) options.allThings = true;
  else options.things = targets;
  const rates = accountRates(o.rates, a);
  if (rates !== undefined) options.rates = rates;
  return options;
}

/** The destination options of a snapshot, as runSnapshot builds them. */
function sinkOptions(o: AccountsSnapshotOptions): CreateSnapshotSinkOptions {
  const so: CreateSnapshotSinkOptions = { ...(o.s3 ?? {}) };
  if (o.overwrite !== undefined) so.overwrite = o.overwrite;
  if (o.minFreeBytes !== undefined) so.minFreeBytes = o.minFreeBytes;
  if (o.s3?.client) so.s3Client = o.s3.client;
  return so;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Removes the directories a run made, deepest first, each only when empty (never what was there before). */
async function removeMade(dirs: readonly string[]): Promise<void> {
  for (const d of [...dirs].reverse()) await rmdir(d).catch(() => undefined);
}

/**
 * Checks every account's destination as a snapshot checks its own (writable, no snapshot there
 * unless `overwrite`), before any account reads. Returns the directories the checks made (the
 * destination and the accounts' directories that were not there); on any refusal removes them
 * and throws one ConfigError with a line per refused account.
 */
async function checkDestinations(
  o: AccountsSnapshotOptions,
  plan: AccountPlan,
  dest: SnapshotLocation,
  outs: readonly string[],
): Promise<string[]> {
  const made: string[] = [];
  if (dest.kind === 'local') {
    await checkDestinationDir(dest.dir, 'snapshot destination');
    if (!(await exists(dest.dir))) made.push(dest.dir);
  }
  const problems: string[] = [];
  const options = sinkOptions(o);
  for (const [i, a] of plan.accounts.entries()) {
    const loc = parseSnapshotLocation(outs[i]!, 'out');
    if (loc.kind === 'local' && !(await exists(loc.dir))) made.push(loc.dir);
    const sink = createSnapshotSink(loc, options);
    try {
      await sink.check();
    } catch (err) {
      problems.push(`${plan.file}: accounts[${i}] (${a.name}): ${(err as Error).message}`);
    } finally {
      await sink.abort().catch(() => undefined);
    }
  }
  if (problems.length > 0) {
    await removeMade(made);
    throw new ConfigError(problems.join('\n'));
  }
  return made;
}

/** Takes a snapshot of every account of the plan at once; see the module comment. */
export async function runSnapshotAccounts(o: AccountsSnapshotOptions): Promise<AccountsSnapshotResult> {
  const plan = typeof o.accounts === 'string' ? await loadAccountPlan(o.accounts) : o.accounts;
  const startedAt = new Date();
  if (typeof o.out !== 'string' || o.out === '')
    throw new InvalidArgumentError(
      'out: required (a directory or s3://bucket/prefix/; one snapshot per account under it)',
    );
  // Everything an account would refuse alike is refused once, before a destination is touched.
  checkSnapshotOptions(o);
  if (typeof o.shadows === 'string') parseShadowFilter(o.shadows);
  const dest = parseSnapshotLocation(o.out, 'out');
  const outs = plan.accounts.map((a) => accountSnapshotLocation(dest, a.name));
  const perAccount = plan.accounts.map((_a, i) => accountOptions(o, plan, i, outs[i]!));
  const made = await checkDestinations(o, plan, dest, outs);
  followAccounts(plan, perAccount, totalProgress, o.onProgress);
  const settled = await Promise.allSettled(startInOrder(perAccount, runSnapshot));
  // An account that wrote nothing leaves no directory it made; one that did write keeps it.
  await removeMade(made);
  const sameUsageError = usageErrorOfAll(settled);
  if (sameUsageError !== undefined) throw sameUsageError;
  const sections = plan.accounts.map((a, i) => section(a, perAccount[i]!, settled[i]!));
  return {
    ok: sections.every((s) => s.ok),
    interrupted: o.signal?.aborted === true,
    location: o.out,
    accounts: sections,
    total: totalOf(sections),
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
  };
}

function section(a: PlanAccount, ao: SnapshotOptions, s: PromiseSettledResult<SnapshotResult>): AccountSnapshotSection {
  const fields = { name: a.name, endpoint: a.endpoint, region: ao.region! };
  return { ...accountSection(fields, s, (r) => r.failed === 0), location: ao.out };
}

/** The accounts added up; the time is the longest account's. */
function totalOf(sections: readonly AccountSnapshotSection[]): AccountsSnapshotTotal {
  const t: AccountsSnapshotTotal = {
    things: 0,
    records: 0,
    failed: 0,
    requests: 0,
    throttles: 0,
    durationMs: 0,
    recordsPerSecond: 0,
    failedAccounts: sections.filter((s) => !s.ok).length,
  };
  for (const s of sections) {
    const r = s.result;
    if (r === undefined) continue;
    for (const k of ['things', 'records', 'failed', 'requests', 'throttles'] as const) t[k] += r[k];
    t.durationMs = Math.max(t.durationMs, r.durationMs);
  }
  t.recordsPerSecond = t.records / (Math.max(t.durationMs, 1) / 1000);
  return t;
}

/** One progress event for the whole plan: counts and paces added, the elapsed time the longest account's. */
export function totalProgress(events: ReadonlyMap<string, SnapshotProgress>, final: boolean): AccountsSnapshotProgress {
  const p: AccountsSnapshotProgress = {
    things: 0,
    records: 0,
    failed: 0,
    throttles: 0,
    thingsPerSecond: 0,
    recordsPerSecond: 0,
    elapsedMs: 0,
    accounts: Object.fromEntries(events),
  };
  for (const e of events.values()) {
    for (const k of ['things', 'records', 'failed', 'throttles', 'thingsPerSecond', 'recordsPerSecond'] as const)
      p[k] += e[k];
    p.elapsedMs = Math.max(p.elapsedMs, e.elapsedMs);
  }
  if (final) p.final = true;
  return p;
}
