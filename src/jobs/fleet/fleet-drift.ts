/**
 * Drift of one shadow against a fleet file, pure:
 *
 * - `desired-differs`: the shadow's desired is not what the file requires (someone or
 *   something changed it, or the file changed and was not applied); the paths say where.
 * - `not-followed`: desired is right but reported has not taken it, and the oldest such key
 *   was set in desired longer than `maxLagSeconds` ago (by the shadow's metadata timestamps):
 *   the device did not follow.
 * - `pending`: desired is right, reported not yet, within the allowed lag.
 * - `in-line`: desired is right and reported holds it (keys the file deletes are checked in
 *   desired only: a delta never asks a device to drop a reported key).
 */
import { jsonEqual } from '../../shadow/compute-delta.js';
import { formatKeyPath, leafPaths, valueAtPath } from '../../shadow/leaf-paths.js';
import { isPlainObject } from '../../shadow/merge-state.js';
import type { JsonObject, JsonValue, ShadowDocument } from '../../shadow/types.js';
import { planShadow } from './fleet-plan.js';
import type { FleetRule } from './fleet-file.js';

export type DriftState = 'in-line' | 'pending' | 'not-followed' | 'desired-differs';

export const DRIFT_STATES: readonly DriftState[] = Object.freeze([
  'in-line',
  'pending',
  'not-followed',
  'desired-differs',
]);

export interface DriftVerdict {
  state: DriftState;
  /** The key paths at issue (desired that differs, or reported that has not followed). */
  paths: string[];
  /** not-followed / pending: seconds since the oldest key at issue was set in desired. */
  lagSeconds?: number;
}

export interface DriftOptions {
  /** Now, in epoch seconds (shadow timestamps are epoch seconds). */
  nowSeconds: number;
  /** How long reported may lag behind desired before the shadow counts as not followed. */
  maxLagSeconds: number;
}

/** The latest `timestamp` under a metadata node (AWS metadata mirrors the state with `{timestamp}` leaves). */
function latestTimestamp(meta: JsonValue | undefined): number | undefined {
  if (meta === undefined || meta === null) return undefined;
  if (Array.isArray(meta)) {
    let best: number | undefined;
    for (const m of meta) {
      const t = latestTimestamp(m);
      if (t !== undefined && (best === undefined || t > best)) best = t;
    }
    return best;
  }
  if (!isPlainObject(meta)) return undefined;
  if (typeof meta.timestamp === 'number' && Object.keys(meta).length === 1) return meta.timestamp;
  let best: number | undefined;
  for (const k of Object.keys(meta)) {
    const t = latestTimestamp(meta[k]);
    if (t !== undefined && (best === undefined || t > best)) best = t;
  }
  return best;
}

/** Classifies one shadow (undefined: it does not exist) against the rules that apply to it. */
export function classifyDrift(
  doc: ShadowDocument | undefined,
  rules: readonly FleetRule[],
  o: DriftOptions,
): DriftVerdict {
  const plan = planShadow(doc, rules);
  if (plan.update !== undefined) return { state: 'desired-differs', paths: plan.paths };
  const reported = doc?.state.reported;
  const lagging: string[] = [];
  let oldest: number | undefined;
  for (const { path, value } of leafPaths(plan.merged)) {
    // A key the file deletes (null) is checked in desired only: a delta never carries a
    // deletion, so a device cannot be asked to drop it from reported.
    if (value === null) continue;
    const got = valueAtPath(reported as JsonObject | undefined, path);
    if (got !== undefined && jsonEqual(got, value)) continue;
    lagging.push(formatKeyPath(path));
    const since = latestTimestamp(valueAtPath(doc?.metadata.desired as JsonObject | undefined, path)) ?? doc?.timestamp;
    if (since !== undefined && (oldest === undefined || since < oldest)) oldest = since;
  }
  if (lagging.length === 0) return { state: 'in-line', paths: [] };
  const lagSeconds = oldest === undefined ? 0 : Math.max(0, o.nowSeconds - oldest);
  return { state: lagSeconds > o.maxLagSeconds ? 'not-followed' : 'pending', paths: lagging, lagSeconds };
}
