/**
 * `shadowfleet snapshot --accounts accounts.yaml --out DEST`: a snapshot of every account of a
 * plan at once (see runSnapshotAccounts), each under `DEST/<account name>/`. The accounts give
 * the endpoints, regions, credentials, targets and quotas, so those flags are refused beside
 * --accounts; everything else (--shadows, --overwrite, the S3 flags, --max-failures, --rate as
 * the default quota, --workers, --redis...) applies to every account. One progress display, one
 * summary (a section per account, then the total; --json: `accounts[]` and `total`), exit code
 * 1 when any account's snapshot was not taken or has things that could not be read (130 when
 * interrupted, as one snapshot).
 */
import { EXIT, type CommandContext } from './context.js';
import { createProgress } from './progress.js';
import { accountCount, formatAccountSection } from './accounts-output.js';
import { formatSnapshotResult } from './snapshot-output.js';
import type {
  AccountsSnapshotOptions,
  AccountsSnapshotProgress,
  AccountsSnapshotResult,
  SnapshotOptions,
} from '../index.js';

type Lib = typeof import('../index.js');

/** Runs the plan; returns the exit code. `options` are the snapshot's, built from the flags without endpoint or targets. */
export async function runSnapshotAccountsCommand(
  file: string,
  options: SnapshotOptions,
  flags: { json?: boolean },
  ctx: CommandContext,
  lib: Lib,
): Promise<number> {
  const accounts = await lib.loadAccountPlan(file);
  const {
    endpoint: _e,
    region: _r,
    things: _t,
    allThings: _a,
    controlEndpoint: _c,
    credentials: _k,
    onProgress: _p,
    ...job
  } = options;
  const progress = await createProgress<AccountsSnapshotProgress>(
    ctx,
    {
      line: (p) =>
        `snapshot: ${Object.keys(p.accounts).length} accounts, ${p.things} things, ${p.records} shadows, ${p.recordsPerSecond.toFixed(0)} shadows/s, ${p.failed} failed, ${p.throttles} throttled`,
    },
    flags.json === true ? { json: true } : { everyMs: ctx.stderrIsTTY ? 1000 : 5000 },
  );
  const o: AccountsSnapshotOptions = { ...job, accounts, onProgress: progress.update };
  let result: AccountsSnapshotResult;
  try {
    result = await lib.runSnapshotAccounts(o);
  } finally {
    progress.stop();
  }
  for (const a of result.accounts)
    for (const w of a.result?.warnings ?? []) ctx.err(`shadowfleet: warning: ${a.name}: ${w}`);
  ctx.out(flags.json ? JSON.stringify(result) : formatSnapshotAccountsResult(result));
  if (result.interrupted) return EXIT.INTERRUPTED;
  return result.ok ? EXIT.OK : EXIT.FAILED;
}

/** The human summary: a section per account (as one snapshot prints it), then the total. */
export function formatSnapshotAccountsResult(r: AccountsSnapshotResult): string {
  const parts = r.accounts.map((a) =>
    formatAccountSection(a, formatSnapshotResult, [`nothing written to ${a.location}`]),
  );
  const t = r.total;
  const failed = t.failedAccounts > 0 ? `, ${t.failedAccounts} not taken or with things not read` : '';
  parts.push(
    [
      `total: ${accountCount(r.accounts.length)}${failed}, under ${r.location}`,
      `  things    ${t.things}`,
      `  shadows   ${t.records}`,
      `  failed    ${t.failed}`,
      `  time      ${(t.durationMs / 1000).toFixed(1)} s, ${t.recordsPerSecond.toFixed(0)} shadows/s, ${t.requests} requests, ${t.throttles} throttled`,
    ].join('\n'),
  );
  return parts.join('\n\n');
}
