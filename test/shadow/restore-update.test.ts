import { describe, expect, it } from 'vitest';
import { restoreUpdate } from '../../src/shadow/restore-update.js';

describe('restoreUpdate', () => {
  const doc = (desired?: object, reported?: object) =>
    ({
      state: { ...(desired ? { desired } : {}), ...(reported ? { reported } : {}) },
      metadata: {},
      version: 3,
      timestamp: 1,
    }) as never;

  it('returns nothing when the live shadow already matches the snapshot', () => {
    expect(restoreUpdate(doc({ a: 1 }), { desired: { a: 1 } }, ['desired'])).toBeUndefined();
  });

  it('sends only changed keys and nulls keys added since the snapshot', () => {
    expect(restoreUpdate(doc({ a: 2, b: 1, keep: [1] }), { desired: { a: 1, keep: [1] } }, ['desired'])).toEqual({
      desired: { a: 1, b: null },
    });
  });

  it('removes a section the snapshot did not have', () => {
    expect(restoreUpdate(doc({ a: 1 }, { r: 1 }), { reported: { r: 1 } }, ['desired', 'reported'])).toEqual({
      desired: null,
    });
  });

  it('recreates a shadow deleted since the snapshot', () => {
    expect(restoreUpdate(undefined, { desired: { a: 1 } }, ['desired'])).toEqual({ desired: { a: 1 } });
  });
});
