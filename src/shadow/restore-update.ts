/**
 * The restore core, pure: the update that turns a live shadow's sections back into a
 * snapshot's (or a sync source's). Only differences are sent (diff.ts): keys the target lacks
 * become null; a section the target lacks or holds empty is removed whole (`null`) when the live
 * shadow has it; nothing to change gives undefined.
 */
import { diffToUpdate } from './diff.js';
import type { JsonObject, ShadowDocument } from './types.js';

/** The update that turns `doc`'s sections back into `target`'s, or undefined when they already match. */
export function restoreUpdate(
  doc: ShadowDocument | undefined,
  target: { desired?: JsonObject; reported?: JsonObject },
  sections: readonly ('desired' | 'reported')[],
): { desired?: JsonObject | null; reported?: JsonObject | null } | undefined {
  const upd: { desired?: JsonObject | null; reported?: JsonObject | null } = {};
  let any = false;
  for (const s of sections) {
    const cur = doc?.state[s];
    const want = target[s];
    if (want === undefined || Object.keys(want).length === 0) {
      if (cur !== undefined && Object.keys(cur).length > 0) {
        upd[s] = null;
        any = true;
      }
      continue;
    }
    const d = diffToUpdate(cur, want);
    if (d !== undefined) {
      upd[s] = d;
      any = true;
    }
  }
  return any ? upd : undefined;
}
