import { describe, expect, it } from 'vitest';
import {
  expandMetadata,
  expandMetadataJson,
  mergeWithMetadata,
  metadataFor,
  metadataForJson,
} from '../../src/shadow/index.js';

describe('metadata', () => {
  it('maps every leaf to a timestamp and arrays element by element', () => {
    expect(metadataFor({ color: 'red', cfg: { levels: [1, 2] } }, 7)).toEqual({
      color: { timestamp: 7 },
      cfg: { levels: [{ timestamp: 7 }, { timestamp: 7 }] },
    });
  });

  it('renders the same tree as JSON text without building objects', () => {
    const v = { a: null, b: [1, { c: 'x' }], d: {} };
    expect(JSON.parse(metadataForJson(v, 9))).toEqual(metadataFor(v, 9));
  });

  it('keeps the old timestamp of leaves an update does not touch', () => {
    const first = mergeWithMetadata(undefined, undefined, { id: 1, cfg: { a: 1, b: 2 } }, 100);
    expect(first.meta).toBe(100);
    const second = mergeWithMetadata(first.value, first.meta, { cfg: { a: 5 } }, 200);
    expect(second.value).toEqual({ id: 1, cfg: { a: 5, b: 2 } });
    expect(expandMetadata(second.value!, second.meta)).toEqual({
      id: { timestamp: 100 },
      cfg: { a: { timestamp: 200 }, b: { timestamp: 100 } },
    });
    expect(JSON.parse(expandMetadataJson(second.value!, second.meta))).toEqual(
      expandMetadata(second.value!, second.meta),
    );
  });

  it('drops the metadata of deleted keys and stamps a replaced array whole', () => {
    const first = mergeWithMetadata(undefined, undefined, { a: 1, arr: [1, 2, 3] }, 100);
    const second = mergeWithMetadata(first.value, first.meta, { a: null, arr: [4] }, 300);
    expect(expandMetadata(second.value!, second.meta)).toEqual({ arr: [{ timestamp: 300 }] });
  });

  it('collapses metadata to one number when every leaf shares a timestamp', () => {
    const first = mergeWithMetadata(undefined, undefined, { a: 1, b: 2 }, 100);
    const second = mergeWithMetadata(first.value, first.meta, { a: 3, b: 4 }, 200);
    expect(second.meta).toBe(200);
  });

  it('handles keys named like Object.prototype members', () => {
    const first = mergeWithMetadata(undefined, undefined, { constructor: 1, toString: { a: 1 } }, 100);
    const second = mergeWithMetadata(first.value, first.meta, { toString: { b: 2 } }, 200);
    expect(expandMetadata(second.value!, second.meta)).toEqual({
      constructor: { timestamp: 100 },
      toString: { a: { timestamp: 100 }, b: { timestamp: 200 } },
    });
  });
});
