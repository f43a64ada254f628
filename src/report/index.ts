/**
 * Report pages: one self-contained HTML file per run (benchmarks, rollouts, the demo).
 */
export { renderReportPage, formatValue } from './render-report-page.js';
export { writeReportPage } from './write-report-page.js';
export { escapeHtml } from './escape-html.js';
export { LatencyHistogram, type LatencySummary, type LatencyBucket, type LatencyReport } from './latency-histogram.js';
export type {
  ReportModel,
  ReportRow,
  ReportValue,
  ReportTimeline,
  TimelinePoint,
  ReportConvergence,
  ConvergencePoint,
  ReportTable,
} from './report-model.js';
export { rolloutReportModel, type RolloutReportModelOptions } from './rollout-report-model.js';
export type { RolloutReportInput } from './rollout-report-input.js';
export { latencyFromOutcomeFile } from './latency-from-outcome-file.js';
export { writeRolloutReportPage } from './write-rollout-report-page.js';
