/**
 * `drift FLEET.yaml`: reads the fleet (or a recent snapshot) and classifies each shadow a rule
 * governs (fleet-drift.ts): desired differs from the file, reported has not followed desired
 * for longer than `maxLag`, pending, or in line. Writes nothing. The result lists the drifted
 * shadows (desired-differs and not-followed); `onShadow` sees every verdict as it is made
 * (JSON lines); `driftReportModel` turns the result into a report page.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { ReportModel } from '../../report/report-model.js';
import { classifyDrift, DRIFT_STATES, type DriftState } from './fleet-drift.js';
import { fleetContext, fleetRun, type FleetJobOptions } from './fleet-options.js';
import { readFleet } from './fleet-read.js';

export interface FleetDriftOptions extends FleetJobOptions {
  /** How long reported may lag behind desired, ms. Default 10 minutes. */
  maxLagMs?: number;
  /** Now, ms since the epoch (tests inject one). Default Date.now(). */
  now?: () => number;
  /** Drifted shadows kept in the result (all are counted). Default 10,000. */
  maxListed?: number;
  onShadow?: (e: DriftEntry) => void;
}

export interface DriftEntry {
  thing: string;
  shadow: string | null;
  state: DriftState;
  paths: string[];
  lagSeconds?: number;
  /** The rules that apply, by name. */
  rules: string[];
}

export interface FleetDriftResult {
  file: string;
  fromSnapshot?: string;
  maxLagSeconds: number;
  /** Shadows some rule governs. */
  governed: number;
  counts: Record<DriftState, number>;
  /** desired-differs + not-followed. */
  driftedCount: number;
  drifted: DriftEntry[];
  durationMs: number;
}

export const DEFAULT_DRIFT_OPTIONS = Object.freeze({ maxLagMs: 10 * 60_000, maxListed: 10_000 });

/** `drift`: which governed shadows left the declared state, or never followed it. */
export async function runFleetDrift(o: FleetDriftOptions): Promise<FleetDriftResult> {
  const started = Date.now();
  const maxLagMs = o.maxLagMs ?? DEFAULT_DRIFT_OPTIONS.maxLagMs;
  if (!(typeof maxLagMs === 'number' && maxLagMs >= 0))
    throw new InvalidArgumentError('maxLagMs: expected a number of ms >= 0');
  const ctx = await fleetContext(o);
  const now = o.now ?? Date.now;
  const maxListed = o.maxListed ?? DEFAULT_DRIFT_OPTIONS.maxListed;
  const counts = Object.fromEntries(DRIFT_STATES.map((s) => [s, 0])) as Record<DriftState, number>;
  const res: FleetDriftResult = {
    file: ctx.file.file,
    maxLagSeconds: maxLagMs / 1000,
    governed: 0,
    counts,
    driftedCount: 0,
    drifted: [],
    durationMs: 0,
  };
  if (ctx.read.fromSnapshot !== undefined) res.fromSnapshot = ctx.read.fromSnapshot;
  const run = fleetRun(ctx, o);
  try {
    for await (const s of await readFleet(ctx.file, run, ctx.read)) {
      if (s.rules.length === 0) continue;
      res.governed += 1;
      const v = classifyDrift(s.doc, s.rules, { nowSeconds: now() / 1000, maxLagSeconds: maxLagMs / 1000 });
      counts[v.state] += 1;
      const e: DriftEntry = {
        thing: s.thing,
        shadow: s.shadowName ?? null,
        state: v.state,
        paths: v.paths,
        rules: s.rules.map((r) => r.name),
      };
      if (v.lagSeconds !== undefined) e.lagSeconds = Math.round(v.lagSeconds);
      o.onShadow?.(e);
      if (v.state === 'desired-differs' || v.state === 'not-followed') {
        res.driftedCount += 1;
        if (res.drifted.length < maxListed) res.drifted.push(e);
      }
    }
  } finally {
    await run.close();
  }
  res.durationMs = Date.now() - started;
  return res;
}

/** The report page of a drift run: counts by state and the drifted shadows. */
export function driftReportModel(r: FleetDriftResult): ReportModel {
  return {
    kind: 'drift',
    title: `Drift of ${r.file}`,
    subtitle: r.fromSnapshot === undefined ? 'read from the data plane' : `read from the snapshot ${r.fromSnapshot}`,
    generatedAt: new Date().toISOString(),
    summary: [
      { label: 'governed shadows', value: r.governed },
      { label: 'drifted', value: r.driftedCount, note: 'desired differs, or not followed' },
      { label: 'desired differs', value: r.counts['desired-differs'] },
      {
        label: 'not followed',
        value: r.counts['not-followed'],
        note: `reported behind desired for more than ${r.maxLagSeconds} s`,
      },
      { label: 'pending', value: r.counts.pending },
      { label: 'in line', value: r.counts['in-line'] },
    ],
    outcomes: { ...r.counts },
    outcomesTitle: 'Shadows by drift state',
    tables: [
      {
        title:
          r.drifted.length < r.driftedCount
            ? `Drifted shadows (first ${r.drifted.length} of ${r.driftedCount})`
            : 'Drifted shadows',
        columns: ['thing', 'shadow', 'state', 'paths', 'lag (s)', 'rules'],
        rows: r.drifted.map((e) => [
          e.thing,
          e.shadow ?? 'classic',
          e.state,
          e.paths.join(', '),
          e.lagSeconds ?? null,
          e.rules.join(', '),
        ]),
      },
    ],
  };
}
