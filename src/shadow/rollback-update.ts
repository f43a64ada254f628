/**
 * Undoing a write from its before-image: per changed key, compare the current desired value
 * with what the write left there.
 *
 * - still what the write left: restore it (the previous value, or null to delete a key that did
 *   not exist before);
 * - already back at the previous value (the write never landed, or was undone): nothing to do;
 * - anything else: someone changed the key after the write; it is kept, never overwritten, and
 *   reported.
 *
 * The result is a desired merge document; the caller sends it guarded by the version it read
 * `desired` from, so a device writing in between causes a re-read and a new decision.
 */
import { jsonEqual } from './compute-delta.js';
import { isPlainObject, setOwn, stripNulls } from './merge-state.js';
import type { BeforeImage, BeforeKey } from './before-image.js';
import type { JsonObject, JsonValue } from './types.js';

/** A key the rollback leaves alone: someone changed it after the write. `undefined` = absent. */
export interface KeptKey {
  path: string[];
  /** What the write left at the key. */
  wrote: JsonValue | undefined;
  /** What is there now. */
  current: JsonValue | undefined;
}

export interface RollbackPlan {
  /** The desired merge document that restores the keys; undefined when nothing is to be sent. */
  update: JsonObject | undefined;
  /** Keys the update restores. */
  restored: string[][];
  /** Keys already at their previous value. */
  unchanged: string[][];
  /** Keys changed by someone else since the write: left alone. */
  kept: KeptKey[];
}

/** The value at `path` of a JSON object, or undefined when a step is missing or not an object. */
export function valueAt(doc: JsonObject | undefined, path: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = doc;
  for (const key of path) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/**
 * What a write of `wrote` left at a key of its before-image: an object merged where there was
 * none is stored without its nulls; a null is a deletion (absent).
 */
function leftByWrite(wrote: JsonObject, key: BeforeKey): JsonValue | undefined {
  const sent = valueAt(wrote, key.path);
  if (sent === null) return undefined;
  return isPlainObject(sent) ? stripNulls(sent) : sent;
}

function setAt(doc: JsonObject, path: readonly string[], value: JsonValue): void {
  let node = doc;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    // own properties only: `__proto__` is a valid shadow key, never the prototype
    let child = Object.hasOwn(node, key) ? node[key] : undefined;
    if (!isPlainObject(child)) {
      child = {};
      setOwn(node, key, child);
    }
    node = child;
  }
  setOwn(node, path[path.length - 1]!, value);
}

/**
 * Plans the undo of one write. `before` is the write's before-image, `wrote` the desired merge
 * document it sent, `current` the desired section as read now (undefined when absent).
 */
export function rollbackUpdate(before: BeforeImage, wrote: JsonObject, current: JsonObject | undefined): RollbackPlan {
  const update: JsonObject = {};
  const plan: RollbackPlan = { update: undefined, restored: [], unchanged: [], kept: [] };
  for (const key of before.keys) {
    const now = valueAt(current, key.path);
    const previous = key.existed ? key.value : undefined;
    const left = leftByWrite(wrote, key);
    if (jsonEqual(now, left) && !jsonEqual(now, previous)) {
      setAt(update, key.path, key.existed ? (key.value as JsonValue) : null);
      plan.restored.push(key.path);
    } else if (jsonEqual(now, previous)) {
      plan.unchanged.push(key.path);
    } else {
      plan.kept.push({ path: key.path, wrote: left, current: now });
    }
  }
  if (plan.restored.length > 0) plan.update = update;
  return plan;
}
