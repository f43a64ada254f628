import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { RolloutResult } from '../../src/jobs/rollout/rollout.js';
import { latencyFromOutcomeFile } from '../../src/report/latency-from-outcome-file.js';
import type { RolloutReportInput } from '../../src/report/rollout-report-input.js';
import { rolloutReportModel } from '../../src/report/rollout-report-model.js';
import { writeRolloutReportPage } from '../../src/report/write-rollout-report-page.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shadowfleet-rollout-page-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function result(overrides: Partial<RolloutResult> = {}): RolloutResult {
  return {
    ok: true,
    dryRun: false,
    interrupted: false,
    summary: {
      things: 300,
      resumed: 0,
      byOutcome: { written: 250, unchanged: 45, failed: 5 },
      byError: { ServiceUnavailableException: 5 },
      failed: 5,
      elapsedMs: 3000,
      thingsPerSecond: 100,
      latencyMs: { p50: 4, p90: 9, p99: 20, max: 31, mean: 5 },
      retries: 3,
      requests: 560,
      throttles: 2,
      bytesSent: 12_000,
      wholeBytes: 60_000,
      sentShare: 0.2,
      billedOperations: 560,
      series: [
        { second: 0, done: 80, written: 70, failed: 1, requests: 150, throttles: 0, rate: 100 },
        { second: 1, done: 110, written: 90, failed: 2, requests: 200, throttles: 2, rate: 200 },
        { second: 2, done: 110, written: 90, failed: 2, requests: 210, throttles: 0, rate: 200 },
      ],
    },
    convergence: {
      checked: 250,
      converged: 240,
      share: 0.96,
      notConverged: ['a', 'b'],
      notConvergedCount: 10,
      waitedMs: 4000,
      series: [
        { elapsedMs: 1000, converged: 100, pending: 150, share: 0.4 },
        { elapsedMs: 3000, converged: 240, pending: 10, share: 0.96 },
      ],
    },
    rampSteps: [],
    duplicates: 0,
    invalidTargets: 0,
    invalidTargetLines: [],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:07.000Z',
    ...overrides,
  } as RolloutResult;
}

describe('rolloutReportModel', () => {
  it('charts things/s with the ramp as the rate limit, outcomes, errors and convergence after the write phase', () => {
    const m = rolloutReportModel(result());
    expect(m.kind).toBe('rollout');
    expect(m.timeline!.points).toEqual([
      { t: 1, rate: 80, throttles: 0, errors: 1, limit: 100 },
      { t: 2, rate: 110, throttles: 2, errors: 2, limit: 200 },
      { t: 3, rate: 110, throttles: 0, errors: 2, limit: 200 },
    ]);
    expect(m.outcomes).toEqual({ written: 250, unchanged: 45, failed: 5 });
    expect(m.errors).toEqual({ ServiceUnavailableException: 5 });
    expect(m.convergence).toEqual({
      total: 250,
      points: [
        { t: 4, converged: 100 },
        { t: 6, converged: 240 },
      ],
    });
    expect(m.summary.find((r) => r.label === 'converged')?.value).toBe('240 of 250');
  });

  it("takes a rollout result as it is, through the report layer's own input type", () => {
    expectTypeOf<RolloutResult>().toExtend<RolloutReportInput>();
    const input: RolloutReportInput = result();
    expect(rolloutReportModel(input).kind).toBe('rollout');
  });

  it('shows a plan table for a dry run', () => {
    const m = rolloutReportModel(
      result({
        dryRun: true,
        plan: {
          wouldWrite: 10,
          unchanged: 2,
          skipped: 0,
          tooLarge: 1,
          invalid: 0,
          failed: 0,
          bytesToSend: 900,
          wholeBytes: 4000,
          billedOperations: 22,
          estimatedSeconds: 0.1,
          ratePerSecond: 4000,
        },
      }),
    );
    expect(m.kind).toBe('plan');
    expect(m.tables![0]!.rows[0]).toEqual([10, 2, 0, 1, 0, 0, 900, 22, 0.1]);
  });
});

describe('writeRolloutReportPage', () => {
  it('reads the latency distribution back from the per-thing outcome file', async () => {
    const outcomes = join(dir, 'outcomes.ndjson');
    const lines = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ thing: `t-${i}`, outcome: 'written', latencyMs: 1 + (i % 30) }),
    );
    await writeFile(outcomes, `${lines.join('\n')}\n{"thing":"torn`);
    const latency = await latencyFromOutcomeFile(outcomes);
    expect(latency.count).toBe(300);
    expect(latency.max).toBeCloseTo(30, 1);
    const page = await writeRolloutReportPage(join(dir, 'rollout.html'), result({ report: outcomes }));
    const html = await readFile(page, 'utf8');
    expect(html).toContain('data-chart="latency"');
    expect(html.match(/<rect class="pt bar" data-x="[\d.]+"/g)!.length).toBeGreaterThan(3);
    expect(html).toContain('data-chart="convergence"');
  });
});
