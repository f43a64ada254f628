/**
 * Minimal shadow update documents from a JSON-patch diff.
 *
 * `diffToUpdate(current, target)` compares the current section (e.g. `state.desired`) with the
 * target and returns the smallest document that, merged with the shadow merge rules
 * (`mergeState`: null deletes a key, arrays replace whole, objects merge), turns current into
 * target; or `undefined` when nothing changes (no write at all).
 *
 * - keys removed in target become `null`;
 * - an array that changed in any way is sent whole (shadows replace arrays whole);
 * - keys that did not change are not sent.
 *
 * `null` in the target: shadows cannot store null (a null leaf in an update deletes the key), so a
 * null object member in the target means "this key must be absent" and is treated as a delete;
 * a null array element cannot be stored at all and is rejected with InvalidArgumentError. So a
 * transform may return a merge-style document (`{ old: null }`) and get what it means.
 *
 * Numbers compare by value, exact ones (json-text.ts) too: fast-json-patch sees an ExactNumber
 * as an object and reports a change inside it, so the walk below stops at an exact number as it
 * does at an array, and drops the change when both sides are equal by jsonEqual.
 */
import jsonPatch from 'fast-json-patch';
import { InvalidArgumentError } from '../errors.js';
import { jsonEqual } from './compute-delta.js';
import { isExactNumber, isOutOfDoubleRange } from './json-text.js';
import { isPlainObject as isObject } from './merge-state.js';
import type { JsonObject, JsonValue } from './types.js';

const { compare, unescapePathComponent } = jsonPatch;

/** An own member (never an inherited one: a key may be `__proto__`). */
function own(obj: JsonValue | undefined, key: string): JsonValue | undefined {
  return isObject(obj) && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Sets an own member, also for the key `__proto__` (plain assignment would set the prototype). */
function setOwn(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/**
 * Returns `value` without null object members (a null member = "key absent"), copying only
 * the objects that contain one. Throws for null array elements and for values JSON cannot carry
 * or a shadow cannot store (NaN, Infinity, an exact number such as `1e400`).
 */
function withoutNulls(value: JsonValue, path: string): JsonValue {
  if (isExactNumber(value)) {
    if (isOutOfDoubleRange(value))
      throw new InvalidArgumentError(
        `target document: ${path || '/'} is ${value.value}, outside the range of a double; a shadow cannot store it`,
      );
    return value;
  }
  if (Array.isArray(value)) {
    let out: JsonValue[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const el = value[i] as JsonValue;
      if (el === null) throw new InvalidArgumentError(`target document: arrays may not contain null (at ${path}/${i})`);
      const cleaned = withoutNulls(el, `${path}/${i}`);
      if (cleaned !== el) {
        out ??= value.slice();
        out[i] = cleaned;
      }
    }
    return out ?? value;
  }
  if (typeof value === 'object' && value !== null) {
    let out: JsonObject | undefined;
    for (const key of Object.keys(value)) {
      const el = value[key];
      if (el === null) {
        out ??= { ...value };
        delete out[key];
        continue;
      }
      if (el === undefined) throw new InvalidArgumentError(`target document: ${path}/${key} is undefined`);
      const cleaned = withoutNulls(el, `${path}/${key}`);
      if (cleaned !== el) {
        out ??= { ...value };
        setOwn(out, key, cleaned);
      }
    }
    return out ?? value;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new InvalidArgumentError(`target document: ${path || '/'} is not a finite number`);
  }
  if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') {
    throw new InvalidArgumentError(`target document: ${path || '/'} is not a JSON value`);
  }
  return value;
}

/**
 * The update document that turns `current` into `target` under the shadow merge rules, or
 * `undefined` when they are equal. `current` undefined (no shadow, or no section) = `{}`.
 * Throws InvalidArgumentError when the target holds a value a shadow cannot store.
 */
export function diffToUpdate(current: JsonObject | undefined, target: JsonObject): JsonObject | undefined {
  if (!isObject(target)) throw new InvalidArgumentError('target document must be a JSON object');
  const goal = withoutNulls(target, '') as JsonObject;
  const base: JsonObject = current ?? {};
  const ops = compare(base, goal);
  if (ops.length === 0) return undefined;

  const update: JsonObject = {};
  const wholeDone = new Set<string>();
  for (const op of ops) {
    // JSON pointer: '/a/b~1c' -> ['a', 'b/c'].
    const tokens = op.path.split('/');
    tokens.shift();
    for (let i = 0; i < tokens.length; i++) tokens[i] = unescapePathComponent(tokens[i] as string);

    // Walk base and goal together; stop at the first array or exact number: it is sent whole.
    let g: JsonValue | undefined = goal;
    let b: JsonValue | undefined = base;
    let depth = 0;
    for (; depth < tokens.length; depth++) {
      if (Array.isArray(g) || Array.isArray(b) || isExactNumber(g) || isExactNumber(b)) break;
      const key = tokens[depth] as string;
      g = own(g, key);
      b = own(b, key);
    }
    // depth === tokens.length: the op's own path; else the array or exact number at tokens[0..depth).
    const value: JsonValue = depth === tokens.length && op.op === 'remove' ? null : (g as JsonValue);
    if (depth === 0) continue; // the root is an object on both sides; unreachable, kept defensive
    // fast-json-patch compares by identity: an exact number (or an array holding one) may be
    // equal in value, e.g. 12345678901234567891 and 1.2345678901234567891e19. Each array is
    // compared once, however many ops fall inside it.
    if (depth < tokens.length) {
      const prefix = JSON.stringify(tokens.slice(0, depth));
      if (wholeDone.has(prefix)) continue;
      wholeDone.add(prefix);
    }
    if (
      g !== undefined &&
      b !== undefined &&
      (Array.isArray(g) || isExactNumber(g) || isExactNumber(b)) &&
      jsonEqual(g, b)
    )
      continue;

    let node: JsonObject = update;
    let covered = false;
    for (let i = 0; i < depth - 1; i++) {
      const key = tokens[i] as string;
      const next = own(node, key);
      if (next === undefined) {
        const created: JsonObject = {};
        setOwn(node, key, created);
        node = created;
      } else if (isObject(next)) {
        node = next;
      } else {
        covered = true; // an ancestor is already sent whole
        break;
      }
    }
    if (covered) continue;
    const last = tokens[depth - 1] as string;
    if (!Object.hasOwn(node, last)) setOwn(node, last, value);
  }
  for (const _ in update) return update;
  return undefined; // every change was an exact number equal in value
}
