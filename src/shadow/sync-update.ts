/**
 * The sync core, pure: what a destination shadow needs so that the sections being copied equal
 * the source's. Sends only differences (the restore update, restore-update.ts, with diff.ts underneath): keys
 * the source lacks become null, a section the source lacks is removed whole, an unchanged
 * shadow gets nothing. A shadow the source no longer has is deleted when `deleteMissing` is on,
 * else left alone.
 */
import { isExactNumber } from './json-text.js';
import { restoreUpdate } from './restore-update.js';
import type { JsonObject, JsonValue, ShadowDocument } from './types.js';

export type SyncSection = 'desired' | 'reported';

/** The sections of one source shadow (as a snapshot record holds them). */
export interface SyncSource {
  desired?: JsonObject;
  reported?: JsonObject;
}

/** An update to send, the delete of the whole shadow, or nothing. */
export type SyncChange =
  | { kind: 'update'; state: { desired?: JsonObject | null; reported?: JsonObject | null } }
  | { kind: 'delete' }
  | undefined;

/** `desired`, `reported` or `both` as the list of sections. */
export function syncSections(which: 'desired' | 'reported' | 'both'): SyncSection[] {
  return which === 'both' ? ['desired', 'reported'] : [which];
}

/**
 * The change that turns `dest` (undefined: no shadow) into `source` on `sections`
 * (undefined source: the source has no such shadow).
 */
export function syncUpdate(
  source: SyncSource | undefined,
  dest: ShadowDocument | undefined,
  sections: readonly SyncSection[],
  deleteMissing: boolean,
): SyncChange {
  if (source === undefined) return deleteMissing && dest !== undefined ? { kind: 'delete' } : undefined;
  const state = dest === undefined ? wholeUpdate(source, sections) : restoreUpdate(dest, source, sections);
  return state === undefined ? undefined : { kind: 'update', state };
}

/**
 * The update for a destination that has no such shadow: the source's sections as they are.
 * It is what the diff computes against nothing (every key added, same order) without the
 * diff's walk and clones, which a copy to an empty data plane would pay for every shadow; a
 * section holding a null, a non-finite or an exact number takes the diff, which checks them.
 */
function wholeUpdate(source: SyncSource, sections: readonly SyncSection[]): ReturnType<typeof restoreUpdate> {
  const upd: { desired?: JsonObject; reported?: JsonObject } = {};
  let any = false;
  for (const s of sections) {
    const want = source[s];
    if (want === undefined || Object.keys(want).length === 0) continue;
    if (!isPlain(want)) return restoreUpdate(undefined, source, sections);
    upd[s] = want;
    any = true;
  }
  return any ? upd : undefined;
}

/** No null, exact number, non-finite number or non-JSON value anywhere in `v`. */
function isPlain(v: JsonValue): boolean {
  if (v === null) return false;
  if (typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v !== 'object' || isExactNumber(v)) return false;
  if (Array.isArray(v)) {
    for (const el of v) if (!isPlain(el)) return false;
    return true;
  }
  for (const key in v) if (!Object.hasOwn(v, key) || !isPlain(v[key] as JsonValue)) return false;
  return true;
}
