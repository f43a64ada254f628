/**
 * Things per second of a rollout through the engine (GET + diff + UPDATE per thing), quotas and
 * gates off, against the in-process emulator. Informational; the full race against the SDK +
 * p-limit baseline is the rollout benchmark.
 *
 *   THINGS=5000 WORKERS=2 node --import tsx bench/engine/rollout-throughput.bench.ts
 */
import { startEmulator } from '../../src/emulator/index.js';
import { Coordinator } from '../../src/engine/coordinator.js';
import type { RolloutTaskConfig, TargetItem } from '../../src/engine/task-types.js';

const n = Number(process.env.THINGS ?? 5000);
const workers = Number(process.env.WORKERS ?? 2);
const emulator = await startEmulator({ port: 0, quotas: 'off' });
const coord = new Coordinator({
  client: { endpoint: emulator.url, region: 'us-east-1' },
  workers,
  batchSize: 100,
  rates: 'off',
});
function* targets(): Generator<TargetItem> {
  for (let i = 0; i < n; i++) yield { thingName: `tp-${i}` };
}
// Warm the pool (thread start, tsx) outside the measurement.
await coord.run<RolloutTaskConfig>(
  'rollout',
  { desired: { warm: 1 }, dryRun: true },
  [{ thingName: 'warm' }],
  () => undefined,
);
const t0 = performance.now();
const stats = await coord.run<RolloutTaskConfig>(
  'rollout',
  { desired: { fw: '2.0', cfg: { level: 3 } } },
  targets(),
  () => undefined,
);
const secs = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    things: n,
    workers,
    seconds: +secs.toFixed(2),
    thingsPerSecond: Math.round(n / secs),
    requestsPerSecond: Math.round(stats.requests / secs),
    byOutcome: stats.byOutcome,
  }),
);
await coord.close();
await emulator.close();
