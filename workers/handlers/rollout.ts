/**
 * The 'rollout' handler: per thing, read the shadow, compute the target desired state, diff,
 * and write the minimal update guarded by the version read; on a version conflict re-read and
 * recompute (a device's concurrent write is kept: the next diff starts from it). The loop is
 * src/engine/guarded-update.ts; this handler says how the target and the update are computed.
 */
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, toErrorRecord } from '../../src/errors.js';
import { forEachConcurrent } from '../../src/engine/for-each-concurrent.js';
import { guardedUpdate, type GuardedUpdateOptions } from '../../src/engine/guarded-update.js';
import { intentLogFor } from '../../src/engine/intent-log.js';
import type {
  HandlerContext,
  ItemResult,
  RolloutTaskConfig,
  RolloutTransform,
  TargetItem,
} from '../../src/engine/task-types.js';
import {
  diffToUpdate,
  mergeState,
  parseJson,
  parseUpdateRequest,
  resolveShadowLimits,
  stateSize,
  stringifyJson,
} from '../../src/shadow/index.js';
import type { JsonObject } from '../../src/shadow/index.js';
import { beforeImage } from '../../src/shadow/before-image.js';
import { ShadowCondition } from '../../src/shadow/shadow-condition.js';

const transforms = new Map<string, Promise<RolloutTransform>>();
const conditions = new Map<string, ShadowCondition>();

function conditionOf(source: string): ShadowCondition {
  let c = conditions.get(source);
  if (c === undefined) {
    c = new ShadowCondition(source);
    conditions.set(source, c);
  }
  return c;
}

async function loadTransform(spec: string): Promise<RolloutTransform> {
  const url = spec.startsWith('file:') ? spec : pathToFileURL(spec).href;
  let p = transforms.get(url);
  if (p === undefined) {
    p = import(url).then((mod: Record<string, unknown>) => {
      const fn = (typeof mod.default === 'function' ? mod.default : mod.transform) as unknown;
      if (typeof fn !== 'function')
        throw new InvalidArgumentError(`transform module ${spec} exports no default or "transform" function`);
      return fn as RolloutTransform;
    });
    transforms.set(url, p);
  }
  return p;
}

export default async function rollout(
  items: TargetItem[],
  ctx: HandlerContext<RolloutTaskConfig>,
): Promise<ItemResult[]> {
  const cfg = ctx.config;
  const limits = resolveShadowLimits(cfg.limits, 'config.limits');
  const maxAttempts = cfg.maxAttempts ?? 5;
  const prefix = cfg.clientTokenPrefix ?? 'sf';
  // desiredJson: the merge document as text, so exact numbers survive the thread boundary.
  const desired = cfg.desiredJson !== undefined ? (parseJson(cfg.desiredJson) as JsonObject) : cfg.desired;
  let transform: RolloutTransform | undefined;
  if (cfg.transform !== undefined) transform = await loadTransform(cfg.transform);
  else if (desired === undefined) throw new InvalidArgumentError('rollout config needs "desired" or "transform"');
  // Both conditions are compiled once per thread (the main thread compiled them first, so a
  // syntax error was a usage error before any request) and share one cache.
  const where = cfg.where === undefined ? undefined : conditionOf(cfg.where);
  const waveWhere = cfg.waveWhere === undefined ? undefined : conditionOf(cfg.waveWhere);

  const results: ItemResult[] = new Array(items.length);
  await forEachConcurrent(items, cfg.concurrency ?? 64, async (item, i) => {
    const shadowName = item.shadowName ?? cfg.shadowName;
    const opts: GuardedUpdateOptions = {
      thingName: item.thingName,
      maxAttempts,
      clientTokenPrefix: prefix,
      dryRun: cfg.dryRun === true,
      includeUpdate: cfg.includeUpdate === true,
      onExhausted: 'failed',
      plan: async (doc, r) => {
        // an undo record belongs to the write that is sent: a re-read after a 409 plans afresh
        // (first, so a thing that no longer meets a condition after the re-read carries none)
        if ((r.detail as { undoJson?: unknown } | undefined)?.undoJson !== undefined) {
          const { undoJson: _stale, ...rest } = r.detail as Record<string, unknown>;
          r.detail = rest;
        }
        // the job's condition on the document just read (checked again on the re-read after a 409)
        if (where !== undefined && !where.matches(doc)) return { outcome: 'skipped-condition' };
        // a where-wave takes the things whose shadow meets its condition (re-checked after a 409 re-read)
        if (waveWhere !== undefined && !waveWhere.matches(doc)) return { outcome: 'not-in-wave' };
        const current = doc?.state.desired;
        let target: JsonObject | undefined;
        if (transform !== undefined) {
          target = await transform(doc, item.thingName, item);
          if (target === undefined) return { outcome: 'skipped' };
        } else {
          target = mergeState(current, desired as JsonObject) ?? {};
        }
        let update: JsonObject | undefined;
        try {
          update = diffToUpdate(current, target);
        } catch (err) {
          return { outcome: 'invalid', error: toErrorRecord(err) };
        }
        r.wholeBytes = Buffer.byteLength(stringifyJson(target));
        if (update === undefined) return undefined;
        // No shadow yet: the write goes without a version, so a device may create the shadow in
        // between. The merge document itself (its nulls included: deleting a missing key is a
        // no-op) then gives what a read would have: the device's keys kept, the change applied.
        const checked = doc === undefined && transform === undefined ? (desired as JsonObject) : update;
        return {
          state: { desired: checked },
          update: checked,
          check: (body) => {
            const parsed = parseUpdateRequest(body, limits);
            if (!parsed.ok) {
              return {
                outcome: parsed.fault.status === 413 ? 'too-large' : 'invalid',
                error: {
                  name: 'InvalidArgumentError',
                  code: 'SHADOW_ERR_INVALID_ARGUMENT',
                  message: `update rejected before sending: ${parsed.fault.message}`,
                },
              };
            }
            const merged = mergeState(current, checked);
            if (stateSize(merged, doc?.state.reported) > limits.maxStateBytes) {
              return {
                outcome: 'too-large',
                error: {
                  name: 'InvalidArgumentError',
                  code: 'SHADOW_ERR_INVALID_ARGUMENT',
                  message: `the desired state would exceed ${limits.maxStateBytes} bytes`,
                },
              };
            }
            if (cfg.dryRun !== true) {
              // The undo record goes with the result into the journal; with an intent log it is on
              // disk before the write is sent, so a rollback after a kill -9 knows this write too.
              // As text: the values keep their exact digits across the thread boundary and in the journal.
              const undoJson = stringifyJson({ before: beforeImage(current, checked), wrote: checked });
              r.detail = { ...(r.detail as object | undefined), undoJson };
              if (cfg.intentLog !== undefined)
                intentLogFor(cfg.intentLog).append({ thingName: item.thingName, shadowName }, undoJson);
            }
            return undefined;
          },
        };
      },
    };
    if (shadowName !== undefined) opts.shadowName = shadowName;
    results[i] = await guardedUpdate(ctx, opts);
  });
  return results;
}
