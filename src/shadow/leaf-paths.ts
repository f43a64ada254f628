/**
 * The leaves of a merge document as key paths: walking objects, a leaf is anything else (a
 * scalar, an exact number, an array, which shadows replace whole, null, which deletes, or an
 * empty object). `{ a: { b: 1, c: [1] }, d: null }` has the leaves `a.b`, `a.c` and `d`.
 */
import { isPlainObject } from './merge-state.js';
import type { JsonObject, JsonValue } from './types.js';

/** One leaf: its key path and its value. */
export interface Leaf {
  path: string[];
  value: JsonValue;
}

/** Every leaf of `doc`, depth first, in key order. */
export function leafPaths(doc: JsonObject | undefined): Leaf[] {
  const out: Leaf[] = [];
  const walk = (node: JsonObject, prefix: string[]): void => {
    for (const key of Object.keys(node)) {
      const v = node[key]!;
      const path = [...prefix, key];
      if (isPlainObject(v) && Object.keys(v).length > 0) walk(v, path);
      else out.push({ path, value: v });
    }
  };
  if (doc !== undefined) walk(doc, []);
  return out;
}

/** `a.b.c` (a key holding a dot or a bracket is written `["a.b"]`). */
export function formatKeyPath(path: readonly string[]): string {
  let out = '';
  for (const key of path) {
    if (/^[^.[\]"]+$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** The value at `path` in `doc` (own members only), or undefined. */
export function valueAtPath(doc: JsonValue | undefined, path: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = doc;
  for (const key of path) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}
