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
import type { HandlerContext, ItemResult, RolloutTaskConfig, RolloutTransform, TargetItem } from '../../src/engine/task-types.js';
import { diffToUpdate, mergeState, parseJson, parseUpdateRequest, resolveShadowLimits, stateSize, stringifyJson } from '../../src/shadow/index.js';
import type { JsonObject } from '../../src/shadow/index.js';

const transforms = new Map<string, Promise<RolloutTransform>>();

async function loadTransform(spec: string): Promise<RolloutTransform> {
  const url = spec.startsWith('file:') ? spec : pathToFileURL(spec).href;
  let p = transforms.get(url);
  if (p === undefined) {
    p = import(url).then((mod: Record<string, unknown>) => {
      const fn = (typeof mod['default'] === 'function' ? mod['default'] : mod['transform']) as unknown;
      if (typeof fn !== 'function') throw new InvalidArgumentError(`transform module ${spec} exports no default or "transform" function`);
      return fn as RolloutTransform;
    });
    transforms.set(url, p);
  }
  return p;
}

export default async function rollout(items: TargetItem[], ctx: HandlerContext<RolloutTaskConfig>): Promise<ItemResult[]> {
  const cfg = ctx.config;
  const limits = resolveShadowLimits(cfg.limits, 'config.limits');
  const maxAttempts = cfg.maxAttempts ?? 5;
  const prefix = cfg.clientTokenPrefix ?? 'sf';
  // desiredJson: the merge document as text, so exact numbers survive the thread boundary.
  const desired = cfg.desiredJson !== undefined ? (parseJson(cfg.desiredJson) as JsonObject) : cfg.desired;
  let transform: RolloutTransform | undefined;
  if (cfg.transform !== undefined) transform = await loadTransform(cfg.transform);
  else if (desired === undefined) throw new InvalidArgumentError('rollout config needs "desired" or "transform"');

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
                error: { name: 'InvalidArgumentError', code: 'SHADOW_ERR_INVALID_ARGUMENT', message: `update rejected before sending: ${parsed.fault.message}` },
              };
            }
            const merged = mergeState(current, checked);
            if (stateSize(merged, doc?.state.reported) > limits.maxStateBytes) {
              return {
                outcome: 'too-large',
                error: { name: 'InvalidArgumentError', code: 'SHADOW_ERR_INVALID_ARGUMENT', message: `the desired state would exceed ${limits.maxStateBytes} bytes` },
              };
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
