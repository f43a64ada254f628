/**
 * The 'converge-check' handler: reads each shadow and reports whether the device reported the
 * rolled-out values: outcome `converged`, `not-converged`, `no-shadow` or `failed`.
 */
import { NotFoundError, toErrorRecord } from '../../src/errors.js';
import { forEachConcurrent } from '../../src/engine/for-each-concurrent.js';
import {
  type ConvergeCheckTaskConfig,
  type HandlerContext,
  type ItemResult,
  startResult,
  type TargetItem,
} from '../../src/engine/task-types.js';
import { isPlainObject as isObject, jsonEqual, parseJson } from '../../src/shadow/index.js';
import type { JsonObject, JsonValue } from '../../src/shadow/index.js';

/** Paths (of the merge document) where reported differs from what was rolled out. */
export function unconverged(desired: JsonObject, reported: JsonObject | undefined, path = ''): string[] {
  const out: string[] = [];
  for (const key of Object.keys(desired)) {
    const want = desired[key] as JsonValue;
    const has = isObject(reported) && Object.hasOwn(reported, key);
    const got = has ? (reported as JsonObject)[key] : undefined;
    const p = `${path}/${key}`;
    if (want === null) {
      if (has) out.push(p);
    } else if (isObject(want) && Object.keys(want).length > 0) {
      out.push(...unconverged(want, isObject(got) ? got : undefined, p));
    } else if (!jsonEqual(want, got)) {
      out.push(p);
    }
  }
  return out;
}

export default async function convergeCheck(
  items: TargetItem[],
  ctx: HandlerContext<ConvergeCheckTaskConfig>,
): Promise<ItemResult[]> {
  const cfg = ctx.config;
  // desiredJson: the rolled-out document as text, so exact numbers survive the thread boundary.
  const desired = cfg.desiredJson !== undefined ? (parseJson(cfg.desiredJson) as JsonObject) : cfg.desired;
  const results: ItemResult[] = new Array(items.length);
  await forEachConcurrent(items, cfg.concurrency ?? 64, async (item, i) => {
    const started = performance.now();
    const shadowName = item.shadowName ?? cfg.shadowName;
    const ref = shadowName === undefined ? { thingName: item.thingName } : { thingName: item.thingName, shadowName };
    const r = startResult(item.thingName, shadowName, 1);
    try {
      const doc = await ctx.client.getThingShadow(ref);
      const pending =
        desired !== undefined
          ? unconverged(desired, doc.state.reported)
          : Object.keys(doc.state.delta ?? {}).map((k) => `/${k}`);
      r.outcome = pending.length === 0 ? 'converged' : 'not-converged';
      if (pending.length > 0) r.detail = { pending };
    } catch (err) {
      if (err instanceof NotFoundError) r.outcome = 'no-shadow';
      else r.error = toErrorRecord(err);
    }
    const usage = ctx.gate.takeUsage(ref);
    r.requests = usage.requests;
    r.throttles = usage.throttles;
    r.latencyMs = performance.now() - started;
    results[i] = r;
  });
  return results;
}
