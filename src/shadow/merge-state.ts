import { isExactNumber } from './json-text.js';
import type { JsonObject, JsonValue } from './types.js';

/** True for `{...}` values (not arrays, not null, not an exact number, which is a leaf). */
export function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isExactNumber(v);
}

/** Sets an own property, also for the key `__proto__` (which plain assignment would not). */
export function setOwn(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Copies an object patch into a fresh value with every `null` leaf removed (a fresh path). */
export function stripNulls(patch: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(patch)) {
    const v = patch[key]!;
    if (v === null) continue;
    setOwn(out, key, isPlainObject(v) ? stripNulls(v) : v);
  }
  return out;
}

/**
 * AWS shadow merge of one section. `patch === null` drops the section. Objects merge deeply;
 * a `null` leaf deletes its key (deleting a missing key is a no-op); arrays and scalars replace
 * whole; empty objects are kept as values. Returns `undefined` when the section ends up with no
 * keys (AWS then omits the section). Inputs are never mutated.
 */
export function mergeState(current: JsonObject | undefined, patch: JsonObject | null): JsonObject | undefined {
  if (patch === null) return undefined;
  const merged = current === undefined ? stripNulls(patch) : mergeObjects(current, patch);
  for (const _ in merged) return merged;
  return undefined;
}

function mergeObjects(current: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...current };
  for (const key of Object.keys(patch)) {
    const pv = patch[key]!;
    if (pv === null) {
      if (Object.hasOwn(out, key)) delete out[key];
      continue;
    }
    if (isPlainObject(pv)) {
      const cv = Object.hasOwn(out, key) ? out[key] : undefined;
      setOwn(out, key, isPlainObject(cv) ? mergeObjects(cv, pv) : stripNulls(pv));
    } else {
      setOwn(out, key, pv);
    }
  }
  return out;
}
