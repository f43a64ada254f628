import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runSnapshot } from '../../src/jobs/snapshot/snapshot.js';
import { runSync, SyncSession, type SyncOptions } from '../../src/jobs/sync/sync.js';
import { waitFor } from '../emulator/with-emulator.js';

const THINGS = 1000;

/** 2,000 shadows: a classic shadow on every thing, `config` on the first 600, `ota` on the first 400; desired and reported. */
function seed(emu: Emulator, things = THINGS): void {
  for (let i = 0; i < things; i++) {
    const t = `dev-${String(i).padStart(4, '0')}`;
    emu.store.update(t, undefined, {
      state: {
        desired: { hz: i % 7, mode: i % 2 ? 'eco' : 'full', tags: [i, 'x'] },
        reported: { hz: i % 5, fw: `1.${i % 3}.0` },
      },
    });
    if (i < 600)
      emu.store.update(t, 'config', {
        state: { desired: { level: i, nested: { a: { b: i % 4 } } }, reported: { level: i - 1 } },
      });
    if (i < 400) emu.store.update(t, 'ota', { state: { desired: { target: '2.0.0' } } });
  }
}

/** Every shadow of `from` has the same desired and reported on `to`, and `to` has no other shadow. */
function expectMirrored(from: Emulator, to: Emulator): void {
  const names = from.store.listThings(0, 1_000_000).names;
  let count = 0;
  for (const t of names) {
    for (const shadow of [undefined, ...from.store.namedShadows(t)]) {
      const a = from.store.get(t, shadow);
      if (a === undefined) continue;
      count += 1;
      const b = to.store.get(t, shadow);
      expect(b, `${t}/${shadow ?? 'classic'}`).toBeDefined();
      expect(b!.state.desired, `${t}/${shadow ?? 'classic'}`).toEqual(a.state.desired);
      expect(b!.state.reported, `${t}/${shadow ?? 'classic'}`).toEqual(a.state.reported);
    }
  }
  expect(to.store.shadowCount).toBe(count);
}

const updates = (emu: Emulator): number => emu.stats().operations.UpdateThingShadow.requests;
const deletes = (emu: Emulator): number => emu.stats().operations.DeleteThingShadow.requests;
const gets = (emu: Emulator): number => emu.stats().operations.GetThingShadow.requests;

describe('sync between two data planes', { timeout: 300_000 }, () => {
  let source: Emulator;
  let dest: Emulator;
  let dir: string;
  const opts = (): SyncOptions => ({
    from: { endpoint: source.url, rate: 'off', workers: 1 },
    to: { endpoint: dest.url, rate: 'off', workers: 1 },
  });

  beforeAll(async () => {
    source = await startEmulator({ port: 0, quotas: 'off' });
    dest = await startEmulator({ port: 0, quotas: 'off' });
    dir = await mkdtemp(join(tmpdir(), 'sync-'));
    seed(source);
  });
  afterAll(async () => {
    await Promise.all([source?.close(), dest?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('mirrors 2,000 classic and named shadows to an empty data plane, document for document', async () => {
    const res = await runSync(opts());
    expect(res.failed).toBe(0);
    expect(res.sourceThings).toBe(THINGS);
    expect(res.written).toBe(2000);
    expectMirrored(source, dest);
  });

  it('writes nothing on a second sync of an unchanged source', async () => {
    const before = updates(dest);
    const res = await runSync(opts());
    expect(res.written).toBe(0);
    expect(res.unchanged).toBe(THINGS);
    expect(updates(dest)).toBe(before);
  });

  it('brings changes, a deleted shadow and a deleted thing to the destination within two watch passes, then writes and reads nothing', async () => {
    const session = await SyncSession.open({ ...opts(), delete: true, journal: join(dir, 'watch.journal') });
    try {
      const first = await session.pass();
      expect(first.failed).toBe(0);
      expectMirrored(source, dest);
      source.store.update('dev-0001', undefined, { state: { desired: { hz: 99 } } });
      source.store.update('dev-0002', 'config', { state: { reported: { level: null } } });
      source.store.delete('dev-0003', 'ota');
      source.store.delete('dev-0999', undefined);
      source.store.update('new-thing', 'config', { state: { desired: { fresh: true } } });
      dest.store.update('dest-only', undefined, { state: { desired: { stray: 1 } } });
      const writesBefore = updates(dest);
      const second = await session.pass();
      const third = await session.pass();
      expect(second.failed + third.failed).toBe(0);
      expect(second.written).toBe(3);
      expect(second.deleted).toBe(3);
      expect(updates(dest) - writesBefore).toBe(3);
      expectMirrored(source, dest);
      const readsBefore = gets(dest);
      const fourth = await session.pass();
      expect(fourth).toMatchObject({ sent: 0, written: 0, deleted: 0, skipped: THINGS });
      expect(gets(dest)).toBe(readsBefore);
    } finally {
      await session.close();
    }
  });

  it('resumes from its journal: a new session sends only what moved since', async () => {
    const journal = join(dir, 'resume.journal');
    await runSync({ ...opts(), journal });
    source.store.update('dev-0010', undefined, { state: { desired: { hz: 42 } } });
    const res = await runSync({ ...opts(), journal, resume: true });
    expect(res.sent).toBe(1);
    expect(res.written).toBe(1);
    expect(res.skipped).toBe(res.sourceThings - 1);
    expect(dest.store.get('dev-0010')!.state.desired!.hz).toBe(42);
  });

  it('plans without writing in a dry run', async () => {
    source.store.update('dev-0020', undefined, { state: { desired: { hz: 77 } } });
    const before = updates(dest);
    const res = await runSync({ ...opts(), dryRun: true });
    expect(res.wouldWrite).toBe(1);
    expect(updates(dest)).toBe(before);
    expect(dest.store.get('dev-0020')!.state.desired!.hz).not.toBe(77);
  });

  it('syncs from a snapshot of the source to a third data plane', async () => {
    const third = await startEmulator({ port: 0, quotas: 'off' });
    try {
      const out = join(dir, 'snap');
      await runSnapshot({ endpoint: source.url, out, allThings: true, rates: 'off' });
      const res = await runSync({ from: { snapshot: out }, to: { endpoint: third.url, rate: 'off' } });
      expect(res.failed).toBe(0);
      expectMirrored(source, third);
    } finally {
      await third.close();
    }
  });

  it('stops a pass when interrupted while writing, reporting it, without waiting for the rest of the source', async () => {
    const third = await startEmulator({ port: 0, quotas: 'off' });
    const controller = new AbortController();
    const session = await SyncSession.open({
      from: { endpoint: source.url, rate: 'off', workers: 1 },
      to: { endpoint: third.url, rate: 'off', workers: 1 },
      signal: controller.signal,
    });
    try {
      const pass = session.pass();
      await waitFor(() => updates(third) > 0, 120_000);
      controller.abort();
      const res = await pass;
      expect(res.interrupted).toBe(true);
      expect(res.failed).toBe(0);
      // a write cut short may land without its result coming back: counted writes are a floor
      expect(res.written).toBeLessThanOrEqual(third.store.shadowCount);
    } finally {
      await session.close();
      await third.close();
    }
  });

  it('refuses a source that is the destination, and a selection with a snapshot source, before any request', async () => {
    await expect(runSync({ from: { endpoint: dest.url }, to: { endpoint: dest.url } })).rejects.toThrow(
      `from, to: the source and the destination are the same data plane (${dest.url})`,
    );
    await expect(
      runSync({ from: { snapshot: dir }, to: { endpoint: dest.url }, select: { kind: 'all' } }),
    ).rejects.toThrow('select: a snapshot source syncs the things it holds');
    await expect(runSync({ from: { endpoint: source.url }, to: {} })).rejects.toThrow('to.endpoint: required');
  });
});

describe('sync while a device writes on the destination', { timeout: 300_000 }, () => {
  let source: Emulator;
  let dest: Emulator;
  beforeAll(async () => {
    source = await startEmulator({ port: 0, quotas: 'off' });
    dest = await startEmulator({ port: 0, quotas: 'off' });
  });
  afterAll(async () => {
    await Promise.all([source?.close(), dest?.close()]);
  });

  it('keeps the device write: the sync update conflicts on the version, re-reads and writes again', async () => {
    source.store.update('lamp', undefined, { state: { desired: { brightness: 80, color: 'warm' } } });
    dest.store.update('lamp', undefined, { state: { desired: { brightness: 10 }, reported: { brightness: 10 } } });
    // The device reports right after the sync's read of its shadow is rendered, before the sync writes.
    const render = dest.store.render.bind(dest.store);
    let interleaved = false;
    dest.store.render = (rec) => {
      const text = render(rec);
      if (!interleaved) {
        interleaved = true;
        dest.store.update('lamp', undefined, { state: { reported: { brightness: 12, temp: 41 } } });
      }
      return text;
    };
    const res = await runSync({
      from: { endpoint: source.url, rate: 'off' },
      to: { endpoint: dest.url, rate: 'off' },
      sections: 'desired',
    });
    expect(interleaved).toBe(true);
    expect(res.byOutcome.rebased).toBe(1);
    const doc = dest.store.get('lamp')!;
    expect(doc.state.desired).toEqual({ brightness: 80, color: 'warm' });
    expect(doc.state.reported).toEqual({ brightness: 12, temp: 41 });
    expect(deletes(dest)).toBe(0);
  });
});

describe('sync of a selection with delete', { timeout: 300_000 }, () => {
  let source: Emulator;
  let dest: Emulator;
  beforeAll(async () => {
    source = await startEmulator({ port: 0, quotas: 'off' });
    dest = await startEmulator({ port: 0, quotas: 'off' });
  });
  afterAll(async () => {
    await Promise.all([source?.close(), dest?.close()]);
  });

  it('syncs only the things of a source thing group and never deletes destination things outside it', async () => {
    source.registry.createGroup('site-a', {});
    for (const t of ['a-1', 'a-2', 'b-1']) {
      source.store.update(t, undefined, { state: { desired: { site: t.slice(0, 1) } } });
      source.registry.createThing(t, {});
    }
    source.registry.addThingToGroup('a-1', 'site-a');
    source.registry.addThingToGroup('a-2', 'site-a');
    dest.store.update('a-2', 'stale', { state: { desired: { old: true } } });
    dest.store.update('elsewhere', undefined, { state: { desired: { keep: true } } });
    const res = await runSync({
      from: { endpoint: source.url, rate: 'off', workers: 1 },
      to: { endpoint: dest.url, rate: 'off', workers: 1 },
      select: { kind: 'group', group: 'site-a', recursive: false },
      delete: true,
    });
    expect(res).toMatchObject({ sourceThings: 2, written: 2, deleted: 1, failed: 0 });
    expect(dest.store.get('a-1')!.state.desired).toEqual({ site: 'a' });
    expect(dest.store.get('a-2', 'stale')).toBeUndefined();
    expect(dest.store.get('b-1')).toBeUndefined();
    expect(dest.store.get('elsewhere')!.state.desired).toEqual({ keep: true });
  });
});

describe('sync with delete to an empty data plane', { timeout: 300_000 }, () => {
  let source: Emulator;
  let dest: Emulator;
  beforeAll(async () => {
    source = await startEmulator({ port: 0, quotas: 'off' });
    dest = await startEmulator({ port: 0, quotas: 'off' });
    seed(source, 100);
  });
  afterAll(async () => {
    await Promise.all([source?.close(), dest?.close()]);
  });

  it('lists the named shadows once per thing and writes the missing ones without reading them, then writes nothing', async () => {
    const lists = (): number => dest.stats().operations.ListNamedShadowsForThing.requests;
    dest.store.update('dev-0005', 'stale', { state: { desired: { old: true } } });
    const o: SyncOptions = {
      from: { endpoint: source.url, rate: 'off', workers: 1 },
      to: { endpoint: dest.url, rate: 'off', workers: 1 },
      delete: true,
    };
    const res = await runSync(o);
    expect(res).toMatchObject({ sourceThings: 100, written: 300, deleted: 1, failed: 0 });
    // 100 classic shadows read before their guarded write; the 200 named ones the list did not hold are not read
    expect(gets(dest)).toBe(100);
    expect(lists()).toBe(100);
    expect(updates(dest)).toBe(300);
    expectMirrored(source, dest);
    const again = await runSync(o);
    expect(again).toMatchObject({ written: 0, deleted: 0, unchanged: 100 });
    expect(updates(dest)).toBe(300);
  });
});
