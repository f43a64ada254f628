import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordVersions } from '../../src/jobs/sync/sync-source.js';
import { syncSections, syncUpdate } from '../../src/shadow/sync-update.js';
import { encodeRecord } from '../../src/sinks/snapshot-format.js';
import { LosslessNumber } from '../../src/shadow/json-text.js';
import { SyncWatermark } from '../../src/jobs/sync/sync-watermark.js';
import type { ShadowDocument } from '../../src/shadow/types.js';

const dest = (state: ShadowDocument['state'], version = 4): ShadowDocument => ({
  state,
  metadata: {},
  version,
  timestamp: 1,
});

describe('sync update', () => {
  it('sends only the keys that differ in the copied sections, and removes keys the source lacks', () => {
    const change = syncUpdate(
      { desired: { a: 1, b: { c: 2 } }, reported: { r: 1 } },
      dest({ desired: { a: 1, b: { c: 3 }, gone: true }, reported: { r: 9 } }),
      syncSections('desired'),
      false,
    );
    expect(change).toEqual({ kind: 'update', state: { desired: { b: { c: 2 }, gone: null } } });
  });

  it('copies both sections when asked, removing a section the source does not have', () => {
    expect(
      syncUpdate({ desired: { a: 1 } }, dest({ desired: { a: 1 }, reported: { r: 1 } }), syncSections('both'), false),
    ).toEqual({ kind: 'update', state: { reported: null } });
    expect(syncUpdate({ desired: { a: 1 }, reported: { r: 1 } }, undefined, syncSections('both'), false)).toEqual({
      kind: 'update',
      state: { desired: { a: 1 }, reported: { r: 1 } },
    });
  });

  it('copies a missing shadow whole, and takes the diff (which checks them) for nulls and exact numbers', () => {
    const exact = new LosslessNumber('12345678901234567891');
    expect(
      syncUpdate({ desired: { a: { b: [1, 'x'] } }, reported: {} }, undefined, ['desired', 'reported'], false),
    ).toEqual({ kind: 'update', state: { desired: { a: { b: [1, 'x'] } } } });
    expect(syncUpdate({ desired: { a: null, b: 1 } as never }, undefined, ['desired'], false)).toEqual({
      kind: 'update',
      state: { desired: { b: 1 } },
    });
    expect(syncUpdate({ desired: { n: exact } }, undefined, ['desired'], false)).toEqual({
      kind: 'update',
      state: { desired: { n: exact } },
    });
    expect(syncUpdate({ desired: {} }, undefined, ['desired'], false)).toBeUndefined();
  });

  it('reads the shadow names and versions of record lines from their heads', () => {
    const line = (thing: string, shadow: string | null, version: number, desired: object) =>
      encodeRecord({ thing, shadow, version, state: { desired } as never, metadata: {}, timestamp: 1 });
    const text = line('t,"state":1', null, 3, { ',"state":': 1 }) + line('t', 'cfg', 12, {});
    expect(recordVersions(text)).toEqual([
      { shadow: null, version: 3 },
      { shadow: 'cfg', version: 12 },
    ]);
    expect(recordVersions('{"shadow":"x","version":2}\n')).toEqual([{ shadow: 'x', version: 2 }]);
    expect(recordVersions('')).toEqual([]);
  });

  it('writes nothing for an equal shadow', () => {
    expect(
      syncUpdate(
        { desired: { a: [1, 2] }, reported: { r: 1 } },
        dest({ desired: { a: [1, 2] }, reported: { r: 1 } }),
        syncSections('both'),
        true,
      ),
    ).toBeUndefined();
  });

  it('deletes a destination shadow the source no longer has only with deleteMissing', () => {
    expect(syncUpdate(undefined, dest({ desired: { a: 1 } }), ['desired'], true)).toEqual({ kind: 'delete' });
    expect(syncUpdate(undefined, dest({ desired: { a: 1 } }), ['desired'], false)).toBeUndefined();
    expect(syncUpdate(undefined, undefined, ['desired'], true)).toBeUndefined();
  });
});

describe('sync watermark', () => {
  it('sends a thing when a shadow is new, moved or gone, and not when every version is where it was', () => {
    const w = new SyncWatermark();
    w.beginPass();
    expect(w.observe('t1', [{ shadow: null, version: 1 }])).toBe(true);
    w.record('t1', [
      { shadow: null, version: 1 },
      { shadow: 'cfg', version: 2 },
    ]);
    expect(
      w.observe('t1', [
        { shadow: null, version: 1 },
        { shadow: 'cfg', version: 2 },
      ]),
    ).toBe(false);
    expect(
      w.observe('t1', [
        { shadow: null, version: 1 },
        { shadow: 'cfg', version: 3 },
      ]),
    ).toBe(true);
    expect(w.observe('t1', [{ shadow: null, version: 1 }])).toBe(true);
    expect(
      w.observe('t1', [
        { shadow: null, version: 1 },
        { shadow: 'other', version: 2 },
      ]),
    ).toBe(true);
  });

  it('lists the things held but not seen in a pass as gone from the source', () => {
    const w = new SyncWatermark();
    w.record('a', [{ shadow: null, version: 1 }]);
    w.record('b', [{ shadow: null, version: 1 }]);
    w.beginPass();
    w.observe('a', [{ shadow: null, version: 1 }]);
    expect(w.missingThings()).toEqual(['b']);
    w.forget('b');
    expect(w.missingThings()).toEqual([]);
  });

  it('survives a save and a load, and refuses a file that is not a watermark', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'watermark-'));
    const w = new SyncWatermark();
    w.record('a', [
      { shadow: null, version: 7 },
      { shadow: 'n', version: 2 },
    ]);
    await w.save(join(dir, 'w.json'));
    const back = await SyncWatermark.load(join(dir, 'w.json'));
    expect(
      back.observe('a', [
        { shadow: null, version: 7 },
        { shadow: 'n', version: 2 },
      ]),
    ).toBe(false);
    expect(back.size).toBe(2);
    expect((await SyncWatermark.load(join(dir, 'missing.json'))).size).toBe(0);
    await writeFile(join(dir, 'bad.json'), '{"x":1}');
    await expect(SyncWatermark.load(join(dir, 'bad.json'))).rejects.toThrow(
      `${join(dir, 'bad.json')}: not a sync watermark (format shadowfleet-sync-watermark expected)`,
    );
  });
});
