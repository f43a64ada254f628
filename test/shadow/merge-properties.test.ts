import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeDelta,
  expandMetadata,
  mergeState,
  mergeWithMetadata,
  metadataFor,
  type JsonObject,
  type JsonValue,
} from '../../src/shadow/index.js';

const key = fc.constantFrom('a', 'b', 'c', 'd', 'constructor');
const leaf = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.boolean(),
  fc.constantFrom('x', 'y'),
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
);
const { obj } = fc.letrec<{ obj: JsonObject; value: JsonValue }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('obj')) as fc.Arbitrary<JsonValue>,
  obj: fc.dictionary(key, tie('value'), { maxKeys: 4 }) as fc.Arbitrary<JsonObject>,
}));
const patchValue: fc.Arbitrary<JsonValue> = fc.oneof(fc.constant(null), leaf, obj);
const patch = fc.dictionary(key, patchValue, { maxKeys: 4 }) as fc.Arbitrary<JsonObject>;

describe('shadow model properties', () => {
  it('merges the same way with and without metadata tracking', () => {
    fc.assert(
      fc.property(fc.option(obj, { nil: undefined }), patch, (current, p) => {
        const base = current === undefined ? undefined : mergeState(undefined, current);
        const meta = base === undefined ? undefined : 100;
        expect(mergeWithMetadata(base, meta, p, 200).value).toEqual(mergeState(base, p));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps metadata shaped exactly like the merged state', () => {
    fc.assert(
      fc.property(obj, patch, patch, (first, p1, p2) => {
        const a = mergeWithMetadata(undefined, undefined, first, 100);
        const b = a.value === undefined ? a : mergeWithMetadata(a.value, a.meta, p1, 200);
        const c = b.value === undefined ? b : mergeWithMetadata(b.value, b.meta, p2, 300);
        if (c.value === undefined) return;
        const expanded = expandMetadata(c.value, c.meta);
        const shape = (v: JsonValue): JsonValue => JSON.parse(JSON.stringify(metadataFor(v, 0)));
        expect(JSON.parse(JSON.stringify(expanded).replace(/"timestamp":\d+/g, '"timestamp":0'))).toEqual(
          shape(c.value),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('leaves no delta once reported takes the delta', () => {
    fc.assert(
      fc.property(obj, obj, (desired, reported) => {
        const d = mergeState(undefined, desired);
        const r = mergeState(undefined, reported);
        const delta = computeDelta(d, r);
        if (delta === undefined) return;
        expect(computeDelta(d, mergeState(r, delta))).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});

describe('metadataForJsonText', () => {
  it('renders the same metadata from JSON text as from the value', async () => {
    const { metadataForJson, metadataForJsonText } = await import('../../src/shadow/index.js');
    const anyJson = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as JsonValue);
    fc.assert(
      fc.property(anyJson, (v) => {
        expect(metadataForJsonText(JSON.stringify(v), 5)).toBe(metadataForJson(v, 5));
      }),
      { numRuns: 500 },
    );
    expect(metadataForJsonText('{"a\\"b":"x\\\\","c":[1,"]",{"d":null}],"e":{}}', 1)).toBe(
      '{"a\\"b":{"timestamp":1},"c":[{"timestamp":1},{"timestamp":1},{"d":{"timestamp":1}}],"e":{}}',
    );
  });
});
