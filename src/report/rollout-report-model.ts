/**
 * The report page model of a rollout: things per second with the configured rate (ramps show as
 * steps) and throttles over time, latency percentiles, outcomes and errors, and convergence.
 */
import type { LatencyReport } from './latency-histogram.js';
import type {
  ReportConvergence,
  ReportModel,
  ReportRow,
  ReportTable,
  ReportWave,
  TimelinePoint,
} from './report-model.js';
import type {
  RolloutReportConvergence,
  RolloutReportInput,
  RolloutReportPlan,
  RolloutReportSummary,
  RolloutReportWave,
} from './rollout-report-input.js';

function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export interface RolloutReportModelOptions {
  title?: string;
  subtitle?: string;
  /** Extra rows appended to the summary (e.g. where the demo put its files). */
  extraRows?: ReportRow[];
  notes?: string[];
  /** The per-thing latency distribution (e.g. from `latencyFromOutcomeFile` on the rollout's outcome file); else only the percentiles are shown. */
  latency?: LatencyReport;
}

export function rolloutReportModel(r: RolloutReportInput, options: RolloutReportModelOptions = {}): ReportModel {
  const s = r.summary;
  const model: ReportModel = {
    kind: r.dryRun ? 'plan' : 'rollout',
    title: options.title ?? (r.dryRun ? 'Rollout plan' : 'Rollout'),
    subtitle: options.subtitle ?? `${r.startedAt} to ${r.endedAt}`,
    generatedAt: r.endedAt,
    summary: summaryRows(r, options.extraRows ?? []),
    timeline: { rateLabel: 'things/s', limitLabel: 'rate limit (requests/s per operation)', points: timelinePoints(s) },
    latency: options.latency ?? latencyFromPercentiles(s),
    outcomes: s.byOutcome,
    errors: s.byError,
  };
  if (r.convergence !== undefined && r.convergence.series.length > 0) {
    model.convergence = convergenceCurve(r.convergence, s.elapsedMs);
  }
  if (r.waves !== undefined && r.waves.length > 0) model.waves = r.waves.map(reportWave);
  if (r.plan !== undefined) model.tables = [planTable(r.plan)];
  if (options.notes !== undefined) model.notes = options.notes;
  return model;
}

function rolloutStatus(r: RolloutReportInput): string {
  if (r.interrupted) return 'interrupted';
  if (r.aborted !== undefined) return `aborted: ${r.aborted.reason}`;
  return r.summary.failed > 0 ? 'finished with failures' : 'done';
}

/** The summary table: the write phase, convergence, the caller's rows, then how the waves' gates ended. */
function summaryRows(r: RolloutReportInput, extraRows: ReportRow[]): ReportRow[] {
  const s = r.summary;
  const summary: ReportRow[] = [
    { label: r.dryRun ? 'plan' : 'rollout', value: rolloutStatus(r) },
    { label: 'things', value: s.things, note: s.resumed > 0 ? `${s.resumed} from an earlier run` : '' },
    { label: 'write phase', value: Math.round(s.elapsedMs) / 1000, note: 's' },
    { label: 'things/s', value: s.thingsPerSecond },
    {
      label: 'latency p50 / p90 / p99 / max',
      value: `${s.latencyMs.p50} / ${s.latencyMs.p90} / ${s.latencyMs.p99} / ${s.latencyMs.max}`,
      note: 'ms per thing',
    },
    { label: 'requests', value: s.requests, note: `${s.retries} conflict re-reads` },
    {
      label: 'throttles',
      value: s.throttles,
      note: s.requests > 0 ? `${(Math.round((s.throttles / s.requests) * 10000) / 100).toString()}% of requests` : '',
    },
    {
      label: 'bytes sent',
      value: bytes(s.bytesSent),
      note:
        s.wholeBytes > 0
          ? `${(s.sentShare * 100).toFixed(1)}% of the ${bytes(s.wholeBytes)} whole documents would take`
          : '',
    },
    { label: 'billed operations', value: s.billedOperations },
  ];
  if (r.convergence !== undefined) {
    const c = r.convergence;
    summary.push({
      label: 'converged',
      value: `${c.converged.toLocaleString('en-US')} of ${c.checked.toLocaleString('en-US')}`,
      note: `${(c.share * 100).toFixed(1)}% after ${(c.waitedMs / 1000).toFixed(1)} s of checks`,
    });
  }
  summary.push(...extraRows);
  if (r.waves !== undefined && r.waves.length > 0) summary.push(...gateEndRows(r));
  return summary;
}

/** A failed gate and the rollback it caused, if any. */
function gateEndRows(r: RolloutReportInput): ReportRow[] {
  const rows: ReportRow[] = [];
  if (r.gateFailure !== undefined) {
    const f = r.gateFailure;
    rows.push({
      label: 'gate failed',
      value: `wave ${f.wave + 1} (${f.label})`,
      note: `${f.decision.reason}; ${f.action === 'rollback' ? 'rolled back' : 'stopped'}`,
    });
  }
  if (r.rollback !== undefined) {
    const b = r.rollback;
    rows.push({
      label: 'rolled back',
      value: `${b.rolledBack} of ${b.things}`,
      note: b.keptKeyCount > 0 ? `${b.keptKeyCount} keys changed since were kept` : 'every written thing restored',
    });
  }
  return rows;
}

function timelinePoints(s: RolloutReportSummary): TimelinePoint[] {
  return s.series.map((p) => {
    const point: TimelinePoint = { t: p.second + 1, rate: p.done, throttles: p.throttles, errors: p.failed };
    // The gate's rate is requests/s per operation; a thing costs one read and at most one write.
    if (p.rate !== undefined && Number.isFinite(p.rate)) point.limit = p.rate;
    return point;
  });
}

/** Without the per-thing distribution, the latency panel shows the summary's percentiles alone. */
function latencyFromPercentiles(s: RolloutReportSummary): LatencyReport {
  return {
    count: s.things - s.resumed,
    min: 0,
    mean: s.latencyMs.mean,
    p50: s.latencyMs.p50,
    p90: s.latencyMs.p90,
    p99: s.latencyMs.p99,
    p999: s.latencyMs.p99,
    max: s.latencyMs.max,
    buckets: [],
    percentiles: [],
  };
}

function convergenceCurve(c: RolloutReportConvergence, writePhaseMs: number): ReportConvergence {
  const offset = writePhaseMs / 1000;
  return {
    total: c.checked,
    // Devices converge during the write phase too, so the curve starts at the first check, not at 0.
    points: c.series.map((p) => ({
      t: Math.round((offset + p.elapsedMs / 1000) * 10) / 10,
      converged: p.converged,
    })),
  };
}

/** One wave as the page shows it: gate shares as percentages, gate check times in seconds. */
function reportWave(w: RolloutReportWave): ReportWave {
  const wave: ReportWave = { label: w.label, targets: w.targets, written: w.written };
  if (w.skipped === true) wave.skipped = true;
  const g = w.gate;
  if (g !== undefined) {
    const n = g.decision.things > 0 ? g.decision.things : 1;
    wave.gate = {
      withinMs: g.withinMs,
      verdict: g.decision.verdict,
      reason: g.decision.reason,
      points: g.series.map((p) => ({
        t: Math.round(p.elapsedMs / 100) / 10,
        converged: (p.converged / n) * 100,
        healthy: (p.healthy / n) * 100,
      })),
    };
    if (g.converged !== undefined) wave.gate.converged = g.converged * 100;
    if (g.healthy !== undefined) wave.gate.healthy = g.healthy * 100;
  }
  return wave;
}

function planTable(p: RolloutReportPlan): ReportTable {
  return {
    title: 'Plan',
    columns: [
      'would write',
      'unchanged',
      'skipped',
      'too large',
      'invalid',
      'failed',
      'bytes to send',
      'billed operations',
      'estimated s',
    ],
    rows: [
      [
        p.wouldWrite,
        p.unchanged,
        p.skipped,
        p.tooLarge,
        p.invalid,
        p.failed,
        p.bytesToSend,
        p.billedOperations,
        p.estimatedSeconds,
      ],
    ],
  };
}
