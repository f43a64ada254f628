import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { runRollout, type RolloutOptions, type RolloutResult } from '../../src/jobs/rollout/rollout.js';
import { runSnapshot } from '../../src/jobs/snapshot/snapshot.js';
import { ManualClock } from '../emulator/manual-clock.js';

const GOAL = { fw: '2.4.1', telemetry: { periodSeconds: 30 } };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sf-rollout-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withEmulator<T>(options: EmulatorOptions, fn: (emu: Emulator) => Promise<T>): Promise<T> {
  const emu = await startEmulator({ port: 0, ...options });
  try {
    return await fn(emu);
  } finally {
    await emu.close();
  }
}

/** Writes a shadow through the emulator's HTTP API, retrying faults and throttles (a device's write). */
async function post(emu: Emulator, thing: string, body: unknown, shadow?: string): Promise<void> {
  const url = `${emu.url}/things/${encodeURIComponent(thing)}/shadow${shadow === undefined ? '' : `?name=${encodeURIComponent(shadow)}`}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      await res.arrayBuffer();
      if (res.ok) return;
      if (res.status !== 429 && res.status < 500) throw new Error(`seed ${thing}: ${res.status}`);
    } catch (err) {
      if ((err as Error).message.startsWith('seed ')) throw err;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`seed ${thing}: gave up`);
}

async function seed(emu: Emulator, names: string[], doc: (name: string, i: number) => unknown): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < names.length) {
        const i = next++;
        await post(emu, names[i]!, doc(names[i]!, i));
      }
    }),
  );
}

async function writeTargets(list: string[]): Promise<string> {
  const file = join(dir, `targets-${list.length}-${list[0]}.txt`);
  await writeFile(file, list.join('\n') + '\n');
  return file;
}

function names(n: number, prefix = 'pump'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
}

function base(emu: Emulator, extra: Partial<RolloutOptions>): RolloutOptions {
  return { endpoint: emu.url, targets: [], workers: 1, yes: true, ...extra } as RolloutOptions;
}

function sumOutcomes(r: RolloutResult): number {
  return Object.values(r.summary.byOutcome).reduce((a, b) => a + b, 0);
}

async function readLines(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('runRollout', { timeout: 120_000 }, () => {
  it('validates its options once, with messages that name the option', async () => {
    const ok = { endpoint: 'http://127.0.0.1:9', targets: ['a'], desired: { a: 1 } };
    await expect(runRollout({ ...ok, desired: undefined } as RolloutOptions)).rejects.toThrow(
      'rollout: give the change as desired (a merge document) or transform (a module path)',
    );
    await expect(runRollout({ ...ok, transform: '/x.mjs' })).rejects.toThrow(
      'rollout: give either desired or transform, not both',
    );
    await expect(runRollout({ ...ok, endpoint: '' })).rejects.toThrow(
      'endpoint: required (the data plane endpoint URL)',
    );
    await expect(runRollout({ ...ok, rate: { perSecond: 0 } })).rejects.toThrow(
      'rate.perSecond: expected a positive number',
    );
    await expect(runRollout({ ...ok, workers: 1.5 })).rejects.toThrow('workers: expected a positive integer');
    await expect(runRollout({ ...ok, resume: true })).rejects.toThrow(
      'resume: needs the journal of the earlier run (journal option / --journal)',
    );
    await expect(
      runRollout({ ...ok, rate: 'off', ramp: { baseRate: 1, factor: 2, everySucceeded: 1 } }),
    ).rejects.toThrow("ramp: needs a rate limit to ramp up to (rate is 'off')");
    await expect(
      runRollout({ ...ok, abort: [{ failureType: 'all', thresholdPercentage: 101, minThings: 0 }] }),
    ).rejects.toThrow('abort[0].thresholdPercentage: expected a percentage from 0 to 100');
  });

  it('reaches the goal on every target despite faults, throttling and devices writing meanwhile, losing no device write', async () => {
    await withEmulator(
      // A quarter of the injected faults are 429 throttles: the seeded draws give the 86th admitted
      // request a throttle and the 46th a 500, and the seeding and the rollout make more than 300,
      // so the run meets both at any speed. The 100/s quota throttles too when the machine is fast.
      { faults: { rate: 0.04, seed: 11, kinds: { throttled: 1 } }, accountRps: 100, simulateDevices: { delayMs: 5 } },
      async (emu) => {
        const things = names(150);
        await seed(emu, things, (_n, i) => ({
          state: { desired: { fw: '1.0.0', keep: i }, reported: { fw: '1.0.0' } },
        }));
        // A device per thing keeps writing its own keys (desired.pref and reported.counter) during the rollout.
        const lastPref = new Map<string, number>();
        const lastCounter = new Map<string, number>();
        let stop = false;
        const device = (async () => {
          for (let n = 1; n <= 400 && !stop; n++) {
            const thing = things[(n * 37) % things.length]!;
            await post(emu, thing, { state: { desired: { pref: n }, reported: { counter: n } } });
            lastPref.set(thing, n);
            lastCounter.set(thing, n);
          }
        })();
        const report = join(dir, 'faults.ndjson');
        let result: RolloutResult;
        try {
          result = await runRollout(
            base(emu, { targets: things, desired: GOAL, rate: { perSecond: 400 }, report, batchSize: 25 }),
          );
        } finally {
          stop = true;
          await device;
        }
        const stats = emu.stats();
        expect(stats.totals.faults).toBeGreaterThan(0);
        expect(stats.totals.throttled).toBeGreaterThan(0);
        expect(result.summary.things).toBe(150);
        expect(sumOutcomes(result)).toBe(150);
        expect(result.summary.byError).toEqual({});
        expect(result.summary.failed).toBe(0);
        expect(result.ok).toBe(true);
        for (const [i, thing] of things.entries()) {
          const doc = emu.store.get(thing)!;
          expect(doc.state.desired).toMatchObject({ ...GOAL, keep: i });
          if (lastPref.has(thing)) expect(doc.state.desired!.pref).toBe(lastPref.get(thing));
          if (lastCounter.has(thing)) expect(doc.state.reported!.counter).toBe(lastCounter.get(thing));
        }
        // Every thing is in the per-thing report exactly once, with a known outcome.
        const lines = await readLines(report);
        expect(lines).toHaveLength(150);
        expect(new Set(lines.map((l) => l.thing)).size).toBe(150);
        for (const l of lines) expect(['written', 'rebased', 'unchanged']).toContain(l.outcome);
        const summaryFile = JSON.parse(await readFile(`${report}.summary.json`, 'utf8')) as RolloutResult;
        expect(summaryFile.summary.things).toBe(150);
        expect(result.summary.bytesSent).toBeGreaterThan(0);
        expect(result.summary.latencyMs.p99).toBeGreaterThanOrEqual(result.summary.latencyMs.p50);
        expect(result.summary.series.length).toBeGreaterThan(0);
      },
    );
  });

  it('returns a partial result when aborted, and a resumed run finishes with each thing counted once', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const things = names(240);
      await seed(emu, things, () => ({ state: { desired: { fw: '1.0.0' } } }));
      const journal = join(dir, 'abort.journal');
      const report = join(dir, 'abort.ndjson');
      const controller = new AbortController();
      // The targets stop coming after the first 40 until the abort: the run cannot finish before
      // it, however fast or slow the machine (at 150/s a fast one used to beat the progress timer).
      async function* heldTargets(): AsyncIterable<string> {
        yield* things.slice(0, 40);
        await new Promise<void>((resolve) =>
          controller.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        yield* things.slice(40);
      }
      const first = await runRollout(
        base(emu, {
          targets: heldTargets(),
          desired: GOAL,
          journal,
          report,
          batchSize: 10,
          rate: { perSecond: 150 },
          signal: controller.signal,
          progressIntervalMs: 20,
          onProgress: (p) => {
            if (p.done >= 40) controller.abort(new Error('SIGINT'));
          },
        }),
      );
      expect(first.interrupted).toBe(true);
      expect(first.ok).toBe(false);
      expect(first.summary.things).toBeGreaterThanOrEqual(40);
      expect(first.summary.things).toBeLessThan(240);
      expect(first.summary.things).toBe(sumOutcomes(first));
      expect(await readLines(report)).toHaveLength(first.summary.things);

      const second = await runRollout(
        base(emu, { targets: things, desired: GOAL, journal, report, resume: true, rate: { perSecond: 4000 } }),
      );
      expect(second.interrupted).toBe(false);
      expect(second.summary.things).toBe(240);
      expect(second.summary.resumed).toBe(first.summary.things);
      expect(second.summary.byOutcome.written).toBe(240);
      expect(sumOutcomes(second)).toBe(240);
      const lines = await readLines(report);
      expect(lines).toHaveLength(240);
      expect(new Set(lines.map((l) => l.thing)).size).toBe(240);
      for (const t of things) expect(emu.store.get(t)!.state.desired).toEqual(GOAL);
    });
  });

  it('takes its targets from a snapshot directory: each thing in it once, whatever its named shadows', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const things = names(6, 'snap');
      await seed(emu, things, (_n, i) => ({ state: { desired: { fw: '1.0', slot: i } } }));
      await post(emu, things[0]!, { state: { desired: { mode: 'eco' } } }, 'config');
      await post(emu, things[0]!, { state: { desired: { mode: 'eco' } } }, 'firmware');
      const snapshot = join(dir, 'targets-snapshot');
      const snap = await runSnapshot({
        endpoint: emu.url,
        workers: 1,
        rates: 'off',
        things: await writeTargets(things.slice(0, 4)),
        out: snapshot,
      });
      expect(snap.records).toBe(6);
      const r = await runRollout(base(emu, { targets: snapshot, desired: GOAL }));
      expect(r.summary).toMatchObject({ things: 4, byOutcome: { written: 4 } });
      expect(r.duplicates).toBe(0);
      for (const t of things.slice(0, 4)) expect(emu.store.get(t)?.state.desired).toMatchObject(GOAL);
      for (const t of things.slice(4)) expect(emu.store.get(t)?.state.desired).not.toMatchObject(GOAL);
    });
  });

  it('refuses a directory that holds no complete snapshot as targets', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const empty = await mkdtemp(join(dir, 'not-a-snapshot-'));
      await expect(runRollout(base(emu, { targets: empty, desired: GOAL }))).rejects.toThrow(
        `${join(empty, 'manifest.json')}: no manifest, so ${empty} is not a complete snapshot`,
      );
    });
  });

  it('refuses to resume a journal written for a different change', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const journal = join(dir, 'change.journal');
      await runRollout(base(emu, { targets: ['c-1', 'c-2'], desired: GOAL, journal }));
      await expect(
        runRollout(base(emu, { targets: ['c-1', 'c-2'], desired: { fw: '9' }, journal, resume: true })),
      ).rejects.toThrow(
        `${journal}: the journal was written for a different change (shadow, desired, transform or dry run); resume with the same change, or start a new journal`,
      );
      const again = await runRollout(
        base(emu, { targets: ['c-1', 'c-2', 'c-3'], desired: GOAL, journal, resume: true }),
      );
      expect(again.summary).toMatchObject({ things: 3, resumed: 2, byOutcome: { written: 3 } });
    });
  });

  it('refuses to resume when the transform module at the same path now computes another change', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const journal = join(dir, 'transform-change.journal');
      const transform = join(dir, 'edited-transform.mjs');
      await writeFile(transform, 'export default () => ({ fw: "1" });\n');
      await runRollout(base(emu, { targets: ['t-1', 't-2'], transform, journal }));
      await writeFile(transform, 'export default () => ({ fw: "2" });\n');
      await expect(
        runRollout(base(emu, { targets: ['t-1', 't-2', 't-3'], transform, journal, resume: true })),
      ).rejects.toThrow(
        `${journal}: the journal was written for a different change (shadow, desired, transform or dry run); resume with the same change, or start a new journal`,
      );
      expect(emu.store.get('t-3')).toBeUndefined();
    });
  });

  it('stops at the run timeout and says so', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const result = await runRollout(
        base(emu, { targets: names(200, 'slow'), desired: GOAL, rate: { perSecond: 50 }, timeouts: { runMs: 300 } }),
      );
      expect(result.aborted).toEqual({ reason: 'run timeout: 300 ms passed' });
      expect(result.summary.things).toBeLessThan(200);
      expect(result.interrupted).toBe(false);
    });
  });

  it('plans a dry run without writing anything and counts would-write, unchanged, too-large, bytes, billed operations and time', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const things = names(30);
      const big = 'x'.repeat(8150);
      await seed(emu, things, (_n, i) =>
        i < 10
          ? { state: { desired: GOAL } }
          : i < 12
            ? { state: { desired: { fw: '1' }, reported: { blob: big } } }
            : { state: { desired: { fw: '1.0.0' } } },
      );
      emu.resetStats();
      const result = await runRollout(
        base(emu, { targets: [...things, 'never-seen'], desired: GOAL, dryRun: true, rate: { perSecond: 100 } }),
      );
      const stats = emu.stats();
      expect(stats.operations.UpdateThingShadow.requests).toBe(0);
      expect(stats.operations.GetThingShadow.requests).toBe(31);
      expect(result.dryRun).toBe(true);
      expect(result.plan).toMatchObject({
        wouldWrite: 19,
        unchanged: 10,
        tooLarge: 2,
        skipped: 0,
        invalid: 0,
        failed: 0,
        ratePerSecond: 100,
      });
      expect(result.plan!.bytesToSend).toBeGreaterThan(0);
      expect(result.plan!.billedOperations).toBe(31 + 19);
      expect(result.plan!.estimatedSeconds).toBe(0.31);
      for (const t of things.slice(12)) expect(emu.store.get(t)!.state.desired).toEqual({ fw: '1.0.0' });
      expect(emu.store.get('never-seen')).toBeUndefined();
    });
  });

  it('plans a transform that skips some things and returns an invalid document for others', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const things = names(9, 'tf');
      await seed(emu, things, (_n, i) => ({
        state: { desired: { ring: i % 3 === 0 ? 'frozen' : i % 3 === 1 ? 'bad' : 'ok' } },
      }));
      const transform = join(dir, 'plan-transform.mjs');
      await writeFile(
        transform,
        [
          'export default function (shadow, thingName, item) {',
          '  const d = shadow?.state.desired ?? {};',
          "  if (d.ring === 'frozen') return undefined;",
          "  if (d.ring === 'bad') return { ...d, list: [1, null] };",
          "  return { ...d, fw: item.data?.fw ?? '2' };",
          '}',
        ].join('\n'),
      );
      emu.resetStats();
      const result = await runRollout(
        base(emu, { targets: things.map((thingName) => ({ thingName, data: { fw: '3' } })), transform, dryRun: true }),
      );
      expect(result.plan).toMatchObject({ wouldWrite: 3, skipped: 3, invalid: 3, unchanged: 0 });
      expect(emu.stats().operations.UpdateThingShadow.requests).toBe(0);
      const real = await runRollout(
        base(emu, { targets: things.map((thingName) => ({ thingName, data: { fw: '3' } })), transform }),
      );
      expect(real.summary.byOutcome).toEqual({ written: 3, skipped: 3, invalid: 3 });
      expect(emu.store.get(things[2]!)!.state.desired).toEqual({ ring: 'ok', fw: '3' });
    });
  });

  it('refuses a rollout over more things than the blast-radius cap unless confirmed, before sending anything', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const things = names(12);
      const options = { ...base(emu, { targets: things, desired: GOAL, safety: { maxThings: 10 } }), yes: false };
      await expect(runRollout(options)).rejects.toThrow(InvalidArgumentError);
      await expect(runRollout(options)).rejects.toThrow(
        'rollout targets more than 10 things (the blast-radius cap, safety.maxThings): confirm with --yes (yes: true), or try --dry-run first',
      );
      expect(emu.stats().totals.requests).toBe(0);
      const within = await runRollout({ ...options, targets: things.slice(0, 10) });
      expect(within.summary.byOutcome.written).toBe(10);
      const confirmed = await runRollout({ ...options, yes: true });
      expect(confirmed.summary.byOutcome).toEqual({ written: 2, unchanged: 10 });
    });
  });

  it('refuses a change deleting keys on many things unless deletes are allowed', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const things = names(12);
      await seed(emu, things, () => ({ state: { desired: { fw: '1', legacy: true } } }));
      emu.resetStats();
      const options = base(emu, { targets: things, desired: { legacy: null }, safety: { maxDeletes: 5 } });
      await expect(runRollout(options)).rejects.toThrow(
        'the change deletes keys (null in desired) on more than 5 things (safety.maxDeletes): confirm with --allow-deletes (allowDeletes: true)',
      );
      expect(emu.stats().totals.requests).toBe(0);
      const allowed = await runRollout({ ...options, allowDeletes: true });
      expect(allowed.summary.byOutcome.written).toBe(12);
      for (const t of things) expect(emu.store.get(t)!.state.desired).toEqual({ fw: '1' });
    });
  });

  it('stops a transform that deletes keys on more things than allowed', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const things = names(60);
      await seed(emu, things, () => ({ state: { desired: { fw: '1', legacy: true } } }));
      const transform = join(dir, 'drop-legacy.mjs');
      await writeFile(
        transform,
        'export default (shadow) => { const d = { ...(shadow?.state.desired ?? {}) }; delete d.legacy; d.fw = "2"; return d; };\n',
      );
      const result = await runRollout(
        base(emu, { targets: things, transform, safety: { maxDeletes: 3 }, batchSize: 4 }),
      );
      expect(result.aborted?.reason).toBe(
        'the change deleted keys on more than 3 things (safety.maxDeletes); rerun with --allow-deletes to continue',
      );
      expect(result.ok).toBe(false);
      expect(result.summary.things).toBeLessThan(60);
    });
  });

  it('aborts when failures pass the threshold percentage once the minimum number of things is done', async () => {
    await withEmulator(
      { quotas: 'off', faults: { rate: 0, seed: 3, perOperation: { UpdateThingShadow: { rate: 1 } } } },
      async (emu) => {
        const things = names(400);
        const result = await runRollout(
          base(emu, {
            targets: things,
            desired: GOAL,
            batchSize: 5,
            requestAttempts: 1,
            abort: [{ failureType: 'all', thresholdPercentage: 50, minThings: 30 }],
          }),
        );
        expect(result.aborted).toBeDefined();
        expect(result.aborted!.reason).toMatch(
          /^abort criterion: \d+ of \d+ things \(100\.0%\) failed > 50% \(failureType all, minThings 30\)$/,
        );
        expect(result.summary.things).toBeGreaterThanOrEqual(30);
        expect(result.summary.things).toBeLessThan(400);
        expect(result.summary.failed).toBe(result.summary.things);
        expect(Object.keys(result.summary.byError).length).toBeGreaterThan(0);
      },
    );
  });

  it('does not abort before the minimum number of things, nor on a failure type that did not occur', async () => {
    await withEmulator(
      { quotas: 'off', faults: { rate: 0, seed: 3, perOperation: { UpdateThingShadow: { rate: 1 } } } },
      async (emu) => {
        const things = names(20);
        const result = await runRollout(
          base(emu, {
            targets: things,
            desired: GOAL,
            batchSize: 5,
            requestAttempts: 1,
            abort: [
              { failureType: 'all', thresholdPercentage: 50, minThings: 100 },
              { failureType: 'throttled', thresholdPercentage: 1, minThings: 0 },
            ],
          }),
        );
        expect(result.aborted).toBeUndefined();
        expect(result.summary.failed).toBe(20);
      },
    );
  });

  it('ramps the rate by the factor after every N successful things, up to the quota', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const things = names(60);
      const rates: number[] = [];
      // The first 5 things (fewer than a ramp step) come before the first progress event that
      // shows a rate, the rest after it: that event sees the base rate however late the timer fires.
      let seenRate!: () => void;
      const firstRate = new Promise<void>((resolve) => (seenRate = resolve));
      async function* targets(): AsyncIterable<string> {
        yield* things.slice(0, 5);
        await firstRate;
        yield* things.slice(5);
      }
      const result = await runRollout(
        base(emu, {
          targets: targets(),
          desired: GOAL,
          batchSize: 5,
          rate: { perSecond: 200 },
          ramp: { baseRate: 40, factor: 2, everySucceeded: 10 },
          progressIntervalMs: 10,
          onProgress: (p) => {
            if (p.rate !== undefined && rates[rates.length - 1] !== p.rate) rates.push(p.rate);
            if (p.rate !== undefined) seenRate();
          },
        }),
      );
      expect(result.summary.byOutcome.written).toBe(60);
      expect(result.rampSteps.map((s) => s.rate)).toEqual([40, 80, 160, 200]);
      expect(result.rampSteps.map((s) => s.succeeded)).toEqual([0, 10, 20, 30]);
      expect(rates[0]).toBe(40);
      expect(rates[rates.length - 1]).toBe(200);
    });
  });

  it('catches documents over 8 KB before sending them', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      await seed(emu, ['big-1', 'ok-1'], (n) => ({
        state: { reported: { blob: n === 'big-1' ? 'x'.repeat(8100) : 'y' } },
      }));
      emu.resetStats();
      const result = await runRollout(base(emu, { targets: ['big-1', 'ok-1'], desired: { note: 'z'.repeat(200) } }));
      expect(result.summary.byOutcome).toEqual({ 'too-large': 1, written: 1 });
      expect(emu.stats().operations.UpdateThingShadow.requests).toBe(1);
      expect(emu.stats().operations.UpdateThingShadow.errors).toBe(0);
    });
  });

  it('waits for devices to report the new values and names the things that did not converge', async () => {
    // The devices' clock moves when the rollout starts waiting: every answering device reports
    // during the wait (never before it, never after its end), however slow the machine.
    const clock = new ManualClock();
    await withEmulator({ quotas: 'off', simulateDevices: { delayMs: 30, silentShare: 0.3, clock } }, async (emu) => {
      const things = names(40);
      const silent = things.filter((t) => emu.devices!.isSilent(t, undefined));
      expect(silent.length).toBeGreaterThan(0);
      let pendingAtWait: number | undefined;
      const result = await runRollout(
        base(emu, {
          targets: things,
          desired: GOAL,
          waitConvergedMs: 5000,
          convergePollMs: 100,
          onProgress: (p) => {
            if (p.phase !== 'converge' || pendingAtWait !== undefined) return;
            pendingAtWait = emu.devices!.pendingCount;
            clock.advance(30);
          },
        }),
      );
      // Every answering device still had its report pending when the wait began.
      expect(pendingAtWait).toBe(40 - silent.length);
      const c = result.convergence!;
      expect(c.checked).toBe(40);
      expect(c.converged).toBe(40 - silent.length);
      expect(c.share).toBeCloseTo((40 - silent.length) / 40);
      expect([...c.notConverged].sort()).toEqual(silent.sort());
      expect(c.series.length).toBeGreaterThan(0);
      expect(c.series[c.series.length - 1]!.converged).toBe(c.converged);
    });
  });

  it('reads targets from a CSV file with a shadow column and names bad lines', async () => {
    await withEmulator({ quotas: 'off' }, async (emu) => {
      const file = join(dir, 'things.csv');
      await writeFile(
        file,
        'thingName,shadowName,ring\npump-a,config,canary\npump-b,,stable\nbad name!,config,x\npump-a,config,dup\n',
      );
      const result = await runRollout(base(emu, { targets: file, shadowName: 'cfg', desired: GOAL }));
      expect(result.summary.byOutcome.written).toBe(2);
      expect(result.duplicates).toBe(1);
      expect(result.invalidTargets).toBe(1);
      expect(result.ok).toBe(false);
      expect(emu.store.get('pump-a', 'config')!.state.desired).toEqual(GOAL);
      expect(emu.store.get('pump-b', 'cfg')!.state.desired).toEqual(GOAL);
    });
  });
});
