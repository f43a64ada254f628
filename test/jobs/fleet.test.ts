import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runFleetApply } from '../../src/jobs/fleet/fleet-apply.js';
import { driftReportModel, runFleetDrift } from '../../src/jobs/fleet/fleet-drift-job.js';
import { runFleetPlan } from '../../src/jobs/fleet/fleet-plan-job.js';
import { runSnapshot } from '../../src/jobs/snapshot/snapshot.js';
import { writeReportPage } from '../../src/report/write-report-page.js';
import { waitFor } from '../emulator/with-emulator.js';

const THINGS = 40;
const name = (i: number): string => `dev-${String(i).padStart(3, '0')}`;

const FLEET = `
fleet: { all: true }
rules:
  - name: sampling
    desired: { sampling: { hz: 5 }, led: on }
  - name: pilot-firmware
    group: pilot
    desired: { firmware: "1.5.0", sampling: { hz: 10 } }
  - name: lamps
    shadow: config
    where: 'reported.model == "lamp"'
    desired: { brightness: 80 }
`;

describe('plan, apply and drift of a fleet file', { timeout: 300_000 }, () => {
  let emu: Emulator;
  let dir: string;
  let file: string;
  const base = () => ({ file, endpoint: emu.url, rate: 'off' as const, workers: 1 });
  const updates = (): number => emu.stats().operations.UpdateThingShadow.requests;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, quotas: 'off', simulateDevices: { delayMs: 1 } });
    dir = await mkdtemp(join(tmpdir(), 'fleet-'));
    file = join(dir, 'fleet.yaml');
    await writeFile(file, FLEET);
    emu.registry.createGroup('pilot', {});
    for (let i = 0; i < THINGS; i++) {
      const t = name(i);
      emu.store.update(t, undefined, {
        state: { desired: { sampling: { hz: 1 }, own: i }, reported: { sampling: { hz: 1 }, own: i } },
      });
      // every fourth thing is a lamp with a config shadow
      if (i % 4 === 0) emu.store.update(t, 'config', { state: { reported: { model: 'lamp' } } });
      if (i % 4 === 1) emu.store.update(t, 'config', { state: { reported: { model: 'pump' } } });
      if (i < 10) {
        emu.registry.createThing(t, {});
        emu.registry.addThingToGroup(t, 'pilot');
      }
    }
  });
  afterAll(async () => {
    await emu?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('plans per rule the shadows that would change, the key paths and the bytes, writing nothing', async () => {
    const before = updates();
    const plan = await runFleetPlan(base());
    expect(updates()).toBe(before);
    expect(plan.shadows).toBe(THINGS * 2);
    expect(plan.governed).toBe(THINGS + THINGS / 4);
    expect(plan.toWrite).toBe(THINGS + THINGS / 4);
    const [sampling, pilot, lamps] = plan.rules;
    expect(sampling).toMatchObject({
      applies: THINGS,
      changes: THINGS,
      paths: { 'sampling.hz': THINGS - 10, led: THINGS },
    });
    expect(pilot).toMatchObject({ applies: 10, changes: 10, paths: { firmware: 10, 'sampling.hz': 10 } });
    expect(lamps).toMatchObject({
      applies: THINGS / 4,
      changes: THINGS / 4,
      shadow: 'config',
      paths: { brightness: THINGS / 4 },
    });
    expect(plan.bytes).toBeGreaterThan(0);
    expect(plan.groups.map((g) => g.things.length).sort((a, b) => a - b)).toEqual([10, 10, 30]);
  });

  it('applies through rollouts, a second apply writes nothing, and drift finds every shadow in line', async () => {
    const first = await runFleetApply({ ...base(), waitConvergedMs: 60_000, convergePollMs: 50 });
    expect(first.ok).toBe(true);
    expect(first.written).toBe(THINGS + THINGS / 4);
    expect(emu.store.get(name(3))!.state.desired).toEqual({
      sampling: { hz: 10 },
      led: 'on',
      firmware: '1.5.0',
      own: 3,
    });
    expect(emu.store.get(name(30))!.state.desired).toEqual({ sampling: { hz: 5 }, led: 'on', own: 30 });
    expect(emu.store.get(name(4), 'config')!.state.desired).toEqual({ brightness: 80 });
    expect(emu.store.get(name(5), 'config')!.state.desired).toBeUndefined();
    // the simulated devices report what they were asked for
    await waitFor(
      () => Array.from({ length: THINGS }, (_, i) => emu.store.get(name(i))!.state.delta === undefined).every(Boolean),
      60_000,
    );

    const before = updates();
    const second = await runFleetApply(base());
    expect(second.plan.toWrite).toBe(0);
    expect(second.rollouts).toEqual([]);
    expect(updates()).toBe(before);

    const drift = await runFleetDrift({ ...base(), maxLagMs: 60_000 });
    expect(drift.governed).toBe(THINGS + THINGS / 4);
    expect(drift.driftedCount).toBe(0);
    expect(drift.counts['in-line']).toBe(THINGS + THINGS / 4);
  });

  it('shows a shadow whose desired was changed and a device that stopped following in drift, as JSON lines and a page', async () => {
    emu.store.update(name(20), undefined, { state: { desired: { sampling: { hz: 9 } } } });
    emu.store.update(name(21), undefined, { state: { reported: { led: 'off' } } });
    const lines: string[] = [];
    const later = Date.now() + 3_600_000;
    const drift = await runFleetDrift({
      ...base(),
      maxLagMs: 60_000,
      now: () => later,
      onShadow: (e) => lines.push(JSON.stringify(e)),
    });
    expect(drift.driftedCount).toBe(2);
    expect(drift.drifted).toEqual([
      expect.objectContaining({ thing: name(20), shadow: null, state: 'desired-differs', paths: ['sampling.hz'] }),
      expect.objectContaining({ thing: name(21), shadow: null, state: 'not-followed', paths: ['led'] }),
    ]);
    expect(lines).toHaveLength(THINGS + THINGS / 4);
    // the same verdicts from a snapshot of the fleet, without reading the data plane
    const snap = join(dir, 'snap');
    await runSnapshot({ endpoint: emu.url, out: snap, allThings: true, rates: 'off', workers: 1 });
    const reads = emu.stats().operations.GetThingShadow.requests;
    const fromSnapshot = await runFleetDrift({ ...base(), fromSnapshot: snap, maxLagMs: 60_000, now: () => later });
    expect(emu.stats().operations.GetThingShadow.requests).toBe(reads);
    expect(fromSnapshot.drifted).toEqual(drift.drifted);
    expect(fromSnapshot.counts).toEqual(drift.counts);
    const page = join(dir, 'drift.html');
    await writeReportPage(page, driftReportModel(drift));
    const html = await readFile(page, 'utf8');
    expect(html).toContain(name(20));
    expect(html).toContain('not-followed');
  });

  it('refuses a fleet file with a broken rule before reading anything', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'fleet: { all: true }\nrules:\n  - name: x\n    desired: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } }\n',
    );
    const before = emu.stats().totals.requests;
    await expect(runFleetPlan({ ...base(), file: bad })).rejects.toThrow(`${bad}: rules[0] (x): desired:`);
    expect(emu.stats().totals.requests).toBe(before);
  });
});
