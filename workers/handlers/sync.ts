/**
 * The 'sync' handler: per thing, bring the destination's shadows to what the source holds.
 * The item carries the source's shadows of the thing (read from the source data plane or a
 * snapshot by the job, with another client); this thread's client is the destination's.
 *
 * Per source shadow, a `plan` for the guarded-update loop (src/engine/guarded-update.ts): read
 * the destination shadow, compute the sync update of the copied sections (src/shadow/
 * sync-update.ts: only what differs), write it guarded by the version read; a 409 (a device wrote
 * meanwhile) re-reads and recomputes, so the device's write is kept. With `deleteMissing`, the
 * destination's shadows of the thing that the source does not have (within the shadow filter)
 * are deleted; DeleteThingShadow takes no version, so a delete is the one unguarded step.
 * With `deleteMissing` the destination's named shadows are listed first (the list the deletes
 * need anyway): a named shadow the list does not hold is written without reading it first, as
 * the loop writes a shadow whose read found none (no version to guard a missing shadow with).
 *
 * One result per thing: `failed` or `conflict` when a shadow failed, else `would-write` (dry
 * run), `rebased`, `written` (a write or a delete), `unchanged`. Per shadow in `detail.shadows`.
 */
import { toErrorRecord, type ErrorRecord } from '../../src/errors.js';
import type { ShadowRef } from '../../src/client/index.js';
import { updateSerializedShadow } from '../../src/client/iot-data-client.js';
import { forEachConcurrent } from '../../src/engine/for-each-concurrent.js';
import { clientToken, guardedUpdate } from '../../src/engine/guarded-update.js';
import type { ItemOutcome } from '../../src/engine/item-outcome.js';
import type { HandlerContext, ItemResult, TargetItem, TaskHandler } from '../../src/engine/task-types.js';
import { isShadowError } from '../../src/errors.js';
import { documentJson, parseJson, stringifyJson } from '../../src/shadow/json-text.js';
import { shadowNameMatcher, type ShadowFilter } from '../../src/shadow/shadow-filter.js';
import { syncUpdate, type SyncSection, type SyncSource } from '../../src/shadow/sync-update.js';

export interface SyncTaskConfig {
  sections: SyncSection[];
  /** Delete destination shadows (within `filter`) the source does not have. */
  deleteMissing: boolean;
  /** Which shadows are synced (and, with deleteMissing, may be deleted). */
  filter: ShadowFilter;
  /** Read and diff only; outcomes would-write / unchanged. */
  dryRun: boolean;
  /** Read-diff-write attempts per shadow on 409. Default 5. */
  maxAttempts?: number;
  /** Things processed at once per batch. Default 32. */
  concurrency?: number;
  clientTokenPrefix?: string;
}

/** One source shadow of a thing, as the item carries it. */
export interface SyncSourceShadow {
  shadow: string | null;
  version: number;
  state: SyncSource;
}

/**
 * The `data` of a sync target: the source's shadows of the thing as snapshot record lines (the
 * text snapshot-read returns, or a snapshot's lines), parsed here in the worker thread with exact
 * numbers kept; '' when the source has none.
 */
export interface SyncItemData extends Record<string, string> {
  records: string;
}

/** The source shadows of a record-lines text. */
export function parseSourceRecords(text: string): SyncSourceShadow[] {
  const out: SyncSourceShadow[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const r = parseJson(line) as { shadow: string | null; version: number; state: SyncSource };
    out.push({ shadow: r.shadow, version: r.version, state: r.state ?? {} });
  }
  return out;
}

/** Per shadow of a synced thing. */
export interface SyncShadowResult {
  shadow: string | null;
  outcome: ItemOutcome | 'deleted' | 'would-delete';
  error?: ErrorRecord;
}

export interface SyncDetail {
  shadows: SyncShadowResult[];
  /** Shadows written (an update sent). */
  written: number;
  /** Shadows deleted. */
  deleted: number;
}

const RANK: ItemOutcome[] = ['failed', 'conflict', 'would-write', 'rebased', 'written', 'unchanged'];

function worst(outcomes: ReadonlyArray<ItemOutcome>): ItemOutcome {
  for (const o of RANK) if (outcomes.includes(o)) return o;
  return 'unchanged';
}

function isNotFound(err: unknown): boolean {
  return isShadowError(err) && err.code === 'SHADOW_ERR_NOT_FOUND';
}

/** The names of the destination's named shadows of `thing` (every page). */
async function listNamed(thing: string, ctx: HandlerContext<SyncTaskConfig>): Promise<Set<string>> {
  const names = new Set<string>();
  const call = ctx.signal === undefined ? undefined : { signal: ctx.signal };
  for await (const name of ctx.client.paginateNamedShadowsForThing({ thingName: thing, pageSize: 100 }, call))
    names.add(name);
  return names;
}

/** The destination shadows of `thing` the source lacks, within the filter (classic: null), from the listed names. */
function toDelete(
  have: Set<string | null>,
  listed: Set<string> | undefined,
  filter: ShadowFilter,
  matches: (n: string) => boolean,
): Array<string | null> {
  const out: Array<string | null> = [];
  if (filter.classic && !have.has(null)) out.push(null);
  for (const name of listed ?? []) if (matches(name) && !have.has(name)) out.push(name);
  return out;
}

/**
 * Writes a named shadow the destination's list does not hold: the source's sections, with no
 * read first and no version (as the guarded loop writes a shadow its read did not find).
 */
async function writeAbsent(
  thing: string,
  s: SyncSourceShadow & { shadow: string },
  ctx: HandlerContext<SyncTaskConfig>,
): Promise<ItemResult> {
  const started = performance.now();
  const cfg = ctx.config;
  const ref: ShadowRef = { thingName: thing, shadowName: s.shadow };
  const r: ItemResult = {
    thingName: thing,
    shadowName: s.shadow,
    outcome: 'unchanged',
    attempts: 1,
    requests: 0,
    throttles: 0,
    latencyMs: 0,
    bytesSent: 0,
  };
  try {
    const change = syncUpdate(s.state, undefined, cfg.sections, false);
    if (change?.kind === 'update') {
      const payload = { state: change.state, clientToken: clientToken(cfg.clientTokenPrefix ?? 'sf-sync') };
      const body = documentJson(payload, 'update document');
      r.bytesSent = Buffer.byteLength(body);
      if (cfg.dryRun) r.outcome = 'would-write';
      else {
        await updateSerializedShadow(
          ctx.client,
          { ...ref, payload: body },
          ctx.signal === undefined ? undefined : { signal: ctx.signal },
        );
        r.outcome = 'written';
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
  return r;
}

/** Deletes one destination shadow (dry run: says whether it exists); a missing one is unchanged. */
async function deleteOne(
  thing: string,
  shadow: string | null,
  ctx: HandlerContext<SyncTaskConfig>,
): Promise<SyncShadowResult> {
  const ref: ShadowRef = shadow === null ? { thingName: thing } : { thingName: thing, shadowName: shadow };
  try {
    // The classic shadow is deleted without a list saying it exists: a 404 is the common answer.
    const found = ctx.config.dryRun
      ? await ctx.client.getThingShadowIfExists(ref)
      : await ctx.client.deleteThingShadowIfExists(ref);
    if (found === undefined) return { shadow, outcome: 'unchanged' };
    return { shadow, outcome: ctx.config.dryRun ? 'would-delete' : 'deleted' };
  } catch (err) {
    return { shadow, outcome: 'failed', error: toErrorRecord(err) };
  }
}

/** One source shadow through the guarded loop (read, diff, version-guarded write). */
function syncShadow(
  thing: string,
  s: SyncSourceShadow,
  ctx: HandlerContext<SyncTaskConfig>,
  onWhole: (bytes: number) => void,
): Promise<ItemResult> {
  const cfg = ctx.config;
  return guardedUpdate(ctx, {
    thingName: thing,
    ...(s.shadow === null ? {} : { shadowName: s.shadow }),
    maxAttempts: cfg.maxAttempts ?? 5,
    clientTokenPrefix: cfg.clientTokenPrefix ?? 'sf-sync',
    dryRun: cfg.dryRun,
    includeUpdate: false,
    onExhausted: 'conflict',
    prepare: () => onWhole(Buffer.byteLength(stringifyJson(s.state))),
    plan: (doc) => {
      const change = syncUpdate(s.state, doc, cfg.sections, false);
      return change?.kind === 'update' ? { state: change.state, update: change.state } : undefined;
    },
  });
}

/** With deleteMissing: deletes the destination shadows the source lacks (`listed`: its named shadows, listed first). */
async function deleteMissing(
  item: TargetItem,
  source: SyncSourceShadow[],
  listed: { names?: Set<string>; error?: unknown },
  ctx: HandlerContext<SyncTaskConfig>,
  matches: (n: string) => boolean,
  acc: { r: ItemResult; detail: SyncDetail; outcomes: ItemOutcome[] },
): Promise<void> {
  const { r, detail, outcomes } = acc;
  const refs: ShadowRef[] = [{ thingName: item.thingName }];
  const have = new Set(source.map((s) => s.shadow));
  // A failed list (or an interrupt) deletes nothing, the classic shadow included.
  const doomed = listed.error === undefined ? toDelete(have, listed.names, ctx.config.filter, matches) : [];
  for (const shadow of doomed) {
    r.attempts += 1;
    if (shadow !== null) refs.push({ thingName: item.thingName, shadowName: shadow });
    const d = await deleteOne(item.thingName, shadow, ctx);
    detail.shadows.push(d);
    if (d.outcome === 'deleted') detail.deleted += 1;
    outcomes.push(
      d.outcome === 'deleted' ? 'written' : d.outcome === 'would-delete' ? 'would-write' : (d.outcome as ItemOutcome),
    );
    if (d.error !== undefined) r.error ??= d.error;
  }
  if (listed.error !== undefined) {
    outcomes.push('failed');
    r.error ??= { ...toErrorRecord(listed.error), operation: 'ListNamedShadowsForThing' };
  }
  for (const ref of refs) {
    const u = ctx.gate.takeUsage(ref);
    r.requests += u.requests;
    r.throttles += u.throttles;
  }
}

async function syncThing(
  item: TargetItem,
  ctx: HandlerContext<SyncTaskConfig>,
  matches: (n: string) => boolean,
): Promise<ItemResult> {
  const cfg = ctx.config;
  const started = performance.now();
  const r: ItemResult = {
    thingName: item.thingName,
    outcome: 'unchanged',
    attempts: 0,
    requests: 0,
    throttles: 0,
    latencyMs: 0,
    bytesSent: 0,
    wholeBytes: 0,
  };
  const detail: SyncDetail = { shadows: [], written: 0, deleted: 0 };
  const outcomes: ItemOutcome[] = [];
  let source: SyncSourceShadow[];
  try {
    source = parseSourceRecords((item.data as SyncItemData | undefined)?.records ?? '');
  } catch (err) {
    return { ...r, outcome: 'invalid', error: toErrorRecord(err) };
  }
  // The deletes need the destination's named shadows: listed first, the list also says which
  // named shadows are missing there, written without a read. A failed list reads each one.
  const listed: { names?: Set<string>; error?: unknown } = {};
  if (cfg.deleteMissing && cfg.filter.named) {
    r.attempts += 1;
    try {
      listed.names = await listNamed(item.thingName, ctx);
    } catch (err) {
      if (!isNotFound(err)) listed.error = err;
      else listed.names = new Set();
    }
  }
  for (const s of source) {
    let whole = 0;
    const absent = s.shadow !== null && listed.names !== undefined && !listed.names.has(s.shadow);
    const g = absent
      ? await writeAbsent(item.thingName, s as SyncSourceShadow & { shadow: string }, ctx)
      : await syncShadow(item.thingName, s, ctx, (bytes) => {
          whole = bytes;
        });
    if (absent) whole = Buffer.byteLength(stringifyJson(s.state));
    r.attempts += g.attempts;
    r.requests += g.requests;
    r.throttles += g.throttles;
    r.bytesSent += g.bytesSent;
    r.wholeBytes! += whole;
    outcomes.push(g.outcome);
    if (g.outcome === 'written' || g.outcome === 'rebased') detail.written += 1;
    const one: SyncShadowResult = { shadow: s.shadow, outcome: g.outcome };
    if (g.error !== undefined) {
      one.error = g.error;
      r.error ??= g.error;
    }
    detail.shadows.push(one);
  }
  if (cfg.deleteMissing) await deleteMissing(item, source, listed, ctx, matches, { r, detail, outcomes });
  r.outcome = worst(outcomes);
  r.detail = detail;
  r.latencyMs = performance.now() - started;
  return r;
}

export const syncHandler: TaskHandler<SyncTaskConfig> = async (items, ctx) => {
  const matches = shadowNameMatcher(ctx.config.filter);
  const results: ItemResult[] = new Array(items.length);
  await forEachConcurrent(items, ctx.config.concurrency ?? 32, async (item, i) => {
    results[i] = await syncThing(item, ctx, matches);
  });
  return results;
};

export default syncHandler;
