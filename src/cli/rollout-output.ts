/**
 * What a rollout result prints (the human summary, its wave rows) and the exit code it gives:
 * shared by `rollout`, `rollout --accounts` and `demo`.
 */
import { EXIT } from './context.js';
import { formatPairs } from './output.js';
import type { RolloutResult } from '../index.js';

/** 0 all ok, 1 failures or aborted on a threshold, 130 interrupted. */
export function rolloutExitCode(result: RolloutResult): number {
  if (result.interrupted) return EXIT.INTERRUPTED;
  if (result.aborted !== undefined || result.summary.failed > 0 || result.invalidTargets > 0) return EXIT.FAILED;
  return EXIT.OK;
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A share as a percentage with one decimal. */
const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;

/** The waves (sizes in a dry run; writes and gate verdicts otherwise), a failed gate and the rollback after it. */
export function waveRows(r: RolloutResult): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (const w of r.waves ?? []) {
    const name = `wave ${w.index + 1} (${w.label})`;
    if (r.dryRun) rows.push([name, `${w.targets} targets`]);
    else if (w.skipped === true) rows.push([name, 'not run']);
    else {
      const d = w.gate?.decision;
      const gate =
        d === undefined
          ? 'no gate'
          : `gate ${d.verdict}: ${d.converged}/${d.things} converged (${pct(d.convergedShare)}), ${d.healthy} healthy (${pct(d.healthyShare)})`;
      rows.push([name, `${w.written} written of ${w.targets}; ${gate}`]);
    }
  }
  if (r.gateFailure !== undefined)
    rows.push([
      'gate failed',
      `wave ${r.gateFailure.wave + 1} (${r.gateFailure.label}): ${r.gateFailure.decision.reason}; ${r.gateFailure.action === 'rollback' ? 'rolled back' : 'stopped (the written things keep the change)'}`,
    ]);
  const b = r.rollback;
  if (b !== undefined) {
    rows.push([
      'rolled back',
      `${b.rolledBack} of ${b.things} written things${b.unchanged > 0 ? `, ${b.unchanged} already as before` : ''}${b.failed > 0 ? `, ${b.failed} failed (run shadowfleet rollback --journal to retry)` : ''}`,
    ]);
    if (b.keptKeyCount > 0) rows.push(['kept (changed since)', `${b.keptKeyCount} keys on ${b.keptThings} things`]);
    for (const k of b.keptKeys.slice(0, 10))
      rows.push([
        '',
        `${k.thing}${k.shadow === undefined ? '' : ` "${k.shadow}"`} ${k.path.join('.')}: now ${k.current === undefined ? 'deleted' : JSON.stringify(k.current)}`,
      ]);
  }
  return rows;
}

/** How an outcome reads in the human summary, where its name alone would not say it. */
const OUTCOME_LABELS: Readonly<Record<string, string>> = Object.freeze({ 'skipped-condition': 'skipped (condition)' });

/** The human summary printed on stdout. */
export function formatRolloutResult(r: RolloutResult): string {
  const s = r.summary;
  const status = r.interrupted
    ? 'interrupted (partial report written)'
    : r.aborted !== undefined
      ? `aborted: ${r.aborted.reason}`
      : s.failed > 0 || r.invalidTargets > 0
        ? 'finished with failures'
        : 'done';
  const rows: Array<[string, string]> = [];
  rows.push([r.dryRun ? 'plan' : 'rollout', status]);
  rows.push(['things', `${s.things}${s.resumed > 0 ? ` (${s.resumed} from an earlier run)` : ''}`]);
  for (const [k, v] of Object.entries(s.byOutcome).sort((a, b) => b[1] - a[1]))
    rows.push([`  ${OUTCOME_LABELS[k] ?? k}`, String(v)]);
  if (r.invalidTargets > 0) {
    rows.push(['invalid targets', `${r.invalidTargets} skipped (names AWS would reject)`]);
    for (const line of r.invalidTargetLines.slice(0, 5)) rows.push(['', line]);
    if (r.invalidTargets > 5) rows.push(['', `... and ${r.invalidTargets - 5} more`]);
  }
  for (const [k, v] of Object.entries(s.byError).sort((a, b) => b[1] - a[1])) rows.push([`  error ${k}`, String(v)]);
  rows.push(['things/s', String(s.thingsPerSecond)]);
  rows.push(['latency p50 / p99', `${s.latencyMs.p50} ms / ${s.latencyMs.p99} ms`]);
  rows.push(['requests', `${s.requests} (${s.retries} conflict retries, ${s.throttles} throttled)`]);
  rows.push([
    r.dryRun ? 'bytes (would send)' : 'bytes sent',
    `${fmtBytes(s.bytesSent)}${s.wholeBytes > 0 ? ` (whole documents would be ${fmtBytes(s.wholeBytes)}: ${(s.sentShare * 100).toFixed(1)}%)` : ''}`,
  ]);
  rows.push(['billed operations', String(s.billedOperations)]);
  if (r.plan !== undefined) {
    const p = r.plan;
    rows.push(['would write', String(p.wouldWrite)]);
    rows.push(['unchanged / skipped', `${p.unchanged} / ${p.skipped}`]);
    if (p.skippedCondition !== undefined && p.skippedCondition > 0)
      rows.push(['skipped (condition)', String(p.skippedCondition)]);
    rows.push(['too large / invalid', `${p.tooLarge} / ${p.invalid}`]);
    rows.push(['bytes to send', fmtBytes(p.bytesToSend)]);
    rows.push(['billed operations (write phase)', String(p.billedOperations)]);
    rows.push(['estimated time', `${p.estimatedSeconds.toFixed(1)} s at ${p.ratePerSecond}/s`]);
  }
  if (r.convergence !== undefined) {
    const c = r.convergence;
    rows.push(['converged', `${c.converged}/${c.checked} (${(c.share * 100).toFixed(1)}%)`]);
    if (c.notConverged.length > 0)
      rows.push([
        'not converged',
        c.notConverged.slice(0, 10).join(', ') + (c.notConvergedCount > 10 ? ` ... (${c.notConvergedCount})` : ''),
      ]);
  }
  rows.push(...waveRows(r));
  if (r.journal !== undefined) rows.push(['journal', r.journal]);
  if (r.report !== undefined) rows.push(['report', `${r.report} (+ .summary.json)`]);
  return formatPairs(rows);
}
