/**
 * The 'rollout' handler: per thing, read the shadow, compute the target desired state, diff,
 * and write the minimal update guarded by the version read; on a version conflict re-read and
 * recompute (a device's concurrent write is kept: the next diff starts from it).
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { threadId } from 'node:worker_threads';
import { ConflictError, InvalidArgumentError, NotFoundError, isShadowError, toErrorRecord } from '../../src/errors.js';
import { forEachConcurrent } from '../../src/engine/for-each-concurrent.js';
import type { HandlerContext, ItemResult, RolloutTaskConfig, RolloutTransform, TargetItem } from '../../src/engine/task-types.js';
import { diffToUpdate, mergeState, parseUpdateRequest, resolveShadowLimits, stateSize } from '../../src/shadow/index.js';
import type { JsonObject, ShadowDocument, UpdateDocument } from '../../src/shadow/index.js';

const transforms = new Map<string, Promise<RolloutTransform>>();
const TOKEN_RUN = randomBytes(4).toString('hex');
let tokenCounter = 0;

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

function clientToken(prefix: string): string {
  tokenCounter += 1;
  return `${prefix.slice(0, 32)}-${TOKEN_RUN}-${threadId}-${tokenCounter}`;
}

export default async function rollout(items: TargetItem[], ctx: HandlerContext<RolloutTaskConfig>): Promise<ItemResult[]> {
  const cfg = ctx.config;
  const limits = resolveShadowLimits(cfg.limits, 'config.limits');
  const maxAttempts = cfg.maxAttempts ?? 5;
  const prefix = cfg.clientTokenPrefix ?? 'sf';
  let transform: RolloutTransform | undefined;
  if (cfg.transform !== undefined) transform = await loadTransform(cfg.transform);
  else if (cfg.desired === undefined) throw new InvalidArgumentError('rollout config needs "desired" or "transform"');

  const results: ItemResult[] = new Array(items.length);
  await forEachConcurrent(items, cfg.concurrency ?? 64, async (item, i) => {
    const started = performance.now();
    const shadowName = item.shadowName ?? cfg.shadowName;
    const ref = shadowName === undefined ? { thingName: item.thingName } : { thingName: item.thingName, shadowName };
    const r: ItemResult = { thingName: item.thingName, outcome: 'failed', attempts: 0, requests: 0, throttles: 0, latencyMs: 0, bytesSent: 0 };
    if (shadowName !== undefined) r.shadowName = shadowName;
    let conflicts = 0;
    try {
      for (;;) {
        r.attempts += 1;
        let doc: ShadowDocument | undefined;
        try {
          doc = await ctx.client.getThingShadow(ref);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
        const current = doc?.state.desired;
        let target: JsonObject | undefined;
        if (transform !== undefined) {
          target = await transform(doc, item.thingName, item);
          if (target === undefined) {
            r.outcome = 'skipped';
            break;
          }
        } else {
          target = mergeState(current, cfg.desired as JsonObject) ?? {};
        }
        let update: JsonObject | undefined;
        try {
          update = diffToUpdate(current, target);
        } catch (err) {
          r.outcome = 'invalid';
          r.error = toErrorRecord(err);
          break;
        }
        r.wholeBytes = Buffer.byteLength(JSON.stringify(target));
        if (update === undefined) {
          r.outcome = conflicts > 0 ? 'rebased' : 'unchanged';
          break;
        }
        // No shadow yet: no version to guard with (a version on a missing shadow is UNCONFIRMED in
        // the cloud); the merge only touches the desired keys sent, so a device's reported is safe.
        const payload: UpdateDocument = { state: { desired: update }, clientToken: clientToken(prefix) };
        if (doc !== undefined) payload.version = doc.version;
        const body = JSON.stringify(payload);
        if (cfg.includeUpdate === true) r.detail = { update };
        const parsed = parseUpdateRequest(body, limits);
        if (!parsed.ok) {
          r.outcome = parsed.fault.status === 413 ? 'too-large' : 'invalid';
          r.error = { name: 'InvalidArgumentError', code: 'SHADOW_ERR_INVALID_ARGUMENT', message: `update rejected before sending: ${parsed.fault.message}` };
          break;
        }
        const merged = mergeState(current, update);
        if (stateSize(merged, doc?.state.reported) > limits.maxStateBytes) {
          r.outcome = 'too-large';
          r.error = { name: 'InvalidArgumentError', code: 'SHADOW_ERR_INVALID_ARGUMENT', message: `the desired state would exceed ${limits.maxStateBytes} bytes` };
          break;
        }
        if (cfg.dryRun === true) {
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
          if (err instanceof ConflictError && r.attempts < maxAttempts) {
            conflicts += 1;
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      r.outcome = 'failed';
      r.error = toErrorRecord(err);
      if (!isShadowError(err) && !(err instanceof Error)) r.error.message = String(err);
    }
    const usage = ctx.gate.takeUsage(ref);
    r.requests = usage.requests;
    r.throttles = usage.throttles;
    r.latencyMs = performance.now() - started;
    if (conflicts > 0) r.detail = { ...(r.detail as object | undefined), conflicts };
    results[i] = r;
  });
  return results;
}
