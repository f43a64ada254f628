/**
 * The 'rollback' handler: undoes one earlier write per item from its undo record (before-image
 * and the update it sent, in `data.undo`). Per thing: read the shadow, restore each changed key
 * that still holds what the write left (previous value, or null for a key that did not exist),
 * leave alone and report (`detail.kept`) each key someone changed since, and write guarded by
 * the version read; a device writing in between causes a re-read and a new plan.
 *
 * Outcomes: `rolled-back` (written), `unchanged` (already at the previous values), `kept`
 * (nothing restorable: every changed key was changed since), `would-write` (dry run), `failed`.
 */
import { InvalidArgumentError } from '../../src/errors.js';
import { forEachConcurrent } from '../../src/engine/for-each-concurrent.js';
import { guardedUpdate, type GuardedStop, type GuardedWrite } from '../../src/engine/guarded-update.js';
import type { HandlerContext, ItemResult, TargetItem } from '../../src/engine/task-types.js';
import { UNDO_DATA_KEY, type RollbackTaskConfig } from '../../src/engine/wave-task-types.js';
import type { UndoRecord } from '../../src/shadow/before-image.js';
import { parseJson } from '../../src/shadow/json-text.js';
import { rollbackUpdate, type KeptKey } from '../../src/shadow/rollback-update.js';

function undoOf(item: TargetItem): UndoRecord {
  const text = item.data?.[UNDO_DATA_KEY];
  if (text === undefined) throw new InvalidArgumentError(`rollback: thing "${item.thingName}" has no undo record`);
  return parseJson(text) as UndoRecord;
}

export default async function rollback(
  items: TargetItem[],
  ctx: HandlerContext<RollbackTaskConfig>,
): Promise<ItemResult[]> {
  const cfg = ctx.config;
  const results: ItemResult[] = new Array(items.length);
  await forEachConcurrent(items, cfg.concurrency ?? 64, async (item, i) => {
    const shadowName = item.shadowName ?? cfg.shadowName;
    let kept: KeptKey[] = [];
    let restored = 0;
    let undo: UndoRecord | undefined;
    const r = await guardedUpdate(ctx, {
      thingName: item.thingName,
      ...(shadowName === undefined ? {} : { shadowName }),
      maxAttempts: cfg.maxAttempts ?? 5,
      clientTokenPrefix: cfg.clientTokenPrefix ?? 'sf-undo',
      dryRun: cfg.dryRun === true,
      includeUpdate: false,
      onExhausted: 'failed',
      prepare: () => {
        undo = undoOf(item);
      },
      plan: (doc): GuardedWrite | GuardedStop | undefined => {
        const plan = rollbackUpdate(undo!.before, undo!.wrote, doc?.state.desired);
        kept = plan.kept;
        restored = plan.restored.length;
        if (plan.update === undefined) return kept.length > 0 ? { outcome: 'kept' } : undefined;
        return { state: { desired: plan.update }, update: plan.update };
      },
    });
    if (r.outcome === 'written' || r.outcome === 'rebased') r.outcome = 'rolled-back';
    if (r.outcome !== 'failed') {
      const detail: Record<string, unknown> = { ...(r.detail as object | undefined), restored };
      // an absent value is left out of the record (`current` missing: someone deleted the key)
      if (kept.length > 0) detail.kept = kept;
      r.detail = detail;
    }
    results[i] = r;
  });
  return results;
}
