/**
 * The benchmark suite's bookkeeping (bench/run.ts, bench/lib): goals compared with PASS/MISS,
 * the owners' result shapes read into goal rows, and the Markdown the README quotes. No
 * benchmark runs here.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, goalsMarkdown } from '../../bench/lib/goals.js';
import { machineInfo } from '../../bench/lib/machine.js';
import { SCENARIOS, rolloutGoals, snapshotGoals } from '../../bench/lib/scenarios.js';
import { resultsMarkdown, writeResults, type SuiteResult } from '../../bench/run.js';

describe('goal checks', () => {
  it('marks a figure PASS or MISS against its goal, and ERROR when it was not measured', () => {
    expect(check({ scenario: 's', metric: 'm', value: 3.2, op: '>=', target: 3 }).status).toBe('PASS');
    expect(check({ scenario: 's', metric: 'm', value: 2.9, op: '>=', target: 3 }).status).toBe('MISS');
    expect(check({ scenario: 's', metric: 'm', value: 0.2, op: '<=', target: 0.25 }).status).toBe('PASS');
    expect(check({ scenario: 's', metric: 'm', value: undefined, op: '<=', target: 0.25 })).toMatchObject({
      status: 'ERROR',
      note: 'not measured',
    });
    expect(check({ scenario: 's', metric: 'm', value: 5, op: 'info' }).status).toBe('INFO');
  });

  it('reads the rollout bench result into its five goals', () => {
    const rows = rolloutGoals({
      throughput: {
        shadowfleet: { things: 10000, thingsPerSecond: 5000 },
        baseline: { thingsPerSecond: 1000 },
        ratio: 5,
      },
      quota: {
        quota: 2000,
        shadowfleet: { achievedRps: 1960, achievedShare: 0.98, throttledShare: 0.001 },
        baseline: { achievedRps: 1500, throttledShare: 0.2 },
      },
      memory: { things: 1_000_000, peakRssMb: 180 },
      bytes: { documentBytes: 2048, shadowfleetBytesPerThing: 60, baselineBytesPerThing: 2100, sentShare: 0.03 },
    });
    expect(rows.map((r) => [r.scenario, r.value, r.status])).toEqual([
      ['rollout', 5, 'PASS'],
      ['quota', 98, 'PASS'],
      ['quota', 0.1, 'PASS'],
      ['rollout', 180, 'PASS'],
      ['bytes', 3, 'PASS'],
    ]);
    // a missing part is an ERROR row, not a crash
    expect(rolloutGoals({}).every((r) => r.status === 'ERROR')).toBe(true);
  });

  it('reads the snapshot bench result into its goals', () => {
    const rows = snapshotGoals({
      shadows: 100_000,
      shadowfleet: { shadowsPerSecond: 9000, peakRssBytes: 150 * 2 ** 20 },
      baseline: { shadowsPerSecond: 2000, peakRssBytes: 400 * 2 ** 20 },
      ratio: 4.5,
    });
    expect(rows.map((r) => [r.value, r.status])).toEqual([
      [4.5, 'PASS'],
      [150, 'PASS'],
    ]);
  });

  it('lists every scenario the issues ask for', () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual([
      'emulator',
      'client',
      'sign',
      'rollout',
      'startup',
      'gate',
      'snapshot',
      'sync',
      'bench-command',
      'distributed',
    ]);
    for (const s of SCENARIOS) expect(s.isolates.length).toBeGreaterThan(40);
  });
});

describe('results files', () => {
  const result: SuiteResult = {
    machine: machineInfo(new Date('2026-01-02T03:04:05Z')),
    quick: true,
    durationMs: 123_000,
    goals: [
      check({
        scenario: 'client',
        metric: 'GetThingShadow ops/s vs SDK v3',
        ours: 9000,
        baseline: 2000,
        value: 4.5,
        unit: 'x',
        op: '>=',
        target: 3,
        goal: '>= 3x',
      }),
      check({
        scenario: 'quota',
        metric: 'throttled | share',
        value: 0.7,
        unit: '%',
        op: '<=',
        target: 0.5,
        goal: '< 0.5%',
      }),
    ],
    scenarios: {},
  };

  it('writes the goals as a Markdown table with the machine it ran on', () => {
    const md = resultsMarkdown(result);
    expect(md).toContain(`Machine: ${result.machine.cpuModel}, ${result.machine.cores} cores`);
    expect(md).toContain(`Node ${process.version}`);
    expect(md).toContain('Date: 2026-01-02T03:04:05.000Z');
    expect(md).toContain('Goals: 1 PASS, 1 MISS, 0 ERROR.');
    expect(md).toContain('| client | GetThingShadow ops/s vs SDK v3 | 9,000 | 2,000 | 4.5x | >= 3x | PASS |');
    expect(md).toContain('| quota | throttled \\| share |');
    expect(goalsMarkdown(result.goals)).toContain('**MISS**');
  });

  it('writes latest.json and latest.md into the results directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shadowfleet-results-'));
    try {
      const { json, md } = await writeResults(dir, result);
      expect(JSON.parse(await readFile(json, 'utf8'))).toEqual(result);
      expect(await readFile(md, 'utf8')).toBe(resultsMarkdown(result));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
