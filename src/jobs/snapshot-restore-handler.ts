/**
 * The worker side of a restore (workers/handlers/restore.ts): per shadow of the snapshot, read
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
 * failed (error recorded), conflict (still conflicting after maxAttempts).
 */
import { randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { ConflictError, NotFoundError, toErrorRecord } from '../errors.js';
import { forEachConcurrent } from '../engine/for-each-concurrent.js';
import type { HandlerContext, ItemResult, TargetItem, TaskHandler } from '../engine/task-types.js';
import { diffToUpdate } from '../shadow/diff.js';
import type { JsonObject, ShadowDocument, UpdateDocument } from '../shadow/types.js';

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

/** The `data` of a restore target: the snapshot's state as JSON. */
export interface RestoreItemData extends Record<string, string> {
  state: string;
}

const TOKEN_RUN = randomBytes(4).toString('hex');
let tokenCounter = 0;

function clientToken(prefix: string): string {
  tokenCounter += 1;
  return `${prefix.slice(0, 32)}-${TOKEN_RUN}-${threadId}-${tokenCounter}`;
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

export const restoreHandler: TaskHandler<RestoreTaskConfig> = async (items: TargetItem[], ctx: HandlerContext<RestoreTaskConfig>) => {
  const cfg = ctx.config;
  const sections: Section[] = cfg.reported ? ['desired', 'reported'] : ['desired'];
  const maxAttempts = cfg.maxAttempts ?? 5;
  const prefix = cfg.clientTokenPrefix ?? 'sf-restore';
  const results: ItemResult[] = new Array(items.length);
  await forEachConcurrent(items, cfg.concurrency ?? 64, async (item, i) => {
    const started = performance.now();
    const ref = item.shadowName === undefined ? { thingName: item.thingName } : { thingName: item.thingName, shadowName: item.shadowName };
    const r: ItemResult = { thingName: item.thingName, outcome: 'failed', attempts: 0, requests: 0, throttles: 0, latencyMs: 0, bytesSent: 0 };
    if (item.shadowName !== undefined) r.shadowName = item.shadowName;
    let conflicts = 0;
    try {
      const target = JSON.parse((item.data as RestoreItemData | undefined)?.state ?? '{}') as { desired?: JsonObject; reported?: JsonObject };
      r.wholeBytes = Buffer.byteLength(JSON.stringify(cfg.reported ? target : { desired: target.desired }));
      for (;;) {
        r.attempts += 1;
        let doc: ShadowDocument | undefined;
        try {
          doc = await ctx.client.getThingShadow(ref);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
        const update = restoreUpdate(doc, target, sections);
        if (update === undefined) {
          r.outcome = conflicts > 0 ? 'rebased' : 'unchanged';
          break;
        }
        const payload: UpdateDocument = { state: update, clientToken: clientToken(prefix) };
        // A missing shadow has no version to guard with (see the rollout handler).
        if (doc !== undefined) payload.version = doc.version;
        const body = JSON.stringify(payload);
        if (cfg.includeUpdate === true) r.detail = { update };
        if (cfg.dryRun) {
          r.outcome = 'would-write';
          r.bytesSent = Buffer.byteLength(body);
          break;
        }
        try {
          r.bytesSent += Buffer.byteLength(body);
          await ctx.client.updateThingShadowRaw({ ...ref, payload: body });
          r.outcome = conflicts > 0 ? 'rebased' : 'written';
          break;
        } catch (err) {
          if (err instanceof ConflictError) {
            conflicts += 1;
            if (r.attempts < maxAttempts) continue;
            r.outcome = 'conflict';
            r.error = toErrorRecord(err);
            break;
          }
          throw err;
        }
      }
    } catch (err) {
      r.outcome = 'failed';
      r.error = toErrorRecord(err);
    }
    const usage = ctx.gate.takeUsage(ref);
    r.requests = usage.requests;
    r.throttles = usage.throttles;
    r.latencyMs = performance.now() - started;
    if (conflicts > 0) r.detail = { ...(r.detail as object | undefined), conflicts };
    results[i] = r;
  });
  return results;
};
