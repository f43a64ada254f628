/**
 * The sync core, pure: what a destination shadow needs so that the sections being copied equal
 * the source's. Sends only differences (the restore diff, src/shadow/diff.ts underneath): keys
 * the source lacks become null, a section the source lacks is removed whole, an unchanged
 * shadow gets nothing. A shadow the source no longer has is deleted when `deleteMissing` is on,
 * else left alone.
 */
import { restoreUpdate } from '../../../workers/handlers/restore.js';
import type { JsonObject, ShadowDocument } from '../../shadow/types.js';

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
  const state = restoreUpdate(dest, source, sections);
  return state === undefined ? undefined : { kind: 'update', state };
}
