/**
 * Accumulates per-thing results of a rollout into the summary a report page charts: counts by
 * outcome and by error, throughput, latency percentiles, retries, throttles, bytes, billed
 * operations, and per-second time series. Holds counters only, never the results themselves,
 * so a run over millions of things stays small.
 */
import { LatencyHistogram } from '../../report/latency-histogram.js';
import { errorName } from '../../engine/error-name.js';
import type { ItemResult } from '../../engine/task-types.js';

/** AWS meters shadow operations per started 1 KB of payload. */
export const BILLING_UNIT_BYTES = 1024;

/** `{"state":{"desired":` + `}}`: what a naive client wraps around the whole desired document. */
export const NAIVE_ENVELOPE_BYTES = 22;

/** One second of a run, for charts. `second` counts from the start of this run. */
export interface RolloutSeriesPoint {
  second: number;
  done: number;
  written: number;
  failed: number;
  requests: number;
  throttles: number;
  /** The rate limit in force at the end of that second (ramps), requests/s per operation. */
  rate?: number;
}

export interface RolloutLatency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface RolloutSummary {
  /** Things with an outcome, each counted once (a resumed run includes the earlier runs' finished things). */
  things: number;
  /** Of `things`, those finished by an earlier run (read from the journal). */
  resumed: number;
  byOutcome: Record<string, number>;
  /** Failures by AWS error name (e.g. ThrottlingException) or error class name. */
  byError: Record<string, number>;
  failed: number;
  /** Wall time of this run's write phase, ms. */
  elapsedMs: number;
  /** Things finished by this run per second of this run. */
  thingsPerSecond: number;
  /** Per-thing wall time in the worker, ms. */
  latencyMs: RolloutLatency;
  /** Conflict re-reads (handler attempts beyond the first). */
  retries: number;
  requests: number;
  throttles: number;
  bytesSent: number;
  /** Bytes a client sending the whole desired document (`{"state":{"desired":...}}`) would have sent for the same writes. */
  wholeBytes: number;
  /** bytesSent / wholeBytes (0 when nothing was written). */
  sentShare: number;
  /** AWS billed operations: one per request, one more per started KB beyond the first of an update. */
  billedOperations: number;
  series: RolloutSeriesPoint[];
}

const SUCCESS = new Set([
  'written',
  'unchanged',
  'rebased',
  'skipped',
  'skipped-condition',
  'would-write',
  'converged',
]);
const WRITTEN = new Set(['written', 'rebased']);

/** True when an outcome counts as a success for ramps and abort criteria. */
export function isSuccessOutcome(outcome: string): boolean {
  return SUCCESS.has(outcome);
}

export { errorName };

/** Billed 1 KB operations of one item: each request is one, a write of more than 1 KB costs one per started KB. */
export function billedOperations(
  r: Pick<ItemResult, 'requests' | 'answered' | 'bytesSent' | 'detail' | 'outcome'>,
): number {
  const d = r.detail as { billedOperations?: unknown } | undefined;
  if (d !== undefined && d !== null && typeof d.billedOperations === 'number') return d.billedOperations;
  // a dry run's would-write sent nothing; reads count one each (their size is not known here)
  const extraKb =
    r.bytesSent > 0 && r.outcome !== 'would-write' ? Math.max(0, Math.ceil(r.bytesSent / BILLING_UNIT_BYTES) - 1) : 0;
  // Only requests the server answered are billed: a connection that never reached it costs nothing.
  const answered = r.answered ?? r.requests;
  return answered === 0 ? 0 : answered + extraKb;
}

export class RolloutReport {
  #things = 0;
  #resumed = 0;
  #byOutcome: Record<string, number> = {};
  #byError: Record<string, number> = {};
  #failed = 0;
  #retries = 0;
  #requests = 0;
  #throttles = 0;
  #bytesSent = 0;
  #wholeBytes = 0;
  #billed = 0;
  #latency = new LatencyHistogram();
  #series: RolloutSeriesPoint[] = [];
  #startedAt: number;
  #endedAt: number | undefined;
  #doneThisRun = 0;
  #rate: number | undefined;

  constructor(startedAt = Date.now()) {
    this.#startedAt = startedAt;
  }

  get things(): number {
    return this.#things;
  }
  get failed(): number {
    return this.#failed;
  }
  get doneThisRun(): number {
    return this.#doneThisRun;
  }
  count(outcome: string): number {
    return this.#byOutcome[outcome] ?? 0;
  }

  /** The rate limit now in force, stamped on the series. */
  setRate(rps: number): void {
    this.#rate = rps;
  }

  /** Adds one result; `resumed` marks a result read back from an earlier run's journal. */
  record(r: ItemResult, resumed = false, now = Date.now()): void {
    this.#things += 1;
    this.#byOutcome[r.outcome] = (this.#byOutcome[r.outcome] ?? 0) + 1;
    const failed = r.outcome === 'failed' || (r.error !== undefined && !SUCCESS.has(r.outcome));
    if (failed) {
      this.#failed += 1;
      const name = errorName(r);
      this.#byError[name] = (this.#byError[name] ?? 0) + 1;
    }
    this.#retries += Math.max(0, (r.attempts ?? 1) - 1);
    this.#requests += r.requests ?? 0;
    this.#throttles += r.throttles ?? 0;
    this.#bytesSent += r.bytesSent ?? 0;
    if ((WRITTEN.has(r.outcome) || r.outcome === 'would-write') && r.wholeBytes !== undefined)
      this.#wholeBytes += r.wholeBytes + NAIVE_ENVELOPE_BYTES;
    this.#billed += billedOperations(r);
    if (Number.isFinite(r.latencyMs)) this.#latency.record(r.latencyMs);
    if (resumed) {
      this.#resumed += 1;
      return;
    }
    this.#doneThisRun += 1;
    const p = this.#point(now);
    p.done += 1;
    if (WRITTEN.has(r.outcome)) p.written += 1;
    if (failed) p.failed += 1;
    p.requests += r.requests ?? 0;
    p.throttles += r.throttles ?? 0;
  }

  #point(now: number): RolloutSeriesPoint {
    const second = Math.max(0, Math.floor((now - this.#startedAt) / 1000));
    let last = this.#series[this.#series.length - 1];
    while (last === undefined || last.second < second) {
      const next: RolloutSeriesPoint = {
        second: last === undefined ? 0 : last.second + 1,
        done: 0,
        written: 0,
        failed: 0,
        requests: 0,
        throttles: 0,
      };
      if (this.#rate !== undefined) next.rate = this.#rate;
      this.#series.push(next);
      last = next;
    }
    if (this.#rate !== undefined) last.rate = this.#rate;
    return last;
  }

  /** Marks the end of the write phase (convergence checks do not count toward throughput). */
  end(now = Date.now()): void {
    this.#endedAt ??= now;
  }

  /**
   * What a progress event shows, without the latency percentiles and the series of summary()
   * (computed over the whole histogram and copied whole: twice a second, for nothing).
   */
  progress(now = Date.now()): Pick<RolloutSummary, 'failed' | 'throttles' | 'byOutcome' | 'thingsPerSecond'> {
    return {
      failed: this.#failed,
      throttles: this.#throttles,
      byOutcome: { ...this.#byOutcome },
      thingsPerSecond: this.#thingsPerSecond(now),
    };
  }

  #thingsPerSecond(now: number): number {
    const elapsedMs = Math.max(0, (this.#endedAt ?? now) - this.#startedAt);
    return elapsedMs > 0 ? Math.round((this.#doneThisRun / elapsedMs) * 1000 * 10) / 10 : 0;
  }

  summary(now = Date.now()): RolloutSummary {
    const elapsedMs = Math.max(0, (this.#endedAt ?? now) - this.#startedAt);
    // Percentiles never read above the largest latency seen (HDR answers a bucket's top value).
    const l = this.#latency.summary();
    return {
      things: this.#things,
      resumed: this.#resumed,
      byOutcome: { ...this.#byOutcome },
      byError: { ...this.#byError },
      failed: this.#failed,
      elapsedMs,
      thingsPerSecond: this.#thingsPerSecond(now),
      latencyMs: { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, mean: l.mean },
      retries: this.#retries,
      requests: this.#requests,
      throttles: this.#throttles,
      bytesSent: this.#bytesSent,
      wholeBytes: this.#wholeBytes,
      sentShare: this.#wholeBytes > 0 ? this.#bytesSent / this.#wholeBytes : 0,
      billedOperations: this.#billed,
      series: this.#series.map((p) => ({ ...p })),
    };
  }
}

/** One line of the per-thing outcome file (NDJSON). */
export interface RolloutOutcomeLine {
  thing: string;
  shadow?: string;
  outcome: string;
  error?: string;
  message?: string;
  attempts: number;
  requests: number;
  throttles: number;
  latencyMs: number;
  bytesSent: number;
  wholeBytes?: number;
}

export function outcomeLine(r: ItemResult): RolloutOutcomeLine {
  const line: RolloutOutcomeLine = {
    thing: r.thingName,
    outcome: r.outcome,
    attempts: r.attempts,
    requests: r.requests,
    throttles: r.throttles,
    latencyMs: Math.round(r.latencyMs * 1000) / 1000,
    bytesSent: r.bytesSent,
  };
  if (r.shadowName !== undefined) line.shadow = r.shadowName;
  if (r.error !== undefined) {
    line.error = errorName(r);
    line.message = r.error.message;
  }
  if (r.wholeBytes !== undefined) line.wholeBytes = r.wholeBytes;
  return line;
}
