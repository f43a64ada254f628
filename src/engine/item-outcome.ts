/**
 * The outcomes a task handler gives an item, as one string-literal union, so a tally, a report
 * or an abort criterion that names an outcome is checked by the compiler.
 */
export const ITEM_OUTCOMES = Object.freeze([
  // guarded writes (rollout, restore; later sync and apply)
  'written',
  'rebased',
  'unchanged',
  'would-write',
  'skipped',
  'invalid',
  'too-large',
  'conflict',
  // rollbacks from an undo record
  'rolled-back',
  'kept',
  // a where-wave's condition does not hold: the thing waits for a later wave
  'not-in-wave',
  // the job's where condition does not hold on the shadow just read: nothing written
  'skipped-condition',
  // reads (snapshot)
  'read',
  'no-shadows',
  'partial',
  // convergence checks
  'converged',
  'not-converged',
  'no-shadow',
  // single operations (bench)
  'ok',
  'throttled',
  'not-found',
  // any task
  'failed',
] as const);

/** What happened to one item of a bulk run. */
export type ItemOutcome = (typeof ITEM_OUTCOMES)[number];

/** Counts per outcome (outcomes never seen are absent). */
export type OutcomeCounts = Partial<Record<ItemOutcome, number>>;

const KNOWN = new Set<string>(ITEM_OUTCOMES);

/** True when `v` is one of ITEM_OUTCOMES (for results read back from a journal or another host). */
export function isItemOutcome(v: unknown): v is ItemOutcome {
  return typeof v === 'string' && KNOWN.has(v);
}
