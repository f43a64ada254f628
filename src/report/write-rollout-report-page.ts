import { latencyFromOutcomeFile } from './latency-from-outcome-file.js';
import type { RolloutReportInput } from './rollout-report-input.js';
import { rolloutReportModel, type RolloutReportModelOptions } from './rollout-report-model.js';
import { writeReportPage } from './write-report-page.js';

/**
 * Writes the report page of a finished rollout. When the rollout wrote a per-thing outcome
 * file (`report`), the latency distribution is read back from it (streamed); else the page shows
 * the summary's percentiles only. Returns the absolute path written.
 */
export async function writeRolloutReportPage(
  path: string,
  result: RolloutReportInput,
  options: RolloutReportModelOptions = {},
): Promise<string> {
  const o = { ...options };
  if (o.latency === undefined && result.report !== undefined) {
    const latency = await latencyFromOutcomeFile(result.report).catch(() => undefined);
    if (latency !== undefined && latency.count > 0) o.latency = latency;
  }
  return writeReportPage(path, rolloutReportModel(result, o));
}
