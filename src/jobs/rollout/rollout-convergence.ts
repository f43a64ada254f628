/**
 * After writing, check (within the rate limits) until devices report the new values: round 1
 * checks every written thing, later rounds only the laggards, one poll interval apart, until
 * all converged or the deadline.
 */
import type { JobRun } from '../../engine/job-run.js';
import { itemKey, type ConvergeCheckTaskConfig, type TargetItem } from '../../engine/task-types.js';
import { refOf } from './rollout-write.js';

export interface RolloutConvergencePoint {
  elapsedMs: number;
  converged: number;
  pending: number;
  share: number;
}

export interface RolloutConvergence {
  /** Written things checked. */
  checked: number;
  converged: number;
  share: number;
  /** Keys (thing or thing/shadow) that had not converged at the deadline; at most 1000 listed. */
  notConverged: string[];
  notConvergedCount: number;
  waitedMs: number;
  series: RolloutConvergencePoint[];
}

export interface WaitConvergedOptions {
  waitMs: number;
  pollMs: number;
  signal: AbortSignal | undefined;
  onProgress: (p: { done: number; total: number }) => void;
}

/** Waits one poll interval, or less if interrupted; the listener goes with the wait. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function waitConverged(
  run: JobRun,
  config: ConvergeCheckTaskConfig,
  written: TargetItem[],
  o: WaitConvergedOptions,
): Promise<RolloutConvergence> {
  const started = Date.now();
  const deadline = started + o.waitMs;
  const stopped = (): boolean => run.interrupted;
  let pending: TargetItem[] = [];
  let checked = 0;
  let converged = 0;
  const series: RolloutConvergencePoint[] = [];
  let round = 0;
  for (;;) {
    const next: TargetItem[] = [];
    const src = round === 0 ? written : pending;
    const first = round === 0;
    await run.run<ConvergeCheckTaskConfig>('converge-check', config, src, (r) => {
      if (first) checked += 1;
      if (r.outcome === 'converged') converged += 1;
      else next.push(refOf(r));
    });
    round += 1;
    pending = next;
    series.push({
      elapsedMs: Date.now() - started,
      converged,
      pending: pending.length,
      share: checked > 0 ? converged / checked : 1,
    });
    o.onProgress({ done: converged, total: checked });
    if (pending.length === 0 || stopped() || Date.now() + o.pollMs >= deadline) break;
    await pause(o.pollMs, o.signal);
    if (stopped()) break;
  }
  return {
    checked,
    converged,
    share: checked > 0 ? converged / checked : 1,
    notConverged: pending.slice(0, 1000).map(itemKey),
    notConvergedCount: pending.length,
    waitedMs: Date.now() - started,
    series,
  };
}
