/**
 * The total of a multi-account run: the accounts' rollout summaries added up, their progress
 * events merged into one, and their outcome files joined into one whose lines carry the account.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { AtomicFileWriter } from '../../io/atomic-file-writer.js';
import type { RolloutProgress, RolloutPlan } from '../rollout/rollout.js';
import type { RolloutSeriesPoint, RolloutSummary } from '../rollout/rollout-report.js';

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Per-second series added by second (the accounts start together). */
function addSeries(list: readonly RolloutSeriesPoint[][]): RolloutSeriesPoint[] {
  const bySecond = new Map<number, RolloutSeriesPoint>();
  for (const series of list)
    for (const p of series) {
      const t = bySecond.get(p.second) ?? {
        second: p.second,
        done: 0,
        written: 0,
        failed: 0,
        requests: 0,
        throttles: 0,
      };
      t.done += p.done;
      t.written += p.written;
      t.failed += p.failed;
      t.requests += p.requests;
      t.throttles += p.throttles;
      if (p.rate !== undefined) t.rate = (t.rate ?? 0) + p.rate;
      bySecond.set(p.second, t);
    }
  return [...bySecond.values()].sort((a, b) => a.second - b.second);
}

/**
 * The accounts' summaries added up. Counts, requests and bytes add; the elapsed time is the
 * longest account's, so things/s is the whole plan's pace; latency percentiles cannot be added,
 * so each is the highest of the accounts' (the slowest account's figure).
 */
export function totalSummary(summaries: readonly RolloutSummary[]): RolloutSummary {
  const t: RolloutSummary = {
    things: 0,
    resumed: 0,
    byOutcome: {},
    byError: {},
    failed: 0,
    elapsedMs: 0,
    thingsPerSecond: 0,
    latencyMs: { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 },
    retries: 0,
    requests: 0,
    throttles: 0,
    bytesSent: 0,
    wholeBytes: 0,
    sentShare: 0,
    billedOperations: 0,
    series: addSeries(summaries.map((s) => s.series)),
  };
  let meanWeighted = 0;
  for (const s of summaries) {
    for (const k of ['things', 'resumed', 'failed', 'retries', 'requests', 'throttles'] as const) t[k] += s[k];
    for (const k of ['bytesSent', 'wholeBytes', 'billedOperations'] as const) t[k] += s[k];
    addCounts(t.byOutcome, s.byOutcome);
    addCounts(t.byError, s.byError);
    t.elapsedMs = Math.max(t.elapsedMs, s.elapsedMs);
    for (const k of ['p50', 'p90', 'p99', 'max'] as const) t.latencyMs[k] = Math.max(t.latencyMs[k], s.latencyMs[k]);
    meanWeighted += s.latencyMs.mean * (s.things - s.resumed);
  }
  const fresh = t.things - t.resumed;
  t.latencyMs.mean = fresh > 0 ? Math.round((meanWeighted / fresh) * 100) / 100 : 0;
  t.thingsPerSecond = t.elapsedMs > 0 ? Math.round((fresh / (t.elapsedMs / 1000)) * 10) / 10 : 0;
  t.sentShare = t.wholeBytes > 0 ? t.bytesSent / t.wholeBytes : 0;
  return t;
}

/** The accounts' dry-run plans added up; the time is the longest account's (they run at once). */
export function totalPlan(plans: readonly RolloutPlan[]): RolloutPlan | undefined {
  if (plans.length === 0) return undefined;
  const t: RolloutPlan = {
    wouldWrite: 0,
    unchanged: 0,
    skipped: 0,
    skippedCondition: 0,
    tooLarge: 0,
    invalid: 0,
    failed: 0,
    bytesToSend: 0,
    wholeBytes: 0,
    billedOperations: 0,
    estimatedSeconds: 0,
    ratePerSecond: 0,
  };
  for (const p of plans) {
    for (const k of ['wouldWrite', 'unchanged', 'skipped', 'tooLarge', 'invalid', 'failed'] as const) t[k] += p[k];
    for (const k of ['bytesToSend', 'wholeBytes', 'billedOperations'] as const) t[k] += p[k];
    t.skippedCondition = (t.skippedCondition ?? 0) + (p.skippedCondition ?? 0);
    t.estimatedSeconds = Math.max(t.estimatedSeconds, p.estimatedSeconds);
    t.ratePerSecond =
      p.ratePerSecond === 'off' || t.ratePerSecond === 'off' ? 'off' : t.ratePerSecond + p.ratePerSecond;
  }
  return t;
}

const PHASE_ORDER: RolloutProgress['phase'][] = ['rollback', 'gate', 'write', 'plan', 'converge'];

/**
 * One progress event for the whole plan: counts and paces added, the total known when every
 * account knows its own, the phase the busiest one (an account still writing shows as writing).
 */
export function totalProgress(
  events: ReadonlyMap<string, RolloutProgress>,
  final: boolean,
): RolloutProgress & { accounts: Record<string, RolloutProgress> } {
  const list = [...events.values()];
  const phase =
    PHASE_ORDER.find((ph) => list.some((p) => p.phase === ph && p.final !== true)) ?? list[0]?.phase ?? 'write';
  const p: RolloutProgress & { accounts: Record<string, RolloutProgress> } = {
    phase,
    done: 0,
    failed: 0,
    throttles: 0,
    thingsPerSecond: 0,
    byOutcome: {},
    elapsedMs: 0,
    accounts: Object.fromEntries(events),
  };
  let total: number | undefined = 0;
  let rate: number | undefined;
  for (const e of list) {
    p.done += e.done;
    p.failed += e.failed;
    p.throttles += e.throttles;
    p.thingsPerSecond += e.thingsPerSecond;
    addCounts(p.byOutcome, e.byOutcome);
    p.elapsedMs = Math.max(p.elapsedMs, e.elapsedMs);
    total = total === undefined || e.total === undefined ? undefined : total + e.total;
    if (e.rate !== undefined) rate = (rate ?? 0) + e.rate;
  }
  p.thingsPerSecond = Math.round(p.thingsPerSecond * 10) / 10;
  if (total !== undefined && list.length > 0) {
    p.total = total;
    if (p.thingsPerSecond > 0) p.etaSeconds = Math.max(0, Math.round(((total - p.done) / p.thingsPerSecond) * 10) / 10);
  }
  if (rate !== undefined) p.rate = rate;
  if (final) p.final = true;
  return p;
}

/**
 * Joins the accounts' outcome files (NDJSON, one object a line) into `path`, each line with the
 * account's name as its first field: `{"account":"eu-prod","thing":...}`. Lines are copied as
 * text, so exact numbers stay exact; the file appears whole or not at all (written beside it,
 * then renamed).
 */
export async function joinOutcomeFiles(
  path: string,
  parts: ReadonlyArray<{ name: string; file: string }>,
): Promise<void> {
  const out = await AtomicFileWriter.open(path);
  let n = 0;
  try {
    for (const part of parts) {
      const name = JSON.stringify(part.name);
      const lines = createInterface({ input: createReadStream(part.file), crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line.startsWith('{')) continue;
        out.write(line === '{}' ? `{"account":${name}}\n` : `{"account":${name},${line.slice(1)}\n`);
        if (++n % 4096 === 0) await out.flush(); // backpressure: a million lines are never held at once
      }
    }
    await out.commit();
  } catch (err) {
    await out.abort().catch(() => {});
    throw err;
  }
}
