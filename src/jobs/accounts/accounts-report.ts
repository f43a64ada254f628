/**
 * How a multi-account result reads: its total as a rollout result (the one shape the summary
 * printer and the report page already know), and the report page: the total's summary, timeline,
 * outcomes and errors, then a section per account.
 */
import type { ReportModel, ReportTable } from '../../report/report-model.js';
import { rolloutReportModel } from '../../report/rollout-report-model.js';
import { writeReportPage } from '../../report/write-report-page.js';
import type { RolloutResult } from '../rollout/rollout.js';
import type { AccountRolloutSection, AccountsRolloutResult } from './run-accounts.js';

/** The total of the accounts as one RolloutResult (no per-thing lists: those are the accounts'). */
export function accountsTotalResult(r: AccountsRolloutResult): RolloutResult {
  const total: RolloutResult = {
    ok: r.ok,
    dryRun: r.dryRun,
    interrupted: r.interrupted,
    summary: r.total.summary,
    rampSteps: [],
    retryPasses: 0,
    duplicates: r.accounts.reduce((n, a) => n + (a.result?.duplicates ?? 0), 0),
    invalidTargets: r.total.invalidTargets,
    invalidTargetLines: [],
    startedAt: r.startedAt,
    endedAt: r.endedAt,
  };
  if (r.aborted !== undefined) total.aborted = r.aborted;
  if (r.total.plan !== undefined) total.plan = r.total.plan;
  if (r.report !== undefined) total.report = r.report;
  if (r.summaryFile !== undefined) total.summaryFile = r.summaryFile;
  return total;
}

/** `done`, `finished with failures`, `aborted: ...`, `interrupted`, or the error that stopped the account. */
export function accountStatus(a: AccountRolloutSection): string {
  const r = a.result;
  if (r === undefined) return `error: ${a.error?.message ?? 'unknown'}`;
  if (r.interrupted) return 'interrupted';
  if (r.aborted !== undefined) return `aborted: ${r.aborted.reason}`;
  return r.summary.failed > 0 || r.invalidTargets > 0 ? 'finished with failures' : 'done';
}

function accountsTable(r: AccountsRolloutResult): ReportTable {
  return {
    title: 'Accounts',
    columns: ['account', 'endpoint', 'region', 'status', 'things', 'failed', 'things/s', 'requests', 'throttles'],
    rows: r.accounts.map((a) => {
      const s = a.result?.summary;
      return [
        a.name,
        a.endpoint,
        a.region,
        accountStatus(a),
        s?.things ?? 0,
        s?.failed ?? 0,
        s?.thingsPerSecond ?? 0,
        s?.requests ?? 0,
        s?.throttles ?? 0,
      ];
    }),
  };
}

/** One account's section: its summary rows and outcomes, as the page of its own rollout shows them. */
function accountSection(a: AccountRolloutSection): ReportTable {
  const rows: ReportTable['rows'] = [['status', accountStatus(a), '']];
  if (a.result !== undefined) {
    const model = rolloutReportModel(a.result);
    for (const row of model.summary.slice(1)) rows.push([row.label, row.value, row.note ?? '']);
    for (const [k, v] of Object.entries(a.result.summary.byOutcome)) rows.push([`outcome ${k}`, v, '']);
    for (const [k, v] of Object.entries(a.result.summary.byError)) rows.push([`error ${k}`, v, '']);
  }
  return { title: `Account ${a.name} (${a.endpoint}, ${a.region})`, columns: ['', 'value', 'note'], rows };
}

/** The report page model: the total first, then a table of the accounts and a section per account. */
export function accountsReportModel(r: AccountsRolloutResult): ReportModel {
  const n = r.accounts.length;
  const model = rolloutReportModel(accountsTotalResult(r), {
    title: `${r.dryRun ? 'Rollout plan' : 'Rollout'} in ${n} account${n === 1 ? '' : 's'}`,
    extraRows: [{ label: 'accounts', value: n, note: `${r.total.failedAccounts} with failures or stopped` }],
    notes: [
      'Totals add the accounts up; the latency percentiles are the slowest account’s, the elapsed time the longest account’s.',
    ],
  });
  model.tables = [...(model.tables ?? []), accountsTable(r), ...r.accounts.map(accountSection)];
  return model;
}

/** Writes the report page of a multi-account result (atomically); returns its path. */
export function writeAccountsReportPage(path: string, r: AccountsRolloutResult): Promise<string> {
  return writeReportPage(path, accountsReportModel(r));
}
