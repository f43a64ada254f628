import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syncSections, syncUpdate } from '../../src/jobs/sync/sync-update.js';
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
