import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthShare } from '../../src/emulator/device-health.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runRollback } from '../../src/jobs/rollback/rollback.js';
import { runRollout, type RolloutOptions } from '../../src/jobs/rollout/rollout.js';
import { waveShare } from '../../src/jobs/rollout/waves/wave-planner.js';
import { ManualClock } from '../emulator/manual-clock.js';
import type { RolloutWaves } from '../../src/jobs/rollout/waves/wave-spec.js';

// Devices answer after 50 ms; gates wait for states with a generous `within`, so a slow or busy
// machine only makes the tests take longer, never fail.
const WITHIN = 120_000;
const THINGS = Array.from({ length: 120 }, (_, i) => `pump-${String(i).padStart(3, '0')}`);
const BEFORE = { fw: '1.4.0', led: 'off' };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sf-waves-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fleet(fn: (emu: Emulator) => Promise<void>): Promise<void> {
  const emu = await startEmulator({
    quotas: 'off',
    simulateDevices: { delayMs: 50, unhealthyWhen: 'fw=1.5.0', unhealthyShare: 0.3 },
  });
  try {
    for (const t of THINGS) {
      const seeded = emu.store.update(
        t,
        undefined,
        JSON.stringify({ state: { desired: BEFORE, reported: { ...BEFORE, health: 'ok' } } }),
        Date.now(),
      );
      expect(seeded.ok).toBe(true);
    }
    await fn(emu);
  } finally {
    await emu.close();
  }
}

const waves = (onGateFailure: 'rollback' | 'stop'): RolloutWaves => ({
  health: 'reported.health == "ok"',
  onGateFailure,
  waves: [
    { share: 0.1, gate: { converged: 1, healthy: 0.95, withinMs: WITHIN } },
    { share: 0.4, gate: { converged: 1, healthy: 0.95, withinMs: WITHIN } },
    { share: 1 },
  ],
});

function options(emu: Emulator, extra: Partial<RolloutOptions>): RolloutOptions {
  return {
    endpoint: emu.url,
    targets: THINGS,
    rate: 'off',
    workers: 1,
    convergePollMs: 20,
    desired: { fw: '1.4.2' },
    ...extra,
  };
}

const canaries = THINGS.filter((t) => waveShare(t) < 0.1);
const versionOf = (emu: Emulator, t: string): number => emu.store.get(t)!.version;

describe('rollouts in waves', () => {
  it('passes every gate with a healthy change and reaches every target', async () => {
    await fleet(async (emu) => {
      const result = await runRollout(options(emu, { waves: waves('rollback') }));
      expect(result.ok).toBe(true);
      expect(result.gateFailure).toBeUndefined();
      expect(result.waves!.map((w) => w.gate?.decision.verdict)).toEqual(['pass', 'pass', undefined]);
      expect(result.waves!.map((w) => w.written).reduce((a, b) => a + b, 0)).toBe(THINGS.length);
      expect(result.waves![0]!.written).toBe(canaries.length);
      for (const t of THINGS) expect(emu.store.get(t)!.state.desired).toEqual({ fw: '1.4.2', led: 'off' });
    });
  });

  it('fails the canary gate on a change that makes 30% unhealthy, and rolls back every written thing while the rest were never written', async () => {
    // the canary wave holds devices this change makes unhealthy (the draw is by name, so this holds on every run)
    expect(canaries.filter((t) => healthShare(t) < 0.3).length).toBeGreaterThan(0);
    await fleet(async (emu) => {
      const untouched = THINGS.filter((t) => !canaries.includes(t));
      const versions = new Map(untouched.map((t) => [t, versionOf(emu, t)]));
      const journal = join(dir, 'unhealthy.journal');
      const report = join(dir, 'unhealthy.ndjson');
      const result = await runRollout(
        options(emu, { desired: { fw: '1.5.0', led: 'on' }, waves: waves('rollback'), journal, report }),
      );
      expect(result.ok).toBe(false);
      expect(result.gateFailure).toMatchObject({ wave: 0, action: 'rollback', decision: { verdict: 'fail' } });
      expect(result.gateFailure!.decision.unhealthy).toBeGreaterThan(0);
      expect(result.waves!.map((w) => w.skipped === true)).toEqual([false, true, true]);
      expect(result.rollback).toMatchObject({ rolledBack: canaries.length, failed: 0, keptKeyCount: 0 });
      for (const t of THINGS) expect(emu.store.get(t)!.state.desired).toEqual(BEFORE);
      for (const t of untouched) expect(versionOf(emu, t)).toBe(versions.get(t));
      // the outcome file marks the rolled-back things
      const lines = (await readFile(report, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { thing: string; outcome: string });
      expect(
        lines
          .filter((l) => l.outcome === 'rolled-back')
          .map((l) => l.thing)
          .sort(),
      ).toEqual([...canaries].sort());
    });
  });

  it('stops at a failed gate with its figures, leaving the written things as they are', async () => {
    await fleet(async (emu) => {
      const result = await runRollout(options(emu, { desired: { fw: '1.5.0' }, waves: waves('stop') }));
      expect(result.ok).toBe(false);
      expect(result.gateFailure).toMatchObject({ wave: 0, action: 'stop' });
      expect(result.gateFailure!.decision.reason).toMatch(/took the change and are unhealthy/);
      expect(result.rollback).toBeUndefined();
      for (const t of THINGS)
        expect(emu.store.get(t)!.state.desired!.fw).toBe(canaries.includes(t) ? '1.5.0' : '1.4.0');
    });
  });

  it('keeps and reports a key someone changed after the rollout wrote it', async () => {
    await fleet(async (emu) => {
      const journal = join(dir, 'kept.journal');
      const changed = canaries[0]!;
      let touched = false;
      const result = await runRollout(
        options(emu, {
          desired: { fw: '1.5.0', led: 'on' },
          waves: waves('rollback'),
          journal,
          // while the gate watches, an operator sets the canary's led by hand
          onProgress: (p) => {
            if (p.phase !== 'gate' || touched) return;
            touched = true;
            expect(
              emu.store.update(changed, undefined, JSON.stringify({ state: { desired: { led: 'blink' } } }), Date.now())
                .ok,
            ).toBe(true);
          },
          progressIntervalMs: 60_000,
        }),
      );
      expect(touched).toBe(true);
      expect(result.rollback!.keptKeys).toEqual([{ thing: changed, path: ['led'], wrote: 'on', current: 'blink' }]);
      expect(emu.store.get(changed)!.state.desired).toEqual({ fw: '1.4.0', led: 'blink' });
      for (const t of canaries.slice(1)) expect(emu.store.get(t)!.state.desired).toEqual(BEFORE);
    });
  });

  it('undoes a stopped rollout later from its journal, and a second run finds nothing left to do', async () => {
    await fleet(async (emu) => {
      const journal = join(dir, 'later.journal');
      const stopped = await runRollout(
        options(emu, { desired: { fw: '1.5.0', led: 'on' }, waves: waves('stop'), journal }),
      );
      expect(stopped.gateFailure?.action).toBe('stop');
      const dry = await runRollback({ endpoint: emu.url, journal, dryRun: true, rates: 'off', workers: 1 });
      expect(dry.wouldWrite).toBe(canaries.length);
      expect(emu.store.get(canaries[0]!)!.state.desired!.fw).toBe('1.5.0');
      const report = join(dir, 'later-rollback.ndjson');
      const undone = await runRollback({ endpoint: emu.url, journal, rates: 'off', workers: 1, report });
      const lines = (await readFile(report, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { thing: string; outcome: string });
      expect(lines.map((l) => l.outcome)).toEqual(canaries.map(() => 'rolled-back'));
      expect(JSON.parse(await readFile(`${report}.summary.json`, 'utf8'))).toMatchObject({
        rolledBack: canaries.length,
      });
      expect(undone).toMatchObject({ ok: true, things: canaries.length, rolledBack: canaries.length, failed: 0 });
      for (const t of THINGS) expect(emu.store.get(t)!.state.desired).toEqual(BEFORE);
      const again = await runRollback({ endpoint: emu.url, journal, rates: 'off', workers: 1 });
      expect(again).toMatchObject({ resumed: canaries.length, rolledBack: 0 });
    });
  });

  it('shows the waves with their sizes in a dry run, writing nothing', async () => {
    await fleet(async (emu) => {
      const versions = THINGS.map((t) => versionOf(emu, t));
      const result = await runRollout(
        options(emu, { desired: { fw: '1.5.0' }, waves: waves('rollback'), dryRun: true }),
      );
      expect(result.waves!.map((w) => [w.label, w.targets])).toEqual([
        ['10%', canaries.length],
        ['40%', THINGS.filter((t) => waveShare(t) >= 0.1 && waveShare(t) < 0.4).length],
        ['100%', THINGS.filter((t) => waveShare(t) >= 0.4).length],
      ]);
      expect(THINGS.map((t) => versionOf(emu, t))).toEqual(versions);
    });
  });

  it('resumes a rollout interrupted while a gate waited, and the gate still watches what the earlier run wrote', async () => {
    // the devices answer only when the test moves their clock: the first run's gate cannot decide
    const clock = new ManualClock();
    const emu = await startEmulator({
      quotas: 'off',
      simulateDevices: { delayMs: 10, clock, unhealthyWhen: 'fw=1.5.0', unhealthyShare: 0.3 },
    });
    try {
      for (const t of THINGS)
        emu.store.update(
          t,
          undefined,
          JSON.stringify({ state: { desired: BEFORE, reported: { ...BEFORE, health: 'ok' } } }),
          Date.now(),
        );
      const journal = join(dir, 'resume-gate.journal');
      const ac = new AbortController();
      const first = await runRollout(
        options(emu, {
          desired: { fw: '1.5.0' },
          waves: waves('rollback'),
          journal,
          signal: ac.signal,
          onProgress: (p) => {
            if (p.phase === 'gate') ac.abort();
          },
          progressIntervalMs: 60_000,
        }),
      );
      expect(first.interrupted).toBe(true);
      expect(first.waves![0]!.written).toBe(canaries.length);
      clock.advance(10);
      const resumed = await runRollout(
        options(emu, { desired: { fw: '1.5.0' }, waves: waves('rollback'), journal, resume: true }),
      );
      expect(resumed.waves![0]).toMatchObject({ written: canaries.length, gate: { decision: { verdict: 'fail' } } });
      expect(resumed.rollback).toMatchObject({ rolledBack: canaries.length });
      for (const t of THINGS) expect(emu.store.get(t)!.state.desired).toEqual(BEFORE);
    } finally {
      await emu.close();
    }
  });

  it('writes a where-wave to the things whose shadow meets its condition first, and each thing once', async () => {
    await fleet(async (emu) => {
      const lab = THINGS.filter((_, i) => i % 10 === 0);
      for (const t of lab)
        emu.store.update(t, undefined, JSON.stringify({ state: { reported: { site: 'lab' } } }), Date.now());
      const report = join(dir, 'where.ndjson');
      const result = await runRollout(
        options(emu, {
          report,
          waves: {
            health: 'reported.health == "ok"',
            onGateFailure: 'stop',
            waves: [
              { where: 'reported.site == "lab"', gate: { converged: 1, healthy: 1, withinMs: WITHIN } },
              { share: 1 },
            ],
          },
        }),
      );
      expect(result.ok).toBe(true);
      expect(result.waves!.map((w) => [w.label, w.targets, w.written, w.gate?.decision.verdict])).toEqual([
        ['where reported.site == "lab"', lab.length, lab.length, 'pass'],
        ['100%', THINGS.length - lab.length, THINGS.length - lab.length, undefined],
      ]);
      expect(result.summary.things).toBe(THINGS.length);
      const lines = (await readFile(report, 'utf8')).trim().split('\n');
      expect(new Set(lines.map((l) => (JSON.parse(l) as { thing: string }).thing)).size).toBe(THINGS.length);
      expect(lines).toHaveLength(THINGS.length);
    });
  });
});
