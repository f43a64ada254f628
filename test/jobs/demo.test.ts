/**
 * The demo end to end, small: emulator in its own process with AWS quotas and simulated
 * devices, 200 seeded things, the rollout, convergence, the snapshot and the report page.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo, type DemoProgress } from '../../src/jobs/demo/demo.js';
import { formatDemoResult } from '../../src/cli/commands/demo.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('runDemo', () => {
  // Fixed work: an emulator process, 200 things seeded, written, watched for 6 s (the offline 5%
  // never converge, so the wait runs to its end), snapshotted and reported. 37 s on a loaded
  // two-core machine; the timeout is there to catch a hang, not to time the machine.
  it('rolls a change out to a small simulated fleet, waits for it, snapshots it and writes the report page', {
    timeout: 300_000,
  }, async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'shadowfleet-demo-'));
    dirs.push(outDir);
    const events: DemoProgress[] = [];
    const r = await runDemo({
      things: 200,
      outDir,
      deviceDelayMs: 100,
      silentShare: 0.05,
      waitConvergedMs: 6000,
      workers: 1,
      onProgress: (p) => events.push(p),
    });

    expect(r.interrupted).toBe(false);
    expect(r.things).toBe(200);
    // Every thing has exactly one outcome; things already on the goal are not written.
    const s = r.rollout.summary;
    expect(s.things).toBe(200);
    expect(s.failed).toBe(0);
    expect((s.byOutcome.written ?? 0) + (s.byOutcome.rebased ?? 0) + (s.byOutcome.unchanged ?? 0)).toBe(200);
    expect(s.byOutcome.unchanged ?? 0).toBeGreaterThan(0);
    // The devices that answer converge; the 5% offline on purpose do not.
    const c = r.rollout.convergence!;
    expect(c.checked).toBe((s.byOutcome.written ?? 0) + (s.byOutcome.rebased ?? 0));
    expect(c.converged).toBeGreaterThan(c.checked * 0.8);
    expect(c.converged + c.notConvergedCount).toBe(c.checked);

    // The snapshot holds every shadow of the fleet: 200 classic, 200 "config", 67 "firmware".
    expect(r.snapshot).toBeDefined();
    expect(r.snapshot!.things).toBe(200);
    expect(r.snapshot!.records).toBe(200 + 200 + 67);
    expect(r.snapshot!.failed).toBe(0);
    expect(r.snapshot!.dir.startsWith(outDir)).toBe(true);
    expect((await readdir(r.snapshot!.dir)).length).toBeGreaterThanOrEqual(2);

    // The report page, the outcome file and the journal are where the result says.
    expect(r.reportPage).toBe(join(outDir, 'report.html'));
    const html = await readFile(r.reportPage, 'utf8');
    for (const chart of ['rate', 'latency', 'outcomes', 'convergence']) expect(html).toContain(`data-chart="${chart}"`);
    // the change went out in waves: a canary wave, gated, then everyone
    expect(r.rollout.waves!.map((w) => [w.label, w.gate?.decision.verdict])).toEqual([
      ['10%', 'pass'],
      ['100%', undefined],
    ]);
    expect(r.rollout.waves![0]!.written).toBeGreaterThan(0);
    expect(html).toContain('data-section="waves"');
    expect(html).toContain(r.snapshot!.dir);
    expect((await readFile(r.outcomesFile, 'utf8')).trim().split('\n')).toHaveLength(200);
    expect(existsSync(r.journal)).toBe(true);

    // Progress went through every step, and the summary says where everything went.
    expect(new Set(events.map((e) => e.step))).toEqual(new Set(['emulator', 'rollout', 'converge', 'snapshot']));
    // The rollout chose its things as the fleet is organised: the seeded thing group tree.
    expect(r.targets).toBe('thing group fleet (recursive)');
    const text = formatDemoResult(r);
    expect(text).toContain('thing group fleet (recursive)');
    // The summary names each wave with its gate's verdict.
    expect(text).toMatch(/wave 1 \(.+\)\s+\d+ written of \d+; gate pass/);
    for (const where of [r.reportPage, r.snapshot!.dir, r.outcomesFile, r.journal]) expect(text).toContain(where);
    expect(r.steps.map((st) => st.step)).toEqual(['emulator', 'rollout', 'converge', 'snapshot', 'report']);
  });

  it('refuses bad options before starting anything', async () => {
    await expect(runDemo({ things: 0 })).rejects.toThrow('things must be an integer from 1 to 1,000,000, got 0');
    await expect(runDemo({ silentShare: 2 })).rejects.toThrow('silentShare must be from 0 to 1, got 2');
  });
});
