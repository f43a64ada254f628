import { describe, expect, it } from 'vitest';
import { renderReportPage } from '../../src/report/render-report-page.js';
import type { RolloutResult } from '../../src/jobs/rollout/rollout.js';
import type { ReportModel } from '../../src/report/report-model.js';
import { rolloutReportModel } from '../../src/report/rollout-report-model.js';

const model = (): ReportModel => ({
  kind: 'rollout',
  title: 'Rollout',
  summary: [],
  waves: [
    {
      label: '5%',
      targets: 50,
      written: 48,
      gate: {
        converged: 90,
        healthy: 95,
        withinMs: 30_000,
        verdict: 'fail',
        reason: '14 of 48 things took the change and are unhealthy <script>',
        points: [
          { t: 1, converged: 40, healthy: 30 },
          { t: 2.5, converged: 100, healthy: 70.8 },
        ],
      },
    },
    { label: '30%', targets: 0, written: 0, skipped: true },
    { label: 'where reported.site == "lab"', targets: 0, written: 0, skipped: true },
  ],
});

describe('report page: waves and gates', () => {
  it('lists every wave with its gate and verdict, and marks the waves that did not run', () => {
    const html = renderReportPage(model());
    expect(html).toContain('data-section="waves"');
    expect(html).toContain(
      '<tr data-wave="5%" data-verdict="fail"><td>5%</td><td>50</td><td>48</td><td>converged 90%, healthy 95%, within 30 s</td>',
    );
    expect(html).toContain('<tr data-wave="30%" data-verdict="not run">');
    expect(html).toContain('data-wave="where reported.site == &quot;lab&quot;"');
    expect(html).toContain('unhealthy &lt;script&gt;');
    expect(html).not.toContain('<script>');
  });

  it('draws the shares a gate watched against its thresholds', () => {
    const html = renderReportPage(model());
    expect(html).toContain('data-chart="gate-5%"');
    for (const s of ['converged', 'healthy', 'converged needed', 'healthy needed'])
      expect(html).toContain(`data-series="${s}"`);
    expect(html).not.toContain('data-chart="gate-30%"');
  });

  it('has no waves section for a rollout without waves', () => {
    expect(renderReportPage({ ...model(), waves: undefined })).not.toContain('data-section="waves"');
  });
});

describe('rollout report model: waves', () => {
  const summary = {
    things: 40,
    resumed: 0,
    byOutcome: { written: 40 },
    byError: {},
    failed: 0,
    elapsedMs: 1000,
    thingsPerSecond: 40,
    latencyMs: { p50: 1, p90: 2, p99: 3, max: 4, mean: 1 },
    retries: 0,
    requests: 80,
    throttles: 0,
    bytesSent: 100,
    wholeBytes: 0,
    sentShare: 0,
    billedOperations: 80,
    series: [],
  };
  const decision = {
    verdict: 'fail',
    reason: '3 of 10 things took the change and are unhealthy',
    things: 10,
    converged: 8,
    healthy: 5,
    unhealthy: 3,
    convergedShare: 0.8,
    healthyShare: 0.5,
    elapsedMs: 1500,
  };
  const result = {
    ok: false,
    dryRun: false,
    interrupted: false,
    summary,
    rampSteps: [],
    retryPasses: 0,
    duplicates: 0,
    invalidTargets: 0,
    invalidTargetLines: [],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:05.000Z',
    waves: [
      {
        index: 0,
        label: '10%',
        targets: 10,
        written: 10,
        gate: {
          converged: 0.9,
          healthy: 0.95,
          withinMs: 30_000,
          decision,
          series: [
            { elapsedMs: 500, converged: 4, healthy: 2, unhealthy: 1 },
            { elapsedMs: 1500, converged: 8, healthy: 5, unhealthy: 3 },
          ],
        },
      },
      { index: 1, label: '100%', targets: 0, written: 0, skipped: true },
    ],
    gateFailure: { wave: 0, label: '10%', action: 'rollback', decision },
    rollback: {
      things: 10,
      rolledBack: 9,
      unchanged: 0,
      keptThings: 1,
      keptKeyCount: 1,
      keptKeys: [],
      failed: 0,
      journal: 'j.rollback',
    },
  } as unknown as RolloutResult;

  it('turns each wave and its gate into percentages over the seconds the gate watched', () => {
    const m = rolloutReportModel(result);
    expect(m.waves).toEqual([
      {
        label: '10%',
        targets: 10,
        written: 10,
        gate: {
          converged: 90,
          healthy: 95,
          withinMs: 30_000,
          verdict: 'fail',
          reason: decision.reason,
          points: [
            { t: 0.5, converged: 40, healthy: 20 },
            { t: 1.5, converged: 80, healthy: 50 },
          ],
        },
      },
      { label: '100%', targets: 0, written: 0, skipped: true },
    ]);
    expect(m.summary.find((r) => r.label === 'gate failed')).toMatchObject({ value: 'wave 1 (10%)' });
    expect(m.summary.find((r) => r.label === 'rolled back')).toMatchObject({
      value: '9 of 10',
      note: '1 keys changed since were kept',
    });
  });
});
