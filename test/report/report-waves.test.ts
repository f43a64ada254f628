import { describe, expect, it } from 'vitest';
import { renderReportPage } from '../../src/report/render-report-page.js';
import type { ReportModel } from '../../src/report/report-model.js';

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
