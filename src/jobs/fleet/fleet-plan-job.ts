/**
 * `plan FLEET.yaml`: reads the fleet (or a recent snapshot) and says what an apply would do:
 * per rule, how many shadows it would change, which key paths (with how many shadows each),
 * the bytes of the updates; in all, the writes, the bytes and the time they take at the quota.
 * Writes nothing.
 *
 * The plan also groups the shadows to change by the desired fragment they need (the rules that
 * apply to them, merged), which is how `apply` hands them to the rollout machinery.
 */
import { stringifyJson } from '../../shadow/json-text.js';
import type { JsonObject } from '../../shadow/types.js';
import { describeSelection, type FleetFile } from './fleet-file.js';
import { fleetContext, fleetRun, type FleetContext, type FleetJobOptions } from './fleet-options.js';
import { planShadow } from './fleet-plan.js';
import { readFleet } from './fleet-read.js';

export interface FleetRulePlan {
  index: number;
  name: string;
  /** The rule's selection, as text. */
  selection: string;
  where?: string;
  /** null: the classic shadow. */
  shadow: string | null;
  /** Shadows the rule applies to. */
  applies: number;
  /** Shadows where the rule decides at least one key that would change. */
  changes: number;
  /** Key paths it would change, with the number of shadows each. */
  paths: Record<string, number>;
  /** Bytes of the updates it takes part in. */
  bytes: number;
}

/** Shadows that need the same desired fragment: one rollout of `apply`. */
export interface FleetApplyGroup {
  shadowName: string | undefined;
  desired: JsonObject;
  /** The rules merged into `desired`, in order. */
  rules: string[];
  things: string[];
}

export interface FleetPlanResult {
  file: string;
  fromSnapshot?: string;
  /** Shadows read (things of the fleet x shadows the rules name). */
  shadows: number;
  /** Shadows some rule applies to. */
  governed: number;
  /** Shadows an apply would write. */
  toWrite: number;
  /** Governed shadows already in line. */
  inLine: number;
  bytes: number;
  /** Requests/s per operation the time is computed at (the account quota unless set). */
  ratePerSecond: number | 'off';
  /** Seconds the writes take at that rate (a read and a write per shadow). */
  estimatedSeconds: number;
  rules: FleetRulePlan[];
  groups: FleetApplyGroup[];
  durationMs: number;
}

function emptyRulePlans(file: FleetFile): FleetRulePlan[] {
  return file.rules.map((r) => {
    const p: FleetRulePlan = {
      index: r.index,
      name: r.name,
      selection: describeSelection(r.selection),
      shadow: r.shadowName ?? null,
      applies: 0,
      changes: 0,
      paths: {},
      bytes: 0,
    };
    if (r.where !== undefined) p.where = r.where.source;
    return p;
  });
}

/** Plans on an open context (apply uses it too). */
export async function planFleet(ctx: FleetContext, o: FleetJobOptions): Promise<FleetPlanResult> {
  const started = Date.now();
  const rules = emptyRulePlans(ctx.file);
  const groups = new Map<string, FleetApplyGroup>();
  const res: FleetPlanResult = {
    file: ctx.file.file,
    shadows: 0,
    governed: 0,
    toWrite: 0,
    inLine: 0,
    bytes: 0,
    ratePerSecond: ctx.ratePerSecond,
    estimatedSeconds: 0,
    rules,
    groups: [],
    durationMs: 0,
  };
  if (ctx.read.fromSnapshot !== undefined) res.fromSnapshot = ctx.read.fromSnapshot;
  const run = fleetRun(ctx, o);
  try {
    for await (const s of await readFleet(ctx.file, run, ctx.read)) {
      res.shadows += 1;
      if (s.rules.length === 0) continue;
      res.governed += 1;
      for (const r of s.rules) rules[r.index]!.applies += 1;
      const plan = planShadow(s.doc, s.rules);
      if (plan.update === undefined) {
        res.inLine += 1;
        continue;
      }
      res.toWrite += 1;
      res.bytes += plan.bytes;
      for (const r of s.rules) {
        const paths = plan.pathsByRule.get(r.name);
        if (paths === undefined) continue;
        const rp = rules[r.index]!;
        rp.changes += 1;
        rp.bytes += plan.bytes;
        for (const p of paths) rp.paths[p] = (rp.paths[p] ?? 0) + 1;
      }
      const key = `${s.shadowName ?? ''}\u0000${stringifyJson(plan.merged)}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = { shadowName: s.shadowName, desired: plan.merged, rules: s.rules.map((r) => r.name), things: [] };
        groups.set(key, g);
      }
      g.things.push(s.thing);
    }
  } finally {
    await run.close();
  }
  res.groups = [...groups.values()];
  res.estimatedSeconds = ctx.ratePerSecond === 'off' ? 0 : res.toWrite / ctx.ratePerSecond;
  res.durationMs = Date.now() - started;
  return res;
}

/** `plan`: what an apply of the fleet file would change. */
export async function runFleetPlan(o: FleetJobOptions): Promise<FleetPlanResult> {
  return planFleet(await fleetContext(o), o);
}
