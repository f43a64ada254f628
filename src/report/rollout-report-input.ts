/**
 * What the rollout report page reads from a finished rollout: a structural type of the report
 * layer, so the page does not depend on the rollout job above it. A `RolloutResult` satisfies
 * it as it is (and so does any object with these fields); the page needs nothing else.
 */

/** One second of the write phase. */
export interface RolloutReportSecond {
  second: number;
  done: number;
  failed: number;
  throttles: number;
  /** The rate limit in force at the end of that second (ramps), requests/s per operation. */
  rate?: number;
}

/** The write phase's figures. */
export interface RolloutReportSummary {
  things: number;
  /** Of `things`, those finished by an earlier run. */
  resumed: number;
  byOutcome: Record<string, number>;
  byError: Record<string, number>;
  failed: number;
  elapsedMs: number;
  thingsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  retries: number;
  requests: number;
  throttles: number;
  bytesSent: number;
  wholeBytes: number;
  sentShare: number;
  billedOperations: number;
  series: RolloutReportSecond[];
}

/** The convergence checks after the write phase. */
export interface RolloutReportConvergence {
  checked: number;
  converged: number;
  share: number;
  waitedMs: number;
  series: Array<{ elapsedMs: number; converged: number }>;
}

/** A gate's decision as the page shows it. */
export interface RolloutReportGateDecision {
  verdict: 'pass' | 'fail' | 'wait';
  reason: string;
  /** Things the wave wrote (the denominator of the shares). */
  things: number;
}

/** One wave of a progressive rollout. Gate shares are fractions (0-1). */
export interface RolloutReportWave {
  label: string;
  targets: number;
  written: number;
  skipped?: boolean;
  gate?: {
    converged?: number;
    healthy?: number;
    withinMs: number;
    decision: RolloutReportGateDecision;
    series: Array<{ elapsedMs: number; converged: number; healthy: number }>;
  };
}

/** A dry run's plan. */
export interface RolloutReportPlan {
  wouldWrite: number;
  unchanged: number;
  skipped: number;
  tooLarge: number;
  invalid: number;
  failed: number;
  bytesToSend: number;
  billedOperations: number;
  estimatedSeconds: number;
}

/** A finished rollout, as far as its report page is concerned. */
export interface RolloutReportInput {
  dryRun: boolean;
  interrupted: boolean;
  aborted?: { reason: string };
  summary: RolloutReportSummary;
  plan?: RolloutReportPlan;
  convergence?: RolloutReportConvergence;
  waves?: RolloutReportWave[];
  gateFailure?: { wave: number; label: string; action: 'rollback' | 'stop'; decision: { reason: string } };
  rollback?: { things: number; rolledBack: number; keptKeyCount: number };
  /** The per-thing outcome file (NDJSON), read back for the latency distribution. */
  report?: string;
  startedAt: string;
  endedAt: string;
}
