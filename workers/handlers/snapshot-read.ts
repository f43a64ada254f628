/**
 * The worker side of a snapshot: reads the shadows of a batch of things and returns them as
 * JSON lines in `ItemResult.payload`, one result per target. Runs inside the engine's worker
 * threads (this handler), through the thread's gated client.
 *
 * Per thing: GET the classic shadow (a 404 means it has none), then ListNamedShadowsForThing
 * (paginated) and a GET of each named shadow that passes the filter (a 404 there means the
 * shadow was deleted between the list and the read: skipped). A target with a `shadowName`
 * reads that one shadow only.
 *
 * Outcomes: `read` (all shadows read), `no-shadows` (nothing to read), `partial` (some shadows
 * read, some failed: the ones read are in the payload, the failures in `detail.failed`),
 * `failed` (nothing read).
 */
import { isShadowError, toErrorRecord, type ErrorRecord } from '../../src/errors.js';
import type { ShadowRef } from '../../src/client/index.js';
import type { ShadowDocument } from '../../src/shadow/types.js';
import type { HandlerContext, ItemResult, TargetItem, TaskHandler } from '../../src/engine/task-types.js';
import { encodeRecord, type SnapshotRecord } from '../../src/sinks/snapshot-format.js';
import { shadowNameMatcher, type ShadowFilter } from '../../src/shadow/shadow-filter.js';

export interface SnapshotReadConfig {
  filter: ShadowFilter;
  /** Keep each shadow's per-leaf metadata in its record. Default true; false writes `"metadata":{}` (a sync copies state only). */
  metadata?: boolean;
  /** ListNamedShadowsForThing page size (1..100). Default 100. */
  pageSize?: number;
  /** Things read at once in one worker. Default 64. */
  concurrency?: number;
}

/** `detail` of a snapshot-read result. */
export interface SnapshotReadDetail {
  records: number;
  failed?: Array<{ shadow: string | null; error: ErrorRecord }>;
}

function isNotFound(err: unknown): boolean {
  return isShadowError(err) && err.code === 'SHADOW_ERR_NOT_FOUND';
}

export function toSnapshotRecord(thing: string, shadow: string | null, doc: ShadowDocument): SnapshotRecord {
  const state: SnapshotRecord['state'] = {};
  if (doc.state?.desired !== undefined) state.desired = doc.state.desired;
  if (doc.state?.reported !== undefined) state.reported = doc.state.reported;
  const metadata: SnapshotRecord['metadata'] = {};
  if (doc.metadata?.desired !== undefined) metadata.desired = doc.metadata.desired;
  if (doc.metadata?.reported !== undefined) metadata.reported = doc.metadata.reported;
  return { thing, shadow, version: doc.version, state, metadata, timestamp: doc.timestamp };
}

async function readOne(
  item: TargetItem,
  ctx: HandlerContext<SnapshotReadConfig>,
  matches: (n: string) => boolean,
): Promise<ItemResult> {
  const started = performance.now();
  const { client, config, signal } = ctx;
  const o = signal ? { signal } : undefined;
  const thing = item.thingName;
  const lines: string[] = [];
  const failed: Array<{ shadow: string | null; error: ErrorRecord }> = [];
  const refs: ShadowRef[] = [{ thingName: thing }];
  let attempts = 0;

  const get = async (shadow: string | null): Promise<void> => {
    const ref: ShadowRef = shadow === null ? { thingName: thing } : { thingName: thing, shadowName: shadow };
    if (shadow !== null) refs.push(ref);
    attempts += 1;
    try {
      // No such shadow: nothing to record (undefined, no error built).
      const doc = await client.getThingShadowIfExists(ref, o);
      if (doc === undefined) return;
      const record = toSnapshotRecord(thing, shadow, doc);
      if (config.metadata === false) record.metadata = {};
      lines.push(encodeRecord(record));
    } catch (err) {
      failed.push({ shadow, error: toErrorRecord(err) });
    }
  };

  if (item.shadowName !== undefined) {
    await get(item.shadowName);
  } else {
    if (config.filter.classic) await get(null);
    if (config.filter.named) {
      const names: string[] = [];
      try {
        attempts += 1;
        for await (const name of client.paginateNamedShadowsForThing(
          { thingName: thing, pageSize: config.pageSize ?? 100 },
          o,
        )) {
          if (matches(name)) names.push(name);
        }
      } catch (err) {
        // AWS answers 404 to ListNamedShadowsForThing for a thing it does not know: no named
        // shadows (the outcome says so: no-shadows, or read for a classic shadow alone), not a failure.
        if (!isNotFound(err))
          failed.push({ shadow: null, error: { ...toErrorRecord(err), operation: 'ListNamedShadowsForThing' } });
      }
      for (const name of names) await get(name);
    }
  }

  let requests = 0;
  let throttles = 0;
  const seen = new Set<string>();
  for (const ref of refs) {
    const k = ref.shadowName === undefined ? thing : `${thing}/${ref.shadowName}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const u = ctx.gate.takeUsage(ref);
    requests += u.requests;
    throttles += u.throttles;
  }
  const outcome =
    failed.length === 0 ? (lines.length === 0 ? 'no-shadows' : 'read') : lines.length === 0 ? 'failed' : 'partial';
  const detail: SnapshotReadDetail = { records: lines.length };
  if (failed.length > 0) detail.failed = failed;
  const r: ItemResult = {
    thingName: thing,
    outcome,
    attempts,
    requests,
    throttles,
    latencyMs: performance.now() - started,
    bytesSent: 0,
    detail,
  };
  if (item.shadowName !== undefined) r.shadowName = item.shadowName;
  if (lines.length > 0) r.payload = lines.join('');
  if (failed.length > 0) r.error = failed[0]!.error;
  return r;
}

/** The `snapshot-read` task handler: reads a batch of things, `concurrency` at a time. */
export const snapshotReadHandler: TaskHandler<SnapshotReadConfig> = async (items, ctx) => {
  const matches = shadowNameMatcher(ctx.config.filter);
  const results: ItemResult[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await readOne(items[i]!, ctx, matches);
    }
  };
  const lanes = Math.max(1, Math.min(ctx.config.concurrency ?? 64, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
};

export default snapshotReadHandler;
