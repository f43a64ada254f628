/**
 * The memory scenario's rollout process: streams N target names from a file through a rollout
 * and prints one JSON line with the result and the peak RSS of this process (threads included).
 * `node --import tsx bench/rollout/memory-child.ts '<{"endpoint","things","dryRun"}>'`
 */
import { runRollout } from '../../src/jobs/rollout/rollout.js';
import type { JsonObject } from '../../src/shadow/index.js';

const o = JSON.parse(process.argv[2] ?? '{}') as {
  endpoint: string;
  things: string;
  dryRun?: boolean;
  workers?: number;
  desired?: JsonObject;
};
let peakSampled = 0;
const sampler = setInterval(() => {
  peakSampled = Math.max(peakSampled, process.memoryUsage.rss());
}, 200);
const started = Date.now();
const result = await runRollout({
  endpoint: o.endpoint,
  targets: o.things,
  desired: o.desired ?? { firmware: '9.9.9' },
  dryRun: o.dryRun ?? true,
  rate: 'off',
  yes: true,
  workers: o.workers ?? 2,
});
clearInterval(sampler);
const maxRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(
  JSON.stringify({
    things: result.summary.things,
    byOutcome: result.summary.byOutcome,
    elapsedMs: Date.now() - started,
    thingsPerSecond: result.summary.thingsPerSecond,
    peakRssBytes: Math.max(maxRssBytes, peakSampled),
    heapUsedBytes: process.memoryUsage().heapUsed,
  }) + '\n',
);
