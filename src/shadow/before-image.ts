/**
 * Before-images: what a desired update is about to change, recorded with the write so it can be
 * undone later without a snapshot. One entry per changed key: its path, whether it existed, and
 * its previous value. The entries are the leaves of the update document, except where the update
 * replaces a non-object (or an absent key) with an object: then the whole key is one entry, so
 * an undo deletes or restores it in one piece.
 *
 * `beforeImage(desired, update)` reads the desired section the update was computed from.
 */
import { jsonEqual } from './compute-delta.js';
import { isPlainObject } from './merge-state.js';
import type { JsonObject, JsonValue } from './types.js';

/** One changed key: its path in `desired`, whether it existed, and its value when it did. */
export interface BeforeKey {
  path: string[];
  existed: boolean;
  value?: JsonValue;
}

/** The previous state of the keys one write changed (the desired section). */
export interface BeforeImage {
  keys: BeforeKey[];
}

/** What a write's journal line carries to undo it: its before-image and the desired merge document it sent. */
export interface UndoRecord {
  before: BeforeImage;
  wrote: JsonObject;
}

/**
 * The before-image of sending `update` (a desired merge document) onto `desired` (the section
 * as read; undefined when the shadow or its desired section does not exist). Keys the update
 * leaves as they are (a null on a missing key, an equal value, an empty object merged into an
 * object) are not recorded.
 */
export function beforeImage(desired: JsonObject | undefined, update: JsonObject): BeforeImage {
  const keys: BeforeKey[] = [];
  walk(desired, update, [], keys);
  return { keys };
}

function walk(current: JsonObject | undefined, update: JsonObject, path: string[], out: BeforeKey[]): void {
  for (const key of Object.keys(update)) {
    const next = update[key]!;
    const existed = current !== undefined && Object.hasOwn(current, key);
    const prev = existed ? current[key] : undefined;
    if (isPlainObject(next) && isPlainObject(prev)) {
      walk(prev, next, [...path, key], out);
      continue;
    }
    if (next === null && !existed) continue;
    if (next !== null && existed && !isPlainObject(next) && jsonEqual(prev, next)) continue;
    const entry: BeforeKey = { path: [...path, key], existed };
    if (existed) entry.value = prev as JsonValue;
    out.push(entry);
  }
}
