import { describe, expect, test } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { Coordinator } from '../../src/engine/coordinator.js';
import type { RolloutTaskConfig, TargetItem } from '../../src/engine/task-types.js';

/** Waits for `check` to hold; fails naming what it waited for after `ms` instead of hanging. */
async function waitUntil(check: () => boolean, what: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('rate gates against the emulator with quotas on', () => {
  test('two workers together stay under the account quota: few throttles, and the emulator never counts more requests than the gate granted', async () => {
    const rps = 200;
    const emulator = await startEmulator({ port: 0, quotas: { accountRps: rps, thingRps: 20, thingInFlight: 10 } });
    const coord = new Coordinator({
      client: { endpoint: emulator.url, region: 'us-east-1', maxAttempts: 5, baseDelayMs: 20 },
      workers: 2,
      batchSize: 20,
      rates: { accountRps: rps },
    });
    try {
      const items: TargetItem[] = Array.from({ length: 400 }, (_, i) => ({ thingName: `q-${i}` }));
      const stats = await coord.run<RolloutTaskConfig>('rollout', { desired: { fw: '2' } }, items, () => undefined);
      const em = emulator.stats();
      const gate = stats.gate.operations;
      expect(stats.byOutcome).toEqual({ written: 400 });
      for (const op of ['GetThingShadow', 'UpdateThingShadow'] as const) {
        expect(em.operations[op].requests).toBeLessThanOrEqual(gate[op]!.granted);
      }
      const requests = em.operations.GetThingShadow.requests + em.operations.UpdateThingShadow.requests;
      const throttled = em.operations.GetThingShadow.throttled + em.operations.UpdateThingShadow.throttled;
      expect(throttled / requests).toBeLessThan(0.05);
      expect(stats.throttles).toBe(throttled); // every throttle is counted per item
      const secs = stats.elapsedMs / 1000;
      console.log(
        `quota ${rps}/s per op: GET ${(em.operations.GetThingShadow.requests / secs).toFixed(0)}/s, UPDATE ${(em.operations.UpdateThingShadow.requests / secs).toFixed(0)}/s over ${secs.toFixed(2)} s (incl. pool start), throttled ${throttled}/${requests}`,
      );
    } finally {
      await coord.close();
      await emulator.close();
    }
  });

  test('a gate set above the real quota is throttled, slows down multiplicatively, counts every throttle, and every thing is still read', async () => {
    const emulator = await startEmulator({ port: 0, quotas: { accountRps: 30, thingRps: 20, thingInFlight: 10 } });
    const coord = new Coordinator({
      client: { endpoint: emulator.url, region: 'us-east-1', maxAttempts: 8, baseDelayMs: 20, maxDelayMs: 200 },
      workers: 2,
      batchSize: 20,
      rates: { accountRps: 1000 },
    });
    try {
      const items: TargetItem[] = Array.from({ length: 100 }, (_, i) => ({ thingName: `over-${i}` }));
      const stats = await coord.run('converge-check', {}, items, () => undefined);
      const em = emulator.stats().operations.GetThingShadow;
      expect(em.throttled).toBeGreaterThan(0);
      expect(stats.throttles).toBe(em.throttled);
      // Throttle reports reach the coordinator over the gate port, possibly just after the results
      // (each is posted before its batch's results, so only delivery is left): every one arrives.
      await waitUntil(
        () => coord.stats().gate.throttles >= em.throttled,
        () => `every throttle report at the gate: ${coord.stats().gate.throttles} of ${em.throttled}`,
      );
      expect(coord.stats().gate.throttles).toBe(em.throttled);
      expect(stats.gate.operations.GetThingShadow!.decreases).toBeGreaterThan(0);
      expect(stats.gate.operations.GetThingShadow!.currentRps).toBeLessThan(1000);
      expect((stats.byOutcome['no-shadow'] ?? 0) + (stats.byOutcome.failed ?? 0)).toBe(100);
    } finally {
      await coord.close();
      await emulator.close();
    }
  });

  test('many shadows of one thing in one batch stay within the per-thing limit (20/s, 10 in flight): no per-thing throttles', async () => {
    const emulator = await startEmulator({ port: 0, quotas: { accountRps: 10_000, thingRps: 20, thingInFlight: 10 } });
    const coord = new Coordinator({
      client: { endpoint: emulator.url, region: 'us-east-1', maxAttempts: 1 },
      workers: 1,
      batchSize: 30,
      rates: { accountRps: 'off' },
    });
    try {
      const items: TargetItem[] = Array.from({ length: 30 }, (_, i) => ({
        thingName: 'one-thing',
        shadowName: `s${i}`,
      }));
      const stats = await coord.run<RolloutTaskConfig>(
        'rollout',
        { desired: { a: 1 }, dryRun: true },
        items,
        () => undefined,
      );
      expect(stats.byOutcome).toEqual({ 'would-write': 30 });
      expect(emulator.stats().operations.GetThingShadow).toMatchObject({ requests: 30, throttled: 0 });
    } finally {
      await coord.close();
      await emulator.close();
    }
  });
});
