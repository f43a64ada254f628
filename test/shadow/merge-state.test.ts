import { describe, expect, it } from 'vitest';
import { mergeState } from '../../src/shadow/index.js';

describe('mergeState', () => {
  it('merges objects deeply and leaves untouched keys alone', () => {
    expect(mergeState({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 5 } })).toEqual({ a: 1, b: { c: 5, d: 3 } });
  });

  it('deletes a key set to null and ignores null for a missing key', () => {
    expect(mergeState({ a: 1, b: 2 }, { a: null, z: null })).toEqual({ b: 2 });
  });

  it('drops the whole section when the patch is null', () => {
    expect(mergeState({ a: 1 }, null)).toBeUndefined();
  });

  it('returns undefined when the section ends up with no keys', () => {
    expect(mergeState({ a: 1 }, { a: null })).toBeUndefined();
    expect(mergeState(undefined, {})).toBeUndefined();
  });

  it('replaces arrays whole instead of merging them', () => {
    expect(mergeState({ a: [1, 2, 3] }, { a: [9] })).toEqual({ a: [9] });
  });

  it('keeps empty objects as values and lets them replace a subtree', () => {
    expect(mergeState(undefined, { a: 1, b: { c: 3 }, d: {} })).toEqual({ a: 1, b: { c: 3 }, d: {} });
    expect(mergeState({ b: { c: 3 } }, { b: { c: {} } })).toEqual({ b: { c: {} } });
  });

  it('strips null leaves from a patch that lands on a fresh path', () => {
    expect(mergeState({ a: 1 }, { n: { x: null, y: 2 } })).toEqual({ a: 1, n: { y: 2 } });
  });

  it('replaces a scalar with an object and an object with a scalar', () => {
    expect(mergeState({ a: 1 }, { a: { b: 2 } })).toEqual({ a: { b: 2 } });
    expect(mergeState({ a: { b: 2 } }, { a: 'x' })).toEqual({ a: 'x' });
  });

  it('never mutates its inputs', () => {
    const current = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    mergeState(current, patch);
    expect(current).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });

  it('treats __proto__ as an ordinary key', () => {
    const patch = JSON.parse('{"__proto__":{"polluted":true}}');
    const merged = mergeState({}, patch)!;
    expect(Object.keys(merged)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
