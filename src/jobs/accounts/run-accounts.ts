/**
 * `runRolloutAccounts`: one rollout (the same change, ramp, abort criteria, waves, convergence)
 * in every account of a plan at once. Each account is a rollout of its own, on its own JobRun:
 * its own client and credentials (resolved by each worker: a profile, a role, or the default
 * chain), its own rate gate and quota (with `placement` on the queue, the Redis gate keyed by
 * its endpoint, so jobs on one account share its quota and two accounts never do), its own
 * journal (`<journal>.<name>`: a resume or a rollback is per account, against its endpoint).
 * What comes back is one result: a section per account and their total; one progress stream;
 * one outcome file whose lines carry the account.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SnapshotError } from '../../errors.js';
import { checkDestinationFile } from '../../io/check-destination.js';
import { writeFileAtomic } from '../../io/write-file-atomic.js';
import { defaultRegion } from '../../engine/job-run.js';
import {
  runRollout,
  type RolloutOptions,
  type RolloutPlan,
  type RolloutProgress,
  type RolloutResult,
  type RolloutTargets,
} from '../rollout/rollout.js';
import type { RolloutSummary } from '../rollout/rollout-report.js';
import { loadAccountPlan, type AccountPlan, type PlanAccount } from './account-plan.js';
import { joinOutcomeFiles, totalPlan, totalProgress, totalSummary } from './accounts-summary.js';
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
type AccountFields = PlanAccountFields | 'targets';

export interface AccountsRolloutOptions extends Omit<RolloutOptions, AccountFields> {
  /** The plan, or the path of its file (YAML or JSON). */
  accounts: AccountPlan | string;
  /** Targets of the accounts that name none (e.g. the spec's `targets:` selection). */
  targets?: RolloutTargets;
  /** One event for the whole plan (counts added up), with each account's own under `accounts`. */
  onProgress?: (p: AccountsRolloutProgress) => void;
}

export type AccountsRolloutProgress = RolloutProgress & { accounts: Record<string, RolloutProgress> };

/** One account's section of the result (`result` absent when the account's rollout could not run). */
export type AccountRolloutSection = AccountSection<RolloutResult>;

export interface AccountsRolloutResult {
  ok: boolean;
  dryRun: boolean;
  interrupted: boolean;
  /** Set when any account stopped itself (an abort criterion, a failed gate, a cap): `<account>: <reason>`. */
  aborted?: { reason: string };
  accounts: AccountRolloutSection[];
  /** The accounts added up (latency percentiles: the slowest account's). */
  total: { summary: RolloutSummary; plan?: RolloutPlan; invalidTargets: number; failedAccounts: number };
  /** The one outcome file (lines carry `account`), and its summary (this result). */
  report?: string;
  summaryFile?: string;
  startedAt: string;
  endedAt: string;
}

/** The journal of one account of a plan: `<journal>.<account>`. */
export function accountJournalPath(journal: string, account: string): string {
  return `${journal}.${account}`;
}

/** One account's rollout options: the job's, with the account's endpoint, credentials, targets and quota. */
function accountOptions(
  o: AccountsRolloutOptions,
  plan: AccountPlan,
  i: number,
  partDir: string | undefined,
): RolloutOptions {
  const a = plan.accounts[i]!;
  const { accounts: _plan, onProgress: _p, targets: fallback, ...job } = o;
  const targets = accountTargets(plan, i, fallback, 'in the plan, or targets: in the rollout spec for every account');
  const options: RolloutOptions = { ...job, ...accountClientFields(plan, i), targets };
  // The account's quota replaces the job's, field by field; 'off' stays off only where the account sets none.
  if (a.rate !== undefined) options.rate = { ...(o.rate === 'off' || o.rate === undefined ? {} : o.rate), ...a.rate };
  if (o.journal !== undefined) options.journal = accountJournalPath(o.journal, a.name);
  if (partDir !== undefined) options.report = join(partDir, `${a.name}.ndjson`);
  else delete options.report;
  return options;
}

/** Runs the rollout in every account of the plan at once; see the module comment. */
export async function runRolloutAccounts(o: AccountsRolloutOptions): Promise<AccountsRolloutResult> {
  const plan = typeof o.accounts === 'string' ? await loadAccountPlan(o.accounts) : o.accounts;
  const startedAt = new Date();
  // Every account's options are built (and a missing target found) before any account starts.
  if (o.report !== undefined) {
    await checkDestinationFile(o.report, 'report');
    await checkDestinationFile(`${o.report}.summary.json`, 'report summary');
  }
  const partDir =
    o.report === undefined ? undefined : await mkdtemp(join(dirname(resolve(o.report)), '.shadowfleet-accounts-'));
  try {
    const perAccount = plan.accounts.map((_a, i) => accountOptions(o, plan, i, partDir));
    followAccounts(plan, perAccount, totalProgress, o.onProgress);
    const settled = await Promise.allSettled(startInOrder(perAccount, runRollout));
    const sameUsageError = usageErrorOfAll(settled);
    if (sameUsageError !== undefined) throw sameUsageError;
    const sections = plan.accounts.map((a, i) => section(a, perAccount[i]!, settled[i]!));
    const result = accountsResult(sections, startedAt, o.dryRun === true);
    if (o.report !== undefined) await writeJoinedReport(o.report, partDir!, sections, result);
    return result;
  } finally {
    if (partDir !== undefined) await rm(partDir, { recursive: true, force: true }).catch(() => {});
  }
}

function section(a: PlanAccount, ao: RolloutOptions, s: PromiseSettledResult<RolloutResult>): AccountRolloutSection {
  if (s.status === 'fulfilled') {
    // The parts are joined into the one outcome file; the account's own paths go away with them.
    delete s.value.report;
    delete s.value.summaryFile;
  }
  return accountSection({ name: a.name, endpoint: a.endpoint, region: ao.region ?? defaultRegion() }, s, (r) => r.ok);
}

function accountsResult(sections: AccountRolloutSection[], startedAt: Date, dryRun: boolean): AccountsRolloutResult {
  const results = sections.flatMap((s) => (s.result === undefined ? [] : [s.result]));
  const aborted = sections.flatMap((s) =>
    s.result?.aborted !== undefined ? [`${s.name}: ${s.result.aborted.reason}`] : [],
  );
  const plan = totalPlan(results.flatMap((r) => (r.plan === undefined ? [] : [r.plan])));
  const result: AccountsRolloutResult = {
    ok: sections.every((s) => s.ok),
    dryRun,
    interrupted: results.some((r) => r.interrupted),
    accounts: sections,
    total: {
      summary: totalSummary(results.map((r) => r.summary)),
      invalidTargets: results.reduce((n, r) => n + r.invalidTargets, 0),
      failedAccounts: sections.filter((s) => !s.ok).length,
    },
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
  };
  if (plan !== undefined) result.total.plan = plan;
  if (aborted.length > 0) result.aborted = { reason: aborted.join('; ') };
  return result;
}

async function writeJoinedReport(
  report: string,
  partDir: string,
  sections: readonly AccountRolloutSection[],
  result: AccountsRolloutResult,
): Promise<void> {
  const parts = sections
    .filter((s) => s.result !== undefined)
    .map((s) => ({ name: s.name, file: join(partDir, `${s.name}.ndjson`) }));
  result.report = report;
  result.summaryFile = `${report}.summary.json`;
  try {
    await joinOutcomeFiles(report, parts);
    await writeFileAtomic(result.summaryFile, `${JSON.stringify(result, null, 2)}\n`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SnapshotError(`${report}: cannot write the outcome file (${e.code ?? e.message})`, { cause: err });
  }
}
