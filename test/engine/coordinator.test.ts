import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { IotDataClient } from '../../src/client/index.js';
import { Coordinator } from '../../src/engine/coordinator.js';
import { Journal, loadCompleted, readJournal } from '../../src/engine/journal.js';
import { itemKey, type ItemResult, type RolloutTaskConfig, type TargetItem } from '../../src/engine/task-types.js';

function things(n: number, prefix: string, data?: Record<string, string>): TargetItem[] {
  return Array.from({ length: n }, (_, i) =>
    data === undefined ? { thingName: `${prefix}-${i}` } : { thingName: `${prefix}-${i}`, data },
  );
}

async function* stream(items: TargetItem[]): AsyncGenerator<TargetItem> {
  for (const it of items) yield it;
}

async function seed(url: string, items: TargetItem[], state: (t: string) => object): Promise<void> {
  const client = new IotDataClient({ endpoint: url, retry: { maxAttempts: 5 } });
  try {
    await Promise.all(
      items.map((it) => client.updateThingShadow({ thingName: it.thingName, payload: { state: state(it.thingName) } })),
    );
  } finally {
    await client.close();
  }
}

const client = (url: string) => ({
  endpoint: url,
  region: 'us-east-1',
  maxAttempts: 6,
  baseDelayMs: 5,
  maxDelayMs: 50,
});

describe('Coordinator against the emulator', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: 'off' });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  test('a rollout writes each desired state once, and a re-run finds everything unchanged', async () => {
    const coord = new Coordinator({ client: client(emulator.url), workers: 2, batchSize: 10, rates: 'off' });
    try {
      const results: ItemResult[] = [];
      const stats = await coord.run<RolloutTaskConfig>(
        'rollout',
        { desired: { fw: '2.0', cfg: { rate: 5 } } },
        stream(things(50, 'a')),
        (r) => void results.push(r),
      );
      expect(results).toHaveLength(50);
      expect(stats.byOutcome).toEqual({ written: 50 });
      expect(stats.done).toBe(50);
      for (const r of results) expect(r).toMatchObject({ attempts: 1, requests: 2, throttles: 0 });
      expect(stats.requests).toBe(100);
      expect(emulator.store.get('a-7')?.state.desired).toEqual({ fw: '2.0', cfg: { rate: 5 } });
      const stats2 = await coord.run<RolloutTaskConfig>(
        'rollout',
        { desired: { fw: '2.0' } },
        stream(things(50, 'a')),
        () => undefined,
      );
      expect(stats2.byOutcome).toEqual({ unchanged: 50 });
    } finally {
      await coord.close();
    }
  });

  test('a dry run reads and diffs but writes nothing, as the emulator counters show', async () => {
    const items = things(30, 'dry');
    await seed(emulator.url, items.slice(0, 10), () => ({ desired: { fw: '2.0' } }));
    const before = emulator.stats().operations.UpdateThingShadow.requests;
    const coord = new Coordinator({ client: client(emulator.url), workers: 1, batchSize: 8, rates: 'off' });
    try {
      const results: ItemResult[] = [];
      const stats = await coord.run<RolloutTaskConfig>(
        'rollout',
        { desired: { fw: '2.0' }, dryRun: true },
        stream(items),
        (r) => void results.push(r),
      );
      expect(stats.byOutcome).toEqual({ unchanged: 10, 'would-write': 20 });
      expect(emulator.stats().operations.UpdateThingShadow.requests).toBe(before);
      expect(results.find((r) => r.outcome === 'would-write')!.bytesSent).toBeGreaterThan(0);
      expect(emulator.store.get('dry-20')).toBeUndefined();
    } finally {
      await coord.close();
    }
  });

  test('a device writing between our read and our write causes a conflict; the rollout re-reads, keeps the device write and ends rebased', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sf-transform-'));
    const transform = join(dir, 'interfere.mjs');
    // The transform runs in the worker between the GET and the UPDATE: the first time it sees a
    // thing, it plays the device and writes the shadow itself.
    await writeFile(
      transform,
      `const seen = new Set();
export default async function (shadow, thingName, item) {
  if (!seen.has(thingName)) {
    seen.add(thingName);
    const res = await fetch(item.data.url + '/things/' + thingName + '/shadow', { method: 'POST', body: JSON.stringify({ state: { desired: { mode: 'device-' + thingName } } }) });
    await res.arrayBuffer();
  }
  return { ...(shadow?.state.desired ?? {}), fw: '3.0' };
}
`,
    );
    const items = things(12, 'cf', { url: emulator.url });
    await seed(emulator.url, items, () => ({ desired: { fw: '1.0' }, reported: { fw: '1.0' } }));
    const coord = new Coordinator({ client: client(emulator.url), workers: 2, batchSize: 4, rates: 'off' });
    try {
      const results: ItemResult[] = [];
      const stats = await coord.run<RolloutTaskConfig>(
        'rollout',
        { transform },
        stream(items),
        (r) => void results.push(r),
      );
      expect(stats.byOutcome).toEqual({ rebased: 12 });
      for (const r of results) {
        expect(r.attempts).toBe(2);
        expect(r.detail).toMatchObject({ conflicts: 1 });
        expect(emulator.store.get(r.thingName)?.state.desired).toEqual({ fw: '3.0', mode: `device-${r.thingName}` });
        expect(emulator.store.get(r.thingName)?.state.reported).toEqual({ fw: '1.0' });
      }
    } finally {
      await coord.close();
    }
  });

  test('a transform returning undefined skips the thing and a null member deletes a key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sf-transform-'));
    const transform = join(dir, 'skip.mjs');
    await writeFile(
      transform,
      `export function transform(shadow, thingName) { return thingName.endsWith('-0') ? undefined : { ...(shadow?.state.desired ?? {}), old: null, fw: 'x' }; }\n`,
    );
    const items = things(3, 'sk');
    await seed(emulator.url, items, () => ({ desired: { old: 1, keep: true } }));
    const coord = new Coordinator({ client: client(emulator.url), workers: 1, rates: 'off' });
    try {
      const stats = await coord.run<RolloutTaskConfig>('rollout', { transform }, stream(items), () => undefined);
      expect(stats.byOutcome).toEqual({ skipped: 1, written: 2 });
      expect(emulator.store.get('sk-1')?.state.desired).toEqual({ keep: true, fw: 'x' });
      expect(emulator.store.get('sk-0')?.state.desired).toEqual({ old: 1, keep: true });
    } finally {
      await coord.close();
    }
  });

  test('an update that would exceed the size limit is caught before sending', async () => {
    const coord = new Coordinator({ client: client(emulator.url), workers: 1, rates: 'off' });
    const before = emulator.stats().operations.UpdateThingShadow.requests;
    try {
      const results: ItemResult[] = [];
      await coord.run<RolloutTaskConfig>(
        'rollout',
        { desired: { blob: 'x'.repeat(9000) } },
        stream(things(2, 'big')),
        (r) => void results.push(r),
      );
      expect(results.map((r) => r.outcome)).toEqual(['too-large', 'too-large']);
      const deep = await coord.run<RolloutTaskConfig>(
        'rollout',
        { desired: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } },
        stream(things(1, 'deep')),
        () => undefined,
      );
      expect(deep.byOutcome).toEqual({ invalid: 1 });
      expect(emulator.stats().operations.UpdateThingShadow.requests).toBe(before);
    } finally {
      await coord.close();
    }
  });

  test('abort halfway drains in-flight batches, and a resume from the journal finishes the rest counting each thing once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sf-resume-'));
    const path = join(dir, 'run.journal');
    const items = things(200, 'rs');
    const spec = { desired: { fw: '9' } };
    const config: RolloutTaskConfig = { desired: spec.desired };

    const first = new Coordinator({
      client: client(emulator.url),
      workers: 2,
      batchSize: 10,
      maxBatchesInFlight: 3,
      rates: 'off',
    });
    const j1 = await Journal.open(path, { kind: 'rollout', spec });
    let seen = 0;
    const s1 = await first.run('rollout', config, stream(items), (r) => {
      j1.append(r);
      if (++seen === 60) first.abort('test abort');
    });
    await j1.close();
    await first.close();
    expect(s1.aborted).toBe(true);
    expect(s1.done).toBe(s1.read); // every batch handed out finished
    expect(s1.done).toBeLessThan(200);

    const completed = await loadCompleted(path);
    expect(completed.size).toBe(s1.done);
    await expect(
      Journal.open(path, { kind: 'rollout', spec: { desired: { fw: '10' } }, resume: true }),
    ).rejects.toThrow('--resume needs the same spec');
    const j2 = await Journal.open(path, { kind: 'rollout', spec, resume: true });
    const second = new Coordinator({ client: client(emulator.url), workers: 2, batchSize: 10, rates: 'off' });
    const s2 = await second.run('rollout', config, stream(items.filter((it) => !completed.has(itemKey(it)))), (r) =>
      j2.append(r),
    );
    await j2.close();
    await second.close();
    expect(s1.done + s2.done).toBe(200);

    const counts = new Map<string, number>();
    await readJournal(path, (r) => counts.set(itemKey(r), (counts.get(itemKey(r)) ?? 0) + 1));
    expect(counts.size).toBe(200);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    for (const it of items) expect(emulator.store.get(it.thingName)?.state.desired).toEqual({ fw: '9' });
  });

  test('an abort while the source is waiting for more targets ends the run instead of hanging', async () => {
    // A source like stdin from a slow producer: some targets, then nothing for a long time.
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    async function* slow(): AsyncGenerator<TargetItem> {
      yield { thingName: 'stall-0' };
      yield { thingName: 'stall-1' };
      await stalled;
      yield { thingName: 'stall-2' };
    }
    const coord = new Coordinator({ client: client(emulator.url), workers: 1, batchSize: 1, rates: 'off' });
    try {
      const results: ItemResult[] = [];
      let abortedAfter: number | undefined;
      const run = coord.run<RolloutTaskConfig>('rollout', { desired: { fw: '3' } }, slow(), (r) => {
        results.push(r);
        if (results.length === 2) {
          abortedAfter = results.length;
          coord.abort('interrupted');
        }
      });
      // The run must settle on its own; the stalled source is released only afterwards.
      const settled = await Promise.race([
        run.then((s) => s),
        new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 45_000).unref()),
      ]);
      expect(settled).not.toBe('hung');
      expect(abortedAfter).toBe(2);
      expect((settled as Awaited<typeof run>).aborted).toBe(true);
      // Two batches may be in flight at once, so they can finish in either order.
      expect(results.map((r) => r.thingName).sort()).toEqual(['stall-0', 'stall-1']);
    } finally {
      release();
      await coord.close();
    }
  });
});

describe('Coordinator with faults and simulated devices', () => {
  test('with 500s, 503s and resets injected and devices reporting at once, every target reaches the goal, no device write is lost and every failure is accounted', async () => {
    const emulator = await startEmulator({
      port: 0,
      quotas: 'off',
      faults: { rate: 0.05, seed: 7 },
      simulateDevices: { delayMs: 5 },
    });
    try {
      const items = things(150, 'flt');
      // Each device has its own reported state, and a pending desired change it is about to report.
      await seed(emulator.url, items, (t) => ({ desired: { fw: '1.0', led: 'on' }, reported: { serial: `s-${t}` } }));
      const coord = new Coordinator({ client: client(emulator.url), workers: 2, batchSize: 10, rates: 'off' });
      const results: ItemResult[] = [];
      try {
        const stats = await coord.run<RolloutTaskConfig>(
          'rollout',
          { desired: { fw: '2.0', cfg: { level: 3 } } },
          stream(items),
          (r) => void results.push(r),
        );
        expect(stats.done).toBe(150);
        expect(new Set(results.map((r) => r.thingName)).size).toBe(150);
        const failed = results.filter((r) => r.outcome === 'failed');
        for (const r of failed) expect(r.error?.code).toMatch(/^SHADOW_ERR_/);
        expect((stats.byOutcome.written ?? 0) + (stats.byOutcome.rebased ?? 0) + failed.length).toBe(150);
        // Faults really happened and were retried.
        expect(emulator.stats().totals.faults).toBeGreaterThan(0);
        // Let the devices answer the last deltas.
        while (emulator.devices!.pendingCount > 0) await new Promise((r) => setTimeout(r, 20));
        for (const r of results) {
          const doc = emulator.store.get(r.thingName)!;
          if (r.outcome !== 'failed') expect(doc.state.desired).toEqual({ fw: '2.0', led: 'on', cfg: { level: 3 } });
          // The device's own writes are all there: its serial, and the values it reported.
          expect(doc.state.reported?.serial).toBe(`s-${r.thingName}`);
          if (r.outcome !== 'failed')
            expect(doc.state.reported).toMatchObject({ fw: '2.0', led: 'on', cfg: { level: 3 } });
        }
        // A second pass fixes any thing that failed and finds the rest unchanged.
        const again = await coord.run<RolloutTaskConfig>(
          'rollout',
          { desired: { fw: '2.0', cfg: { level: 3 } } },
          stream(items),
          () => undefined,
        );
        expect(
          (again.byOutcome.unchanged ?? 0) +
            (again.byOutcome.failed ?? 0) +
            (again.byOutcome.written ?? 0) +
            (again.byOutcome.rebased ?? 0),
        ).toBe(150);
        expect(again.byOutcome.unchanged ?? 0).toBeGreaterThanOrEqual(
          150 - failed.length - (again.byOutcome.failed ?? 0),
        );
      } finally {
        await coord.close();
      }
    } finally {
      await emulator.close();
    }
  });

  test('converge-check reports converged devices, silent devices as not converged with the pending keys, and missing shadows', async () => {
    const emulator = await startEmulator({ port: 0, quotas: 'off', simulateDevices: { delayMs: 1, silentShare: 0.3 } });
    try {
      // (Names ending in a letter: the emulator's stable hash spreads them over the silent share.)
      const items = Array.from({ length: 40 }, (_, i) => ({ thingName: `cv-${i}-dev` }));
      const coord = new Coordinator({ client: client(emulator.url), workers: 1, rates: 'off' });
      try {
        const desired = { fw: '5', cfg: { a: 1 } };
        await coord.run<RolloutTaskConfig>('rollout', { desired }, stream(items), () => undefined);
        while (emulator.devices!.pendingCount > 0) await new Promise((r) => setTimeout(r, 20));
        const results: ItemResult[] = [];
        const stats = await coord.run(
          'converge-check',
          { desired },
          stream([...items, { thingName: 'cv-none' }]),
          (r) => void results.push(r),
        );
        const silent = items.filter((it) => emulator.devices!.isSilent(it.thingName, undefined)).length;
        expect(silent).toBeGreaterThan(0);
        expect(stats.byOutcome).toEqual({ converged: 40 - silent, 'not-converged': silent, 'no-shadow': 1 });
        const pending = results.find((r) => r.outcome === 'not-converged')!;
        expect(pending.detail).toEqual({ pending: ['/fw', '/cfg/a'] });
        const byDelta = await coord.run('converge-check', {}, stream(items), () => undefined);
        expect(byDelta.byOutcome).toEqual({ converged: 40 - silent, 'not-converged': silent });
      } finally {
        await coord.close();
      }
    } finally {
      await emulator.close();
    }
  });

  test('a one-key change to a 2 KB desired document sends under 10% of the whole document', async () => {
    const emulator = await startEmulator({ port: 0, quotas: 'off' });
    try {
      const desired: Record<string, unknown> = {};
      for (let i = 0; JSON.stringify(desired).length < 2048; i++)
        desired[`group${i}`] = { enabled: true, threshold: i, label: `sensor-${i}`, limits: [i, i + 1] };
      await seed(emulator.url, [{ thingName: 'bytes-1' }], () => ({ desired }));
      const coord = new Coordinator({ client: client(emulator.url), workers: 1, rates: 'off' });
      try {
        const results: ItemResult[] = [];
        await coord.run<RolloutTaskConfig>(
          'rollout',
          { desired: { group3: { threshold: 99 } } },
          [{ thingName: 'bytes-1' }],
          (r) => void results.push(r),
        );
        const r = results[0]!;
        expect(r.outcome).toBe('written');
        expect(r.wholeBytes).toBeGreaterThan(2048);
        expect(r.bytesSent / r.wholeBytes!).toBeLessThan(0.1);
        expect((emulator.store.get('bytes-1')!.state.desired!.group3 as Record<string, unknown>).threshold).toBe(99);
      } finally {
        await coord.close();
      }
    } finally {
      await emulator.close();
    }
  });
});

describe('The rollout handler on a shadow that does not exist yet', () => {
  test('a key the change deletes is deleted even when a device creates the shadow with it between our read and our write', async () => {
    const emulator = await startEmulator({ port: 0, quotas: 'off' });
    const device = new IotDataClient({ endpoint: emulator.url });
    let interfered = false;
    // The engine's own client; its gate hook plays the device just before our first write.
    const engine = new IotDataClient({
      endpoint: emulator.url,
      hooks: {
        beforeAttempt: async (op, ref) => {
          if (op !== 'UpdateThingShadow' || interfered) return;
          interfered = true;
          await device.updateThingShadow({
            thingName: ref!.thingName,
            payload: { state: { desired: { legacy: 'on', mode: 'device' } } },
          });
        },
      },
    });
    try {
      const { default: rolloutHandler } = await import('../../workers/handlers/rollout.js');
      const { PortWorkerGate } = await import('../../src/engine/port-worker-gate.js');
      const config: RolloutTaskConfig = { desired: { legacy: null, fw: '2.0' } };
      const [r] = await rolloutHandler([{ thingName: 'born-now' }], {
        config,
        client: engine,
        gate: new PortWorkerGate(),
      });
      expect(interfered).toBe(true);
      expect(r!.outcome).toBe('written');
      // The change says "legacy must go, fw is 2.0"; the device's other key stays.
      expect(emulator.store.get('born-now')?.state.desired).toEqual({ mode: 'device', fw: '2.0' });
    } finally {
      await engine.close();
      await device.close();
      await emulator.close();
    }
  });
});
