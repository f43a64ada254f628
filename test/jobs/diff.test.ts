import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IotDataClient } from '../../src/client/index.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { LocalSink } from '../../src/sinks/index.js';
import { runDiff, type ShadowChange } from '../../src/jobs/diff/diff.js';
import { diffShadowPaths } from '../../src/jobs/diff/snapshot-diff-paths.js';
import { runSnapshot } from '../../src/jobs/snapshot/snapshot.js';
import { record, writeRecords } from '../sinks/snapshot-fixture.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shadowfleet-diff-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const brief = (c: ShadowChange) => [c.thing, c.shadow, c.change, c.paths.map((p) => `${p.op}:${p.path}`)];

describe('runDiff of two snapshots', () => {
  it('reports added, removed and changed shadows by key path, and a summary', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    await writeRecords(new LocalSink({ dir: a }), [
      record('pump-1', null, { speed: 1, mode: 'eco', list: [1, 2] }, { speed: 1 }),
      record('pump-1', 'config', { log: 'info' }),
      record('pump-2', null, { speed: 2 }),
      record('pump-3', null, { speed: 3 }),
    ]);
    await writeRecords(new LocalSink({ dir: b }), [
      record('pump-3', null, { speed: 3 }, undefined, 9), // same state, new version: unchanged
      record('pump-1', null, { speed: 5, list: [1, 2, 3], extra: { on: true } }, { speed: 1 }),
      record('pump-4', 'ota', { url: 'x' }),
      record('pump-1', 'config', { log: 'info' }),
    ]);
    const seen: ShadowChange[] = [];
    const res = await runDiff({ a, b, onChange: (c) => seen.push(c) });
    expect(res.summary).toEqual({
      shadowsA: 4,
      shadowsB: 4,
      added: 1,
      removed: 1,
      changed: 1,
      unchanged: 2,
      thingsChanged: 3,
      unreadable: 0,
    });
    expect(res.changes.map(brief)).toEqual([
      [
        'pump-1',
        null,
        'changed',
        ['changed:desired.speed', 'removed:desired.mode', 'changed:desired.list', 'added:desired.extra'],
      ],
      ['pump-4', 'ota', 'added', ['added:desired']],
      ['pump-2', null, 'removed', ['removed:desired']],
    ]);
    expect(res.changes[0]).toMatchObject({ versionA: 1, versionB: 1 });
    expect(seen).toEqual(res.changes);
    expect(res.partitioned).toBe(false);
  });

  it('gives the same answer when the snapshots are split into on-disk partitions', async () => {
    const a = join(root, 'big-a');
    const b = join(root, 'big-b');
    const n = 3000;
    await writeRecords(
      new LocalSink({ dir: a }),
      Array.from({ length: n }, (_, i) => record(`t-${i}`, i % 2 ? 'cfg' : null, { i, v: i % 7 })),
    );
    // b: in another order, every 10th changed, the last 100 removed, 50 new.
    const bRecords = Array.from({ length: n - 100 }, (_, i) =>
      record(`t-${i}`, i % 2 ? 'cfg' : null, { i, v: i % 10 === 0 ? -1 : i % 7 }),
    ).reverse();
    for (let i = 0; i < 50; i++) bRecords.push(record(`new-${i}`, null, { i }));
    await writeRecords(new LocalSink({ dir: b }), bRecords);
    const inMemory = await runDiff({ a, b, maxChanges: 0 });
    const partitioned = await runDiff({ a, b, memoryRecords: 500, maxChanges: 0 });
    expect(partitioned.partitioned).toBe(true);
    expect(partitioned.summary).toEqual(inMemory.summary);
    expect(inMemory.summary).toMatchObject({ added: 50, removed: 100, changed: 290, unchanged: n - 100 - 290 });
    expect(inMemory.truncated).toBe(440);
  });

  it('validates its options with messages that name the option', async () => {
    await expect(runDiff({ a: join(root, 'a') })).rejects.toThrow(
      'DiffOptions: give exactly one of b (a second snapshot) and live',
    );
    await expect(runDiff({ a: join(root, 'a'), b: join(root, 'b'), memoryRecords: 0 })).rejects.toThrow(
      'memoryRecords: expected a positive integer, got 0',
    );
  });
});

describe('runDiff against the live fleet', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, quotas: 'off', seedThings: 4 });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('compares a snapshot with the shadows as they are now', async () => {
    const a = join(root, 'live-a');
    await runSnapshot({ endpoint: emu.url, workers: 1, rates: 'off', allThings: true, out: a });
    const client = new IotDataClient({ endpoint: emu.url });
    await client.updateThingShadow({
      thingName: 'device-000002',
      shadowName: 'config',
      payload: { state: { desired: { logLevel: 'debug' } } },
    });
    await client.deleteThingShadow({ thingName: 'device-000003' });
    await client.close();
    const res = await runDiff({ a, live: true, endpoint: emu.url, workers: 1, rates: 'off' });
    expect(res.b).toBe(`live:${emu.url}`);
    expect(res.changes.map((c) => [c.thing, c.shadow, c.change])).toEqual(
      expect.arrayContaining([
        ['device-000002', 'config', 'changed'],
        ['device-000003', null, 'removed'],
      ]),
    );
    expect(res.changes.find((c) => c.change === 'changed')!.paths).toEqual([
      { path: 'desired.logLevel', op: 'changed' },
    ]);
    expect(res.summary.changed + res.summary.removed + res.summary.added).toBe(2);
  });
});

describe('diffShadowPaths', () => {
  it('quotes keys that are not plain identifiers and treats arrays as values', () => {
    expect(diffShadowPaths({ desired: { 'a.b': 1, arr: [1] } }, { desired: { 'a.b': 2, arr: [2] } })).toEqual([
      { path: 'desired["a.b"]', op: 'changed' },
      { path: 'desired.arr', op: 'changed' },
    ]);
  });
});
