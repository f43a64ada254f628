import { describe, expect, it } from 'vitest';
import { computeDelta, jsonEqual } from '../../src/shadow/index.js';

describe('computeDelta', () => {
  it('includes keys missing from reported with their whole value', () => {
    expect(computeDelta({ a: 1, b: { c: 2 } }, {})).toEqual({ a: 1, b: { c: 2 } });
  });

  it('recurses into objects and keeps only differing paths with the full path', () => {
    expect(
      computeDelta(
        { color: 'red', cfg: { mode: 'eco', levels: [1, 2] } },
        { color: 'blue', cfg: { mode: 'eco' }, fw: '1.2' },
      ),
    ).toEqual({
      color: 'red',
      cfg: { levels: [1, 2] },
    });
  });

  it('compares arrays as whole values', () => {
    expect(computeDelta({ a: ['value_1'] }, { a: ['value_1', 'value_2'] })).toEqual({ a: ['value_1'] });
    expect(computeDelta({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBeUndefined();
  });

  it('gives the whole desired value on a type mismatch', () => {
    expect(computeDelta({ a: { b: 1 } }, { a: 5 })).toEqual({ a: { b: 1 } });
    expect(computeDelta({ a: 5 }, { a: { b: 1 } })).toEqual({ a: 5 });
  });

  it('never lists keys that exist only in reported', () => {
    expect(computeDelta({ a: 1 }, { a: 1, extra: true })).toBeUndefined();
  });

  it('returns undefined when there is no desired section or nothing differs', () => {
    expect(computeDelta(undefined, { a: 1 })).toBeUndefined();
    expect(computeDelta({ a: { b: 1 } }, { a: { b: 1 } })).toBeUndefined();
  });

  it('returns desired whole when there is no reported section', () => {
    expect(computeDelta({ a: 1 }, undefined)).toEqual({ a: 1 });
  });

  it('compares numbers by value so 1 equals 1.0', () => {
    expect(computeDelta(JSON.parse('{"a":1}'), JSON.parse('{"a":1.0}'))).toBeUndefined();
  });

  it('treats objects with the same keys in another order as equal', () => {
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
  });
});
