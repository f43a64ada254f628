/**
 * The 'wave-check' handler: what a wave's gate observes of one written thing. Reads the shadow
 * and reports outcome `converged` or `not-converged` (reported follows the desired keys that
 * were written), `no-shadow` or `failed`, with `detail.healthy` when the rollout has a health
 * expression (evaluated on the document just read).
 */
import { NotFoundError, toErrorRecord } from '../../src/errors.js';
import { forEachConcurrent } from '../../src/engine/for-each-concurrent.js';
import { compileHealthCheck, type HealthCheck } from '../../src/engine/health-check.js';
import { type HandlerContext, type ItemResult, startResult, type TargetItem } from '../../src/engine/task-types.js';
import { WROTE_DATA_KEY, type WaveCheckTaskConfig } from '../../src/engine/wave-task-types.js';
import { parseJson } from '../../src/shadow/json-text.js';
import type { JsonObject, ShadowDocument } from '../../src/shadow/types.js';
import { unconverged } from './converge-check.js';

const checks = new Map<string, HealthCheck>();

function healthCheck(expression: string): HealthCheck {
  let check = checks.get(expression);
  if (check === undefined) {
    check = compileHealthCheck(expression);
    checks.set(expression, check);
  }
  return check;
}

/** The gate's view of one thing: converged, and healthy when an expression is given. */
export function observeThing(
  doc: ShadowDocument,
  wrote: JsonObject | undefined,
  health: HealthCheck | undefined,
): { converged: boolean; pending: string[]; healthy?: boolean } {
  const pending =
    wrote !== undefined
      ? unconverged(wrote, doc.state.reported)
      : Object.keys(doc.state.delta ?? {}).map((k) => `/${k}`);
  const out: { converged: boolean; pending: string[]; healthy?: boolean } = {
    converged: pending.length === 0,
    pending,
  };
  if (health !== undefined) out.healthy = health(doc);
  return out;
}

export default async function waveCheck(
  items: TargetItem[],
  ctx: HandlerContext<WaveCheckTaskConfig>,
): Promise<ItemResult[]> {
  const cfg = ctx.config;
  const health = cfg.health === undefined ? undefined : healthCheck(cfg.health);
  const results: ItemResult[] = new Array(items.length);
  await forEachConcurrent(items, cfg.concurrency ?? 64, async (item, i) => {
    const started = performance.now();
    const shadowName = item.shadowName ?? cfg.shadowName;
    const ref = shadowName === undefined ? { thingName: item.thingName } : { thingName: item.thingName, shadowName };
    const r = startResult(item.thingName, shadowName, 1);
    try {
      const text = item.data?.[WROTE_DATA_KEY];
      const wrote = text !== undefined ? (parseJson(text) as JsonObject) : cfg.desired;
      const doc = await ctx.client.getThingShadow(ref);
      const seen = observeThing(doc, wrote, health);
      r.outcome = seen.converged ? 'converged' : 'not-converged';
      const detail: Record<string, unknown> = {};
      if (seen.healthy !== undefined) detail.healthy = seen.healthy;
      if (seen.pending.length > 0) detail.pending = seen.pending;
      r.detail = detail;
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
