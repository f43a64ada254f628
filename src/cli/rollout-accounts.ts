/**
 * `shadowfleet rollout --accounts accounts.yaml`: the rollout's change in every account of a
 * plan at once (see runRolloutAccounts). The accounts give the endpoints, regions, credentials,
 * targets and quotas, so those flags are refused beside --accounts; everything else (the spec,
 * --set, ramp, abort criteria, waves, --dry-run, --journal, --report...) applies to every
 * account. One progress display, one summary (a section per account, then the total), one
 * outcome file, one report page; the exit code as for one rollout.
 */
import { EXIT, type CommandContext } from './context.js';
import { accountCount, formatAccountSection, indent } from './accounts-output.js';
import { formatRolloutResult, rolloutExitCode } from './rollout-output.js';
import type { Progress } from './progress.js';
import type { AccountsRolloutOptions, AccountsRolloutResult, RolloutOptions, RolloutProgress } from '../index.js';

type Lib = typeof import('../index.js');

/** Runs the plan; returns the exit code. `options` are the rollout's, built from the flags without endpoint or targets. */
export async function runAccountsCommand(
  file: string,
  options: RolloutOptions,
  flags: { reportPage?: string; json?: boolean },
  ctx: CommandContext,
  lib: Lib,
  progress: Progress<RolloutProgress>,
): Promise<number> {
  const accounts = await lib.loadAccountPlan(file);
  const { endpoint: _e, targets, onProgress: _p, ...job } = options;
  const o: AccountsRolloutOptions = { ...job, accounts, onProgress: progress.update };
  if (targets !== undefined) o.targets = targets;
  let result: AccountsRolloutResult;
  try {
    result = await lib.runRolloutAccounts(o);
  } finally {
    progress.stop();
  }
  if (flags.reportPage !== undefined) {
    const page = await lib.writeAccountsReportPage(flags.reportPage, result);
    if (!flags.json) ctx.err(`report page: ${page}`);
  }
  if (flags.json) ctx.out(JSON.stringify(result));
  else ctx.out(formatAccountsResult(result, lib));
  const code = rolloutExitCode(lib.accountsTotalResult(result));
  // An account that could not run at all (a missing thing group, credentials refused) fails the plan too.
  return code === EXIT.OK && !result.ok ? EXIT.FAILED : code;
}

/** The human summary: a section per account (as one rollout prints it), then the total. */
export function formatAccountsResult(r: AccountsRolloutResult, lib: Pick<Lib, 'accountsTotalResult'>): string {
  const parts = r.accounts.map((a) => formatAccountSection(a, formatRolloutResult));
  const failed = r.total.failedAccounts;
  parts.push(
    `total: ${accountCount(r.accounts.length)}${failed > 0 ? `, ${failed} with failures or stopped` : ''}\n${indent(formatRolloutResult(lib.accountsTotalResult(r)))}`,
  );
  return parts.join('\n\n');
}
