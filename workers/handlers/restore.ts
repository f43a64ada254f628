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
 * loop is src/engine/guarded-update.ts and the update itself src/shadow/restore-update.ts; this
 * module wires the two together.
 */
import { forEachConcurrent } from '../../src/engine/for-each-concurrent.js';
import { guardedUpdate, type GuardedUpdateOptions } from '../../src/engine/guarded-update.js';
import type { HandlerContext, ItemResult, TargetItem, TaskHandler } from '../../src/engine/task-types.js';
import { parseJson, stringifyJson } from '../../src/shadow/json-text.js';
import { restoreUpdate } from '../../src/shadow/restore-update.js';
import type { JsonObject } from '../../src/shadow/types.js';

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
