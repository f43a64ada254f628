import { isExactNumber, jsonNumbersEqual } from './json-text.js';
import { isPlainObject, setOwn } from './merge-state.js';
import type { JsonObject, JsonValue } from './types.js';

/**
 * Deep equality of JSON values: numbers compare by value, exact ones too (1 equals 1.0, and an
 * ExactNumber by its text's value, never by its object shape); objects by key regardless of
 * order; undefined equals only undefined.
 */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (isExactNumber(a)) return (typeof b === 'number' || isExactNumber(b)) && jsonNumbersEqual(a, b);
  if (isExactNumber(b)) return typeof a === 'number' && jsonNumbersEqual(a, b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i]!, b[i]!)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !jsonEqual(a[k]!, b[k]!)) return false;
  }
  return true;
}

/**
 * The AWS delta: every path of `desired` whose value differs from `reported`. A key missing
 * in reported gives the whole desired value; two objects recurse (only differing sub-paths,
 * full path kept); arrays, scalars and type mismatches give the whole desired value when not
 * equal; keys only in reported never appear. Returns `undefined` when nothing differs.
 */
export function computeDelta(
  desired: JsonObject | undefined,
  reported: JsonObject | undefined,
): JsonObject | undefined {
  if (desired === undefined) return undefined;
  if (reported === undefined) {
    for (const _ in desired) return desired;
    return undefined;
  }
  return deltaOf(desired, reported);
}

function deltaOf(desired: JsonObject, reported: JsonObject): JsonObject | undefined {
  let out: JsonObject | undefined;
  for (const key of Object.keys(desired)) {
    const dv = desired[key]!;
    let d: JsonValue | undefined;
    if (!Object.hasOwn(reported, key)) {
      d = dv;
    } else {
      const rv = reported[key]!;
      if (isPlainObject(dv) && isPlainObject(rv)) d = deltaOf(dv, rv);
      else if (!jsonEqual(dv, rv)) d = dv;
    }
    if (d !== undefined) {
      out ??= {};
      setOwn(out, key, d);
    }
  }
  return out;
}
