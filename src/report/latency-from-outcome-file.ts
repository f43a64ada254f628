import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { LatencyHistogram, type LatencyReport } from './latency-histogram.js';

/**
 * Reads a rollout's per-thing outcome file (NDJSON lines with `latencyMs`, as `rollout --report`
 * writes it) as a stream and returns the latency distribution of its things.
 */
export async function latencyFromOutcomeFile(path: string): Promise<LatencyReport> {
  const h = new LatencyHistogram();
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    try {
      const v = (JSON.parse(line) as { latencyMs?: unknown }).latencyMs;
      if (typeof v === 'number') h.record(v);
    } catch {
      // a torn last line of an interrupted run: skip it
    }
  }
  return h.report();
}
