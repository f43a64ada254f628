import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IotDataClient } from '../../src/client/index.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { HandlerContext, WorkerGate } from '../../src/engine/task-types.js';
import type { WaveCheckTaskConfig } from '../../src/engine/wave-task-types.js';
import { healthShare } from '../../src/emulator/device-health.js';
import waveCheck from '../../workers/handlers/wave-check.js';
import { ManualClock } from '../emulator/manual-clock.js';

/** The handlers run in this thread, their client straight at the emulator (no rate gates). */
const openGate: WorkerGate = {
  acquire: async () => {},
  release: () => {},
  takeUsage: () => ({ requests: 0, throttles: 0 }),
};
const ctxOf = <C>(client: IotDataClient, config: C): HandlerContext<C> => ({ client, config, gate: openGate });

describe('the wave-check handler against the emulator', () => {
  let emulator: Emulator;
  let client: IotDataClient;
  const clock = new ManualClock();
  beforeAll(async () => {
    emulator = await startEmulator({
      quotas: 'off',
      simulateDevices: { delayMs: 10, clock, unhealthyWhen: 'fw=1.5.0', unhealthyShare: 0.5 },
    });
    client = new IotDataClient({ endpoint: emulator.url, region: 'us-east-1' });
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  it('observes convergence on the keys written and health by the expression', async () => {
    const things = Array.from({ length: 12 }, (_, i) => `wc-${i}`);
    for (const t of things)
      await client.updateThingShadow({
        thingName: t,
        payload: { state: { desired: { fw: '1.4.0' }, reported: { fw: '1.4.0', health: 'ok' } } },
      });
    const update = { fw: '1.5.0' };
    for (const t of things) await client.updateThingShadow({ thingName: t, payload: { state: { desired: update } } });
    const config: WaveCheckTaskConfig = { desired: update, health: 'reported.health == "ok"' };
    const before = await waveCheck(
      things.map((thingName) => ({ thingName })),
      ctxOf(client, config),
    );
    expect(before.map((r) => r.outcome)).toEqual(things.map(() => 'not-converged'));
    clock.advance(10);
    const after = await waveCheck(
      things.map((thingName) => ({ thingName })),
      ctxOf(client, config),
    );
    expect(after.map((r) => r.outcome)).toEqual(things.map(() => 'converged'));
    expect(after.map((r) => (r.detail as { healthy: boolean }).healthy)).toEqual(
      things.map((t) => !(healthShare(t) < 0.5)),
    );
    // both kinds are present, so the check can tell them apart
    expect(new Set(after.map((r) => (r.detail as { healthy: boolean }).healthy))).toEqual(new Set([true, false]));
  });
});
