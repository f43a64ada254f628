/**
 * The one tally of a result stream: items by outcome and by error name, requests, throttles,
 * bytes and latency. The coordinator, every job run and the reports count through it, so an
 * outcome is counted the same way everywhere. Counters only: a run over millions of things
 * stays small.
 */
import { errorName } from './error-name.js';
import type { ItemOutcome, OutcomeCounts } from './item-outcome.js';
import type { ItemResult } from './task-types.js';

export class OutcomeTally {
  done = 0;
  readonly byOutcome: OutcomeCounts = {};
  /** Results carrying an error, by error name (AWS error type when the service answered). */
  readonly byError: Record<string, number> = {};
  requests = 0;
  throttles = 0;
  bytesSent = 0;
  wholeBytes = 0;
  /** Sum of per-item latency, ms. */
  latencyMsTotal = 0;

  add(r: ItemResult): void {
    this.done += 1;
    this.byOutcome[r.outcome] = (this.byOutcome[r.outcome] ?? 0) + 1;
    if (r.error !== undefined) {
      const name = errorName(r);
      this.byError[name] = (this.byError[name] ?? 0) + 1;
    }
    this.requests += r.requests;
    this.throttles += r.throttles;
    this.bytesSent += r.bytesSent;
    this.wholeBytes += r.wholeBytes ?? 0;
    this.latencyMsTotal += r.latencyMs;
  }

  /** Items with any of `outcomes`. */
  count(...outcomes: ItemOutcome[]): number {
    let n = 0;
    for (const o of outcomes) n += this.byOutcome[o] ?? 0;
    return n;
  }
}
