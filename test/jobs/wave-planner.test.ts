import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { TargetItem } from '../../src/engine/task-types.js';
import { readNameFile, WavePlanner, waveShare, type WaveItem } from '../../src/jobs/rollout/waves/wave-planner.js';
import type { WaveSpec } from '../../src/jobs/rollout/waves/wave-spec.js';

const names = (n: number, prefix = 'dev'): TargetItem[] =>
  Array.from({ length: n }, (_, i) => ({ thingName: `${prefix}-${String(i).padStart(6, '0')}` }));
const gate = { converged: 0.9, withinMs: 30_000 };
const CANARY: WaveSpec[] = [{ share: 0.05, gate }, { share: 0.3, gate }, { share: 1 }];

async function collect(gen: AsyncGenerator<WaveItem>): Promise<WaveItem[]> {
  const out: WaveItem[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

/** Every wave's items, one pass per wave, as the runner does. */
async function passes(planner: WavePlanner, items: TargetItem[]): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < planner.count; i++)
    out.push((await collect(planner.select(items, i))).map((x) => x.item.thingName));
  return out;
}

describe('wave planner', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sf-waves-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('maps names to a share in [0, 1) spread evenly, independent of similar names', () => {
    const buckets = new Array(10).fill(0);
    let outside = 0;
    for (const { thingName } of names(20_000)) {
      const s = waveShare(thingName);
      if (!(s >= 0 && s < 1)) outside += 1;
      else buckets[Math.floor(s * 10)] += 1;
    }
    expect(outside).toBe(0);
    for (const b of buckets) expect(Math.abs(b - 2000)).toBeLessThan(200);
  });

  it('splits the targets by cumulative shares: 5% then 30% puts the next 25% in the second wave', async () => {
    const items = names(20_000);
    const sizes = (await passes(new WavePlanner(CANARY), items)).map((w) => w.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(20_000);
    expect(Math.abs(sizes[0]! - 1000)).toBeLessThan(150);
    expect(Math.abs(sizes[1]! - 5000)).toBeLessThan(300);
    expect(Math.abs(sizes[2]! - 14_000)).toBeLessThan(300);
    expect(await new WavePlanner(CANARY).sizes(items)).toEqual(sizes);
  });

  it('puts every target in exactly one wave', async () => {
    const items = names(3000);
    const waves = await passes(new WavePlanner(CANARY), items);
    const all = waves.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(items.map((x) => x.thingName).sort());
  });

  it('picks the same canaries on a rerun, and on a rerun over a grown list', async () => {
    const first = await passes(new WavePlanner(CANARY), names(2000));
    const again = await passes(new WavePlanner(CANARY), names(2000));
    expect(again).toEqual(first);
    const grown = await passes(new WavePlanner(CANARY), [...names(2000), ...names(500, 'new')]);
    const old = new Set(names(2000).map((x) => x.thingName));
    expect(grown.map((w) => w.filter((n) => old.has(n)))).toEqual(first);
  });

  it('puts all shadows of a thing in the same wave', async () => {
    const items: TargetItem[] = names(400).flatMap((x) => [x, { thingName: x.thingName, shadowName: 'config' }]);
    const waves = await passes(new WavePlanner(CANARY), items);
    for (const w of waves) for (const n of w) expect(w.filter((m) => m === n)).toHaveLength(2);
  });

  it('gives a gated canary of a small fleet the thing with the lowest hash, the same on a rerun, once', async () => {
    const items = names(8);
    const lowest = [...items].sort((a, b) => waveShare(a.thingName) - waveShare(b.thingName))[0]!.thingName;
    const waves: WaveSpec[] = [{ share: 0.001, gate }, { share: 1 }];
    const first = await passes(new WavePlanner(waves), items);
    expect(first[0]).toEqual([lowest]);
    expect(first[1]).toHaveLength(7);
    expect(first[1]).not.toContain(lowest);
    expect(await passes(new WavePlanner(waves), items)).toEqual(first);
    expect(await new WavePlanner(waves).sizes(items)).toEqual([1, 7]);
  });

  it('leaves an ungated empty share wave empty', async () => {
    const waves = await passes(new WavePlanner([{ share: 0.001 }, { share: 1 }]), names(8));
    expect(waves.map((w) => w.length)).toEqual([0, 8]);
  });

  it('takes the things of a name file first and leaves them out of the share waves', async () => {
    const file = join(dir, 'canaries.txt');
    await writeFile(file, '# lab devices\ndev-000007\n\n  dev-000042  \nnot-a-target\n');
    const planner = await WavePlanner.load([{ things: file, gate }, { share: 0.5 }, { share: 1 }]);
    const waves = await passes(planner, names(100));
    expect(waves[0]).toEqual(['dev-000007', 'dev-000042']);
    expect(waves[1]).not.toContain('dev-000007');
    expect(waves[2]).not.toContain('dev-000042');
    expect(waves.flat()).toHaveLength(100);
  });

  it('hands the later targets of a where-wave to the worker with the condition', async () => {
    const planner = new WavePlanner([{ share: 0.1 }, { where: 'reported.site == "lab"' }, { share: 1 }]);
    const items = names(200);
    const wave1 = await collect(planner.select(items, 1));
    const early = new Set((await collect(planner.select(items, 0))).map((x) => x.item.thingName));
    expect(wave1.length).toBe(200 - early.size);
    for (const x of wave1) {
      expect(x.condition).toBe('reported.site == "lab"');
      expect(early.has(x.item.thingName)).toBe(false);
    }
  });

  it('streams: the first member comes out before the stream of targets ends', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<TargetItem> {
      for (const item of names(100_000)) {
        pulled += 1;
        yield item;
      }
    }
    const gen = new WavePlanner(CANARY).select(source(), 2);
    const first = await gen.next();
    expect(first.done).toBe(false);
    expect(pulled).toBeLessThan(100);
    await gen.return(undefined);
  });

  it('names the file it cannot read', async () => {
    const missing = join(dir, 'nope.txt');
    await expect(readNameFile(missing)).rejects.toThrow(ConfigError);
    await expect(readNameFile(missing)).rejects.toThrow(`${missing}: cannot read the wave's thing names (ENOENT)`);
  });
});
