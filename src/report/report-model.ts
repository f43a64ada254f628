/**
 * What a report page shows, as plain JSON-safe data. Benchmarks, rollouts and the demo build
 * one of these; `renderReportPage` turns it into a self-contained HTML file.
 */
import type { LatencyReport } from './latency-histogram.js';

export type ReportValue = string | number | boolean | null;

/** One line of the summary table. */
export interface ReportRow {
  label: string;
  value: ReportValue;
  /** Shown in a lighter font beside the value (a unit, a goal, a comparison). */
  note?: string;
}

/** One sample of the time series: counts per second over the interval ending at `t`. */
export interface TimelinePoint {
  /** Seconds since the start of the run (end of the interval). */
  t: number;
  /** Completed operations (or things) per second. */
  rate: number;
  /** 429 ThrottlingException answers per second. */
  throttles: number;
  /** Failed operations (or things) per second. */
  errors?: number;
  /** The configured rate limit at that moment, when there is one (ramps show as steps). */
  limit?: number;
  /** `rate` split by type (e.g. by operation), drawn as thin lines when there are several. */
  byType?: Record<string, number>;
}

export interface ReportTimeline {
  /** What `rate` counts, e.g. "ops/s" or "things/s". */
  rateLabel?: string;
  /** Legend of the `limit` line, e.g. "target rate". Default "rate limit". */
  limitLabel?: string;
  points: TimelinePoint[];
}

/** One sample of convergence: how many targets report the goal at `t` seconds. */
export interface ConvergencePoint {
  t: number;
  converged: number;
}

export interface ReportConvergence {
  total: number;
  points: ConvergencePoint[];
}

/** One wave of a progressive rollout and its gate. Shares are percentages (0-100). */
export interface ReportWave {
  label: string;
  /** Targets the wave finished, and the things it wrote. */
  targets: number;
  written: number;
  /** The wave did not run (an earlier gate failed, or the run stopped). */
  skipped?: boolean;
  gate?: {
    converged?: number;
    healthy?: number;
    withinMs: number;
    verdict: 'pass' | 'fail' | 'wait';
    reason: string;
    /** Converged and healthy shares of the wave's written things after each round of re-reads. */
    points: Array<{ t: number; converged: number; healthy: number }>;
  };
}

/** A free table (e.g. a benchmark suite's scenarios and ratios). */
export interface ReportTable {
  title: string;
  columns: string[];
  rows: ReportValue[][];
}

export interface ReportModel {
  /** 'bench', 'rollout', 'demo', ...: shown as a badge and set as data-kind on the page. */
  kind: string;
  title: string;
  subtitle?: string;
  /** ISO time the report was made; the page shows it as written. */
  generatedAt?: string;
  summary: ReportRow[];
  timeline?: ReportTimeline;
  latency?: LatencyReport;
  /** Counts by outcome (written, unchanged, failed, ...), or by operation type for a benchmark. */
  outcomes?: Record<string, number>;
  /** Title of the outcomes chart; default "Outcomes by type". */
  outcomesTitle?: string;
  /** Failures by AWS error name (ThrottlingException, ConflictException, ...). */
  errors?: Record<string, number>;
  convergence?: ReportConvergence;
  /** The waves of a progressive rollout, in order. */
  waves?: ReportWave[];
  tables?: ReportTable[];
  notes?: string[];
}
