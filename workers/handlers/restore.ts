/**
 * The worker side of a restore (this file, registered in workers/handlers/index.ts): per shadow of the snapshot, read
 * the live shadow, compute the minimal update that turns its `desired` (and `reported` when
 * asked) back into the snapshot's, and write it guarded by the version just read. A 409 means
 * the device wrote meanwhile: re-read and recompute, up to `maxAttempts`. Nothing to change:
 * `unchanged`, no write.
 *
 * A section the snapshot does not have but the live shadow does is removed (`null`), so a
 * restore gives back exactly the snapshot's state for the sections it restores. Shadows that
 * exist live but not in the snapshot are not touched (restore writes, it never deletes shadows).
 *
 * Outcomes: written, rebased (written after conflicts), unchanged, would-write (dry run),
 * failed (error recorded), conflict (still conflicting after maxAttempts). The read-diff-write
 * loop is src/engine/guarded-update.ts; this module says how the restore update is computed.
 */
import { forEachConcurrent } from '../../src/engine/for-each-concurrent.js';
import { guardedUpdate, type GuardedUpdateOptions } from '../../src/engine/guarded-update.js';
import type { HandlerContext, ItemResult, TargetItem, TaskHandler } from '../../src/engine/task-types.js';
import { diffToUpdate } from '../../src/shadow/diff.js';
import { parseJson, stringifyJson } from '../../src/shadow/json-text.js';
import type { JsonObject, ShadowDocument } from '../../src/shadow/types.js';

export interface RestoreTaskConfig {
  /** Restore `reported` too (default: `desired` only). */
  reported: boolean;
  /** Read and diff only; outcomes would-write / unchanged. */
  dryRun: boolean;
  /** Read-diff-write attempts per shadow on 409. Default 5. */
  maxAttempts?: number;
  /** Shadows processed at once per batch. Default 64. */
  concurrency?: number;
  /** clientToken prefix. Default 'sf-restore'. */
  clientTokenPrefix?: string;
  /** Put the update document in `detail.update`. Default false. */
  includeUpdate?: boolean;
}

/** The `data` of a restore target: the snapshot's state as JSON text (stringifyJson: exact numbers kept across threads). */
export interface RestoreItemData extends Record<string, string> {
  state: string;
}

type Section = 'desired' | 'reported';

/** The update that turns `doc`'s sections back into `target`'s, or undefined when they already match. */
export function restoreUpdate(
  doc: ShadowDocument | undefined,
  target: { desired?: JsonObject; reported?: JsonObject },
  sections: readonly Section[],
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

export const restoreHandler: TaskHandler<RestoreTaskConfig> = async (
  items: TargetItem[],
  ctx: HandlerContext<RestoreTaskConfig>,
) => {
  const cfg = ctx.config;
  const sections: Section[] = cfg.reported ? ['desired', 'reported'] : ['desired'];
  const maxAttempts = cfg.maxAttempts ?? 5;
  const prefix = cfg.clientTokenPrefix ?? 'sf-restore';
  const results: ItemResult[] = new Array(items.length);
  await forEachConcurrent(items, cfg.concurrency ?? 64, async (item, i) => {
    let target: { desired?: JsonObject; reported?: JsonObject } = {};
    const opts: GuardedUpdateOptions = {
      thingName: item.thingName,
      maxAttempts,
      clientTokenPrefix: prefix,
      dryRun: cfg.dryRun,
      includeUpdate: cfg.includeUpdate === true,
      onExhausted: 'conflict',
      prepare: (r) => {
        target = parseJson((item.data as RestoreItemData | undefined)?.state ?? '{}') as {
          desired?: JsonObject;
          reported?: JsonObject;
        };
        r.wholeBytes = Buffer.byteLength(stringifyJson(cfg.reported ? target : { desired: target.desired }));
      },
      plan: (doc) => {
        const update = restoreUpdate(doc, target, sections);
        return update === undefined ? undefined : { state: update, update };
      },
    };
    if (item.shadowName !== undefined) opts.shadowName = item.shadowName;
    results[i] = await guardedUpdate(ctx, opts);
  });
  return results;
};

export default restoreHandler;
