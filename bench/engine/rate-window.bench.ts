/**
 * How close the rate gates hold a run to the configured account rate, with every worker
 * together: GETs (converge-check tasks) through the coordinator against the emulator, the
 * emulator's request counter sampled every 100 ms, and the rate over every 10 s window reported
 * against the limit (goal: within 2%).
 *
 *   RATE=2000 SECONDS=14 WORKERS=2 EMULATOR_QUOTA=0 node --import tsx bench/engine/rate-window.bench.ts
 * EMULATOR_QUOTA=N also turns the emulator's account quota on at N/s (throttles then show up).
 */
import { startEmulator } from '../../src/emulator/index.js';
import { Coordinator } from '../../src/engine/coordinator.js';
import type { TargetItem } from '../../src/engine/task-types.js';

const rate = Number(process.env.RATE ?? 2000);
const seconds = Number(process.env.SECONDS ?? 14);
const workers = Number(process.env.WORKERS ?? 2);
const quota = Number(process.env.EMULATOR_QUOTA ?? 0);

const emulator = await startEmulator({
  port: 0,
  quotas: quota > 0 ? { accountRps: quota, thingRps: 20, thingInFlight: 10 } : 'off',
});
const coord = new Coordinator({
  client: { endpoint: emulator.url, region: 'us-east-1' },
  workers,
  batchSize: 100,
  rates: { accountRps: rate },
});

function* targets(n: number): Generator<TargetItem> {
  for (let i = 0; i < n; i++) yield { thingName: `rw-${i}` };
}

const samples: Array<{ t: number; n: number }> = [];
const timer = setInterval(
  () => samples.push({ t: performance.now(), n: emulator.stats().operations.GetThingShadow.requests }),
  100,
);
const stopAt = performance.now() + seconds * 1000 + 1500; // + pool start
let abortAt = Number.POSITIVE_INFINITY;
setTimeout(() => {
  abortAt = performance.now();
  coord.abort('time is up');
}, stopAt - performance.now()).unref();
const stats = await coord.run('converge-check', {}, targets(rate * (seconds + 5)), () => undefined);
clearInterval(timer);

// Skip the first 1.5 s (threads starting, the initial burst).
const start = samples.findIndex((s) => s.t >= samples[0]!.t + 1500);
const rates: number[] = [];
for (let i = start; i < samples.length; i++) {
  const j = samples.findIndex((s) => s.t >= samples[i]!.t + 10_000);
  if (j < 0 || samples[j]!.t > abortAt) break;
  rates.push(((samples[j]!.n - samples[i]!.n) * 1000) / (samples[j]!.t - samples[i]!.t));
}
const em = emulator.stats().operations.GetThingShadow;
const min = Math.min(...rates);
const max = Math.max(...rates);
console.log(
  JSON.stringify({
    limit: rate,
    workers,
    emulatorQuota: quota || 'off',
    windows: rates.length,
    min10s: Math.round(min),
    max10s: Math.round(max),
    minShare: +(min / rate).toFixed(4),
    maxShare: +(max / rate).toFixed(4),
    requests: em.requests,
    throttled: em.throttled,
    granted: stats.gate.operations.GetThingShadow?.granted,
    gateThrottles: stats.gate.throttles,
    decreases: stats.gate.operations.GetThingShadow?.decreases,
  }),
);
await coord.close();
await emulator.close();
