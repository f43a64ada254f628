import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { beforeImage } from '../../src/shadow/before-image.js';
import { rollbackUpdate, valueAt } from '../../src/shadow/rollback-update.js';
import { mergeState, type JsonObject, type JsonValue } from '../../src/shadow/index.js';

const key = fc.constantFrom('a', 'b', 'c', 'fw', '__proto__');
const leaf = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.boolean(),
  fc.constantFrom('x', 'y'),
  fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
);
const { obj } = fc.letrec<{ obj: JsonObject; value: JsonValue }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('obj')) as fc.Arbitrary<JsonValue>,
  obj: fc.dictionary(key, tie('value'), { maxKeys: 4 }) as fc.Arbitrary<JsonObject>,
}));
const patch = fc.dictionary(key, fc.oneof(fc.constant(null), leaf, obj) as fc.Arbitrary<JsonValue>, {
  maxKeys: 4,
}) as fc.Arbitrary<JsonObject>;

const apply = (doc: JsonObject | undefined, update: JsonObject | undefined): JsonObject =>
  (update === undefined ? doc : mergeState(doc, update)) ?? {};

describe('beforeImage', () => {
  it('records the previous value of each changed leaf and whether it existed', () => {
    const image = beforeImage(
      { fw: '1.4.0', telemetry: { rate: 5, unit: 'hz' } },
      { fw: '1.5.0', telemetry: { rate: 10, mode: 'fast' } },
    );
    expect(image.keys).toEqual([
      { path: ['fw'], existed: true, value: '1.4.0' },
      { path: ['telemetry', 'rate'], existed: true, value: 5 },
      { path: ['telemetry', 'mode'], existed: false },
    ]);
  });

  it('records a whole key where an object replaces a missing key or a non-object', () => {
    const image = beforeImage({ mode: 3 }, { mode: { eco: true }, extra: { deep: { x: 1 } } });
    expect(image.keys).toEqual([
      { path: ['mode'], existed: true, value: 3 },
      { path: ['extra'], existed: false },
    ]);
  });

  it('skips keys the update leaves as they are', () => {
    expect(beforeImage({ a: 1, b: { c: 2 } }, { a: 1, z: null, b: {} }).keys).toEqual([]);
  });

  it('records a deleted key with its value, objects included', () => {
    expect(beforeImage({ net: { ssid: 'lab', band: 5 } }, { net: null }).keys).toEqual([
      { path: ['net'], existed: true, value: { ssid: 'lab', band: 5 } },
    ]);
  });

  it('treats a missing desired section as every key new', () => {
    expect(beforeImage(undefined, { fw: '2', t: { r: 1 } }).keys).toEqual([
      { path: ['fw'], existed: false },
      { path: ['t'], existed: false },
    ]);
  });
});

describe('rollbackUpdate', () => {
  it('restores previous values and deletes keys that did not exist with null', () => {
    const before = { fw: '1.4.0', telemetry: { rate: 5 } };
    const wrote = { fw: '1.5.0', telemetry: { rate: 10, mode: 'fast' } };
    const plan = rollbackUpdate(beforeImage(before, wrote), wrote, mergeState(before, wrote));
    expect(plan.update).toEqual({ fw: '1.4.0', telemetry: { rate: 5, mode: null } });
    expect(plan.kept).toEqual([]);
    expect(plan.restored).toHaveLength(3);
  });

  it('keeps and reports a key someone changed after the write, and restores the others', () => {
    const before = { fw: '1.4.0', led: 'off' };
    const wrote = { fw: '1.5.0', led: 'on' };
    const now = { fw: '1.5.1', led: 'on' };
    const plan = rollbackUpdate(beforeImage(before, wrote), wrote, now);
    expect(plan.update).toEqual({ led: 'off' });
    expect(plan.kept).toEqual([{ path: ['fw'], wrote: '1.5.0', current: '1.5.1' }]);
  });

  it('keeps a key someone deleted after the write', () => {
    const wrote = { fw: '1.5.0' };
    const plan = rollbackUpdate(beforeImage({ fw: '1.4.0' }, wrote), wrote, {});
    expect(plan.update).toBeUndefined();
    expect(plan.kept).toEqual([{ path: ['fw'], wrote: '1.5.0', current: undefined }]);
  });

  it('sends nothing when the keys are already back at their previous values', () => {
    const before = { fw: '1.4.0' };
    const wrote = { fw: '1.5.0', extra: 1 };
    const plan = rollbackUpdate(beforeImage(before, wrote), wrote, before);
    expect(plan.update).toBeUndefined();
    expect(plan.unchanged).toEqual([['fw'], ['extra']]);
    expect(plan.kept).toEqual([]);
  });

  it('restores a key named __proto__ as a key, never touching the prototype', () => {
    const before = JSON.parse('{"a":{"__proto__":{}}}') as JsonObject;
    const wrote = JSON.parse('{"a":{"__proto__":{"polluted":"x"}}}') as JsonObject;
    const plan = rollbackUpdate(beforeImage(before, wrote), wrote, mergeState(before, wrote));
    expect(JSON.stringify(plan.update)).toBe('{"a":{"__proto__":{"polluted":null}}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('undoes any write of any update exactly when nobody else wrote', () => {
    fc.assert(
      fc.property(fc.option(obj, { nil: undefined }), patch, (desired, update) => {
        const after = mergeState(desired, update);
        const plan = rollbackUpdate(beforeImage(desired, update), update, after);
        expect(plan.kept).toEqual([]);
        expect(apply(after, plan.update)).toEqual(desired ?? {});
      }),
      { numRuns: 500 },
    );
  });

  it('never changes a key that someone else changed after the write', () => {
    fc.assert(
      fc.property(obj, patch, key, leaf, (desired, update, k, other) => {
        const after = mergeState(desired, update) ?? {};
        const image = beforeImage(desired, update);
        const touched = image.keys.find((e) => e.path.length === 1 && e.path[0] === k);
        const differs = (v: JsonValue | undefined): boolean => JSON.stringify(v) !== JSON.stringify(other);
        // someone else's value: neither what the write left nor what was there before
        fc.pre(touched !== undefined && differs(valueAt(after, [k])) && differs(valueAt(desired, [k])));
        const changed = mergeState(after, { [k]: other } as JsonObject) ?? {};
        const plan = rollbackUpdate(image, update, changed);
        expect(plan.kept.map((x) => x.path)).toContainEqual([k]);
        expect(valueAt(apply(changed, plan.update), [k])).toEqual(other);
      }),
      { numRuns: 300 },
    );
  });
});
