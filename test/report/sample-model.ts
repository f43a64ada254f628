import { LatencyHistogram } from '../../src/report/latency-histogram.js';
import type { ReportModel } from '../../src/report/report-model.js';

/** A deterministic report model with every chart filled, for the page tests. */
export function sampleModel(overrides: Partial<ReportModel> = {}): ReportModel {
  const h = new LatencyHistogram();
  let seed = 7;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 0; i < 5000; i++) h.record(0.4 + rnd() ** 4 * 40 + rnd() * 2);
  const points = Array.from({ length: 30 }, (_, i) => ({
    t: i + 1,
    rate: Math.min(2000, 250 * 2 ** (i / 4)) * (0.96 + rnd() * 0.04),
    throttles: i % 7 === 3 ? 4 + Math.round(rnd() * 5) : 0,
    errors: i === 12 ? 3 : 0,
    limit: Math.min(2000, 250 * 2 ** Math.floor(i / 4)),
  }));
  return {
    kind: 'rollout',
    title: 'Rollout of config v2 <to> "fleet" & co',
    subtitle: 'endpoint http://127.0.0.1:1234, 10,000 things',
    generatedAt: '2026-01-01T00:00:00.000Z',
    summary: [
      { label: 'things', value: 10000 },
      { label: 'things/s', value: 1734.25, note: 'mean' },
      { label: 'throttles', value: 27 },
      { label: 'user <script>alert(1)</script>', value: '<img src=x onerror=alert(1)>' },
    ],
    timeline: { rateLabel: 'things/s', points },
    latency: h.report(),
    outcomes: { written: 9200, unchanged: 640, rebased: 120, failed: 40 },
    errors: { ThrottlingException: 27, ConflictException: 120, InternalFailureException: 3 },
    convergence: {
      total: 10000,
      points: Array.from({ length: 20 }, (_, i) => ({
        t: i * 2,
        converged: Math.round(10000 * (1 - Math.exp(-i / 4)) * 0.98),
      })),
    },
    tables: [
      {
        title: 'Scenarios',
        columns: ['scenario', 'ops/s', 'goal'],
        rows: [
          ['update', 8123.4, '>= 3x'],
          ['get', 9999, null],
        ],
      },
    ],
    notes: ['Estimated cost uses US$1.25 per million operations.'],
    ...overrides,
  };
}
