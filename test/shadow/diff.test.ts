import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { diffToUpdate } from '../../src/shadow/diff.js';
import { isPlainObject, mergeState } from '../../src/shadow/merge-state.js';
import type { JsonObject, JsonValue } from '../../src/shadow/types.js';
import { InvalidArgumentError } from '../../src/errors.js';

// Few keys, so that random current and target documents overlap a lot; escaped-pointer keys included.
const key = fc.constantFrom('a', 'b', 'c', 'mode', 'a/b', 'x~1y', '~', '/', '', '__proto__', 'levels');
const scalar = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom('on', 'off', ''),
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x)),
);

function dict(value: fc.Arbitrary<JsonValue>, maxKeys = 4): fc.Arbitrary<JsonObject> {
  return fc.array(fc.tuple(key, value), { maxLength: maxKeys }).map((pairs) => {
    const out: JsonObject = {};
    for (const [k, v] of pairs)
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });
}

const { doc } = fc.letrec<{ doc: JsonObject; value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(fc.oneof(scalar, tie('doc')), { maxLength: 3 }),
    tie('doc'),
  ) as fc.Arbitrary<JsonValue>,
  doc: dict(tie('value') as fc.Arbitrary<JsonValue>),
}));

/** A target may use null members (meaning: key absent). */
const { targetDoc } = fc.letrec<{ targetDoc: JsonObject; targetValue: JsonValue }>((tie) => ({
  targetValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.constant(null),
    fc.array(fc.oneof(scalar, doc), { maxLength: 3 }),
    tie('targetDoc'),
  ) as fc.Arbitrary<JsonValue>,
  targetDoc: dict(tie('targetValue') as fc.Arbitrary<JsonValue>),
}));

function stripNullMembers(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(stripNullMembers);
  if (isPlainObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v)) {
      if (v[k] === null) continue;
      Object.defineProperty(out, k, {
        value: stripNullMembers(v[k]!),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}

/** Applies the update as the emulator would; a section with no keys reads as {}. */
function apply(current: JsonObject | undefined, update: JsonObject | undefined): JsonObject {
  if (update === undefined) return current ?? {};
  return mergeState(current, update) ?? {};
}

describe('diffToUpdate', () => {
  test('merging the emitted update into current yields exactly the target, for random documents', () => {
    fc.assert(
      fc.property(fc.option(doc, { nil: undefined }), doc, (current, target) => {
        expect(apply(current, diffToUpdate(current, target))).toStrictEqual(target);
      }),
      { numRuns: 2000 },
    );
  });

  test('a target with null members reaches the target without those keys', () => {
    fc.assert(
      fc.property(fc.option(doc, { nil: undefined }), targetDoc, (current, target) => {
        expect(apply(current, diffToUpdate(current, target))).toStrictEqual(stripNullMembers(target));
      }),
      { numRuns: 1000 },
    );
  });

  test('equal documents produce no update', () => {
    fc.assert(
      fc.property(doc, (current) => {
        expect(diffToUpdate(current, structuredClone(current))).toBeUndefined();
      }),
      { numRuns: 500 },
    );
    expect(diffToUpdate(undefined, {})).toBeUndefined();
    expect(diffToUpdate({}, {})).toBeUndefined();
  });

  test('untouched keys are not sent and removed keys become null', () => {
    const current = { keep: 1, nested: { same: 'x', gone: true, change: 1 }, drop: 'y' };
    const target = { keep: 1, nested: { same: 'x', change: 2 }, add: [1] };
    expect(diffToUpdate(current, target)).toStrictEqual({ nested: { gone: null, change: 2 }, drop: null, add: [1] });
  });

  test('an array that changed in any element is sent whole', () => {
    expect(diffToUpdate({ l: [1, 2, 3], o: 1 }, { l: [1, 5], o: 1 })).toStrictEqual({ l: [1, 5] });
    expect(diffToUpdate({ l: [{ a: 1 }, { b: 2 }] }, { l: [{ a: 1 }, { b: 3 }] })).toStrictEqual({
      l: [{ a: 1 }, { b: 3 }],
    });
    expect(diffToUpdate({ l: [1, 2] }, { l: [1, 2] })).toBeUndefined();
  });

  test('an object replaced by a scalar, and a scalar by an object, are sent as values', () => {
    expect(diffToUpdate({ a: { x: 1 } }, { a: 5 })).toStrictEqual({ a: 5 });
    expect(diffToUpdate({ a: 5 }, { a: { x: 1 } })).toStrictEqual({ a: { x: 1 } });
    expect(diffToUpdate({ a: [1] }, { a: { x: 1 } })).toStrictEqual({ a: { x: 1 } });
    expect(diffToUpdate({ a: { x: 1 } }, { a: [1] })).toStrictEqual({ a: [1] });
  });

  test('empty objects are values: a scalar becomes {} and an emptied object keeps {}', () => {
    expect(diffToUpdate({ a: 1 }, { a: {} })).toStrictEqual({ a: {} });
    expect(diffToUpdate({ a: { x: 1, y: 2 } }, { a: {} })).toStrictEqual({ a: { x: null, y: null } });
    expect(mergeState({ a: { x: 1, y: 2 } }, { a: { x: null, y: null } })).toStrictEqual({ a: {} });
    expect(diffToUpdate({}, { a: {} })).toStrictEqual({ a: {} });
  });

  test('keys with / and ~ are unescaped from the JSON pointers', () => {
    expect(diffToUpdate({ 'a/b': { '~c': 1 } }, { 'a/b': { '~c': 2 } })).toStrictEqual({ 'a/b': { '~c': 2 } });
    expect(diffToUpdate({ '~1': 1 }, {})).toStrictEqual({ '~1': null });
  });

  test('a __proto__ key is an ordinary own key and never touches the prototype', () => {
    const target = JSON.parse('{"__proto__":{"polluted":1}}') as JsonObject;
    const update = diffToUpdate({}, target)!;
    expect(Object.hasOwn(update, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(update)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a null member of the target deletes the key and a null array element is rejected', () => {
    expect(diffToUpdate({ a: 1, b: 2 }, { a: null, b: 2 })).toStrictEqual({ a: null });
    expect(diffToUpdate({ b: 2 }, { a: null, b: 2 })).toBeUndefined();
    expect(() => diffToUpdate({}, { l: [1, null] as JsonValue[] })).toThrow(InvalidArgumentError);
    expect(() => diffToUpdate({}, { l: [1, null] as JsonValue[] })).toThrow('arrays may not contain null (at /l/1)');
  });

  test('removing every key yields nulls for each and an empty section afterwards', () => {
    const update = diffToUpdate({ a: 1, b: { c: 2 } }, {});
    expect(update).toStrictEqual({ a: null, b: null });
    expect(mergeState({ a: 1, b: { c: 2 } }, update!)).toBeUndefined();
  });

  test('inputs are never mutated', () => {
    const current = { a: { x: 1 }, l: [1] };
    const target = { a: { y: null, z: 2 }, l: [2] } as JsonObject;
    const c0 = structuredClone(current);
    const t0 = structuredClone(target);
    diffToUpdate(current, target);
    expect(current).toStrictEqual(c0);
    expect(target).toStrictEqual(t0);
  });
});
