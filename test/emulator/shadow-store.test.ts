import { describe, expect, it } from 'vitest';
import { ShadowStore } from '../../src/emulator/index.js';

const T = 1_700_000_000_000;

describe('ShadowStore', () => {
  it('applies update documents given as objects, strings or bytes', () => {
    const store = new ShadowStore();
    expect(store.update('a', undefined, { state: { desired: { x: 1 } } }, T).ok).toBe(true);
    expect(store.update('a', undefined, '{"state":{"reported":{"x":1}}}', T).ok).toBe(true);
    expect(store.update('a', 'n', Buffer.from('{"state":{}}'), T).ok).toBe(true);
    expect(store.get('a', undefined, T)).toMatchObject({
      state: { desired: { x: 1 }, reported: { x: 1 } },
      version: 2,
    });
    expect(store.shadowCount).toBe(2);
    expect([...store.shadows()]).toEqual([
      ['a', undefined],
      ['a', 'n'],
    ]);
  });

  it('forgets the version of a shadow deleted longer ago than the tombstone time', () => {
    const store = new ShadowStore({ tombstoneTtlMs: 48 * 3600_000 });
    store.update('t', undefined, { state: { desired: { a: 1 } } }, T);
    expect(store.delete('t', undefined, T)).toBe('{"version":2,"timestamp":1700000000}');
    const within = store.update('t', undefined, { state: {} }, T + 47 * 3600_000);
    expect(within.ok && within.version).toBe(3);
    store.delete('t', undefined, T + 47 * 3600_000);
    const after = store.update('t', undefined, { state: {} }, T + 47 * 3600_000 + 48 * 3600_000 + 1);
    expect(after.ok && after.version).toBe(1);
  });

  it('keeps the rendered-document cache bounded', () => {
    const store = new ShadowStore({ renderCacheSize: 2 });
    for (const n of ['a', 'b', 'c']) store.update(n, undefined, { state: { desired: { n } } }, T);
    for (const n of ['a', 'b', 'c']) store.getJson(n, undefined, T);
    expect(store.record('a', undefined)!.rendered).toBeUndefined();
    expect(store.record('b', undefined)!.rendered).toBeDefined();
    expect(store.record('c', undefined)!.rendered).toBeDefined();
    // A cached rendering is dropped by the next update of its shadow.
    store.update('c', undefined, { state: { desired: { n: 'c2' } } }, T);
    expect(JSON.parse(store.getJson('c', undefined, T)!).state.desired).toEqual({ n: 'c2' });
  });

  it('lists things with live shadows in creation order and pages by position', () => {
    const store = new ShadowStore();
    for (const n of ['x1', 'x2', 'x3', 'x4']) store.update(n, undefined, { state: {} }, T);
    store.delete('x4', undefined, T);
    expect(store.listThings(0, 2)).toEqual({ names: ['x1', 'x2'], next: 2 });
    expect(store.listThings(2, 2)).toEqual({ names: ['x3'], next: undefined });
    expect(store.hasShadows('x4')).toBe(false);
  });

  it('answers undefined for shadows that do not exist', () => {
    const store = new ShadowStore();
    expect(store.get('none')).toBeUndefined();
    expect(store.getJson('none', 'x')).toBeUndefined();
    expect(store.delete('none', undefined)).toBeUndefined();
    expect(store.namedShadows('none')).toEqual([]);
  });
});

describe('ShadowStore caches', () => {
  it('answer exactly what an uncached store answers, however small the caches', () => {
    const cached = new ShadowStore({ renderCacheSize: 2 });
    const plain = new ShadowStore({ renderCacheSize: 0 });
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const thing = `t${rnd(5)}`;
      const section = rnd(2) === 0 ? 'desired' : 'reported';
      const value = rnd(4) === 0 ? null : { a: rnd(3), b: { c: rnd(3), d: rnd(2) === 0 ? null : [rnd(3)] } };
      const doc = rnd(20) === 0 ? '{"state":null}' : JSON.stringify({ state: { [section]: value } });
      const now = T + i * 1000;
      if (rnd(30) === 0) {
        expect(cached.delete(thing, undefined, now)).toBe(plain.delete(thing, undefined, now));
      } else {
        const a = cached.update(thing, undefined, doc, now);
        const b = plain.update(thing, undefined, doc, now);
        expect(a).toEqual(b);
      }
      const probe = `t${rnd(5)}`;
      expect(cached.getJson(probe, undefined, now)).toBe(plain.getJson(probe, undefined, now));
    }
  });
});
