/**
 * `apply FLEET.yaml`: plans, then runs the plan through the rollout machinery. The shadows to
 * change are grouped by the desired fragment they need (the rules applying to them, merged in
 * order); each group is one rollout of that fragment over those things, with everything a
 * rollout has: version-guarded minimal writes that keep a device's concurrent write, rate and
 * ramp, abort criteria, blast-radius caps, journal and resume, convergence, report. A group
 * that fails or aborts stops the apply before the next one.
 *
 * Only shadows the plan found out of line are targeted, and each write is re-diffed against the
 * document read just before it: an apply right after an apply writes nothing.
 */
import type { RampOptions } from '../../engine/ramp-schedule.js';
import {
  runRollout,
  type AbortCriterion,
  type RolloutOptions,
  type RolloutProgress,
  type RolloutResult,
} from '../rollout/rollout.js';
import { fleetContext, type FleetJobOptions } from './fleet-options.js';
import { planFleet, type FleetApplyGroup, type FleetPlanResult } from './fleet-plan-job.js';

export interface FleetApplyOptions extends FleetJobOptions {
  /** Plan and read only (each rollout a dry run). */
  dryRun?: boolean;
  ramp?: RampOptions;
  abort?: AbortCriterion[];
  /** Confirms a group larger than the rollout's blast-radius cap. */
  yes?: boolean;
  /** Allows rules that delete keys (null) on more than the rollout's cap of things. */
  allowDeletes?: boolean;
  /** Journal path prefix: group i journals to `${journal}.${i}` (resume with the same file). */
  journal?: string;
  resume?: boolean;
  /** Per-thing outcome file prefix: group i to `${report}.${i}`. */
  report?: string;
  /** Wait this long for the devices to report the applied state. */
  waitConvergedMs?: number;
  convergePollMs?: number;
  onProgress?: (p: RolloutProgress & { group: number; groups: number }) => void;
}

export interface FleetApplyRollout {
  group: number;
  shadow: string | null;
  rules: string[];
  things: number;
  result: RolloutResult;
}

export interface FleetApplyResult {
  ok: boolean;
  dryRun: boolean;
  plan: FleetPlanResult;
  rollouts: FleetApplyRollout[];
  /** Shadows written by the rollouts. */
  written: number;
  failed: number;
  /** Set when a group's rollout aborted or was interrupted: later groups did not run. */
  stopped?: string;
  durationMs: number;
}

function rolloutOptions(o: FleetApplyOptions, endpoint: string, g: FleetApplyGroup, i: number): RolloutOptions {
  const r: RolloutOptions = { endpoint, targets: g.things, desired: g.desired, dryRun: o.dryRun === true };
  if (g.shadowName !== undefined) r.shadowName = g.shadowName;
  if (o.region !== undefined) r.region = o.region;
  if (o.credentials !== undefined) r.credentials = o.credentials;
  // The profile's name, not its keys: each worker (thread or queue process) resolves it.
  else if (o.profile !== undefined) r.profile = o.profile;
  if (o.rate !== undefined) r.rate = o.rate === 'off' ? 'off' : { perSecond: o.rate };
  if (o.ramp !== undefined) r.ramp = o.ramp;
  if (o.abort !== undefined) r.abort = o.abort;
  if (o.yes !== undefined) r.yes = o.yes;
  if (o.allowDeletes !== undefined) r.allowDeletes = o.allowDeletes;
  if (o.journal !== undefined) r.journal = `${o.journal}.${i}`;
  if (o.resume !== undefined) r.resume = o.resume;
  if (o.report !== undefined) r.report = `${o.report}.${i}`;
  if (o.waitConvergedMs !== undefined) r.waitConvergedMs = o.waitConvergedMs;
  if (o.convergePollMs !== undefined) r.convergePollMs = o.convergePollMs;
  if (o.workers !== undefined) r.workers = o.workers;
  if (o.signal !== undefined) r.signal = o.signal;
  if (o.placement !== undefined) r.placement = o.placement;
  return r;
}

/** `apply`: plan, then one rollout per group of shadows needing the same fragment. */
export async function runFleetApply(o: FleetApplyOptions): Promise<FleetApplyResult> {
  const started = Date.now();
  const ctx = await fleetContext(o);
  const plan = await planFleet(ctx, o);
  const res: FleetApplyResult = {
    ok: true,
    dryRun: o.dryRun === true,
    plan,
    rollouts: [],
    written: 0,
    failed: 0,
    durationMs: 0,
  };
  const endpoint = ctx.side.client.endpoint;
  const credentials = ctx.side.client.credentials;
  for (const [i, g] of plan.groups.entries()) {
    const ro = rolloutOptions(credentials === undefined ? o : { ...o, credentials }, endpoint, g, i);
    if (o.onProgress !== undefined) {
      const onProgress = o.onProgress;
      ro.onProgress = (p) => onProgress({ ...p, group: i, groups: plan.groups.length });
    }
    const result = await runRollout(ro);
    res.rollouts.push({ group: i, shadow: g.shadowName ?? null, rules: g.rules, things: g.things.length, result });
    const by = result.summary.byOutcome;
    res.written += (by.written ?? 0) + (by.rebased ?? 0);
    res.failed += result.summary.failed;
    if (!result.ok) res.ok = false;
    if (result.aborted !== undefined || result.interrupted) {
      res.stopped = result.aborted?.reason ?? 'interrupted';
      break;
    }
  }
  res.durationMs = Date.now() - started;
  return res;
}
