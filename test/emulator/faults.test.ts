import { GetThingShadowCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { bytes, sdkClient } from './with-emulator.js';

async function run(options: EmulatorOptions, n: number): Promise<string[]> {
  const emulator = await startEmulator({ quotas: 'off', ...options });
  const client = sdkClient(emulator.url);
  const out: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      try {
        await client.send(
          new UpdateThingShadowCommand({ thingName: `f${i}`, payload: bytes({ state: { reported: { i } } }) }),
        );
        out.push('ok');
      } catch (err) {
        const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
        out.push(e.$metadata?.httpStatusCode ? `${e.$metadata.httpStatusCode} ${e.name}` : 'reset');
      }
    }
    const stats = emulator.stats();
    expect(stats.operations.UpdateThingShadow.faults).toBe(out.filter((o) => o !== 'ok').length);
  } finally {
    client.destroy();
    await emulator.close();
  }
  return out;
}

describe('fault injection', () => {
  it('answers the same faults for the same seed and request order', async () => {
    const a = await run({ faults: { rate: 0.4, seed: 7 } }, 30);
    const b = await run({ faults: { rate: 0.4, seed: 7 } }, 30);
    expect(a).toEqual(b);
    expect(a).toContain('ok');
    expect(a.some((o) => o !== 'ok')).toBe(true);
    const c = await run({ faults: { rate: 0.4, seed: 8 } }, 30);
    expect(c).not.toEqual(a);
  });

  it('spreads faults over 500, 503 and connection resets', async () => {
    const out = await run({ faults: { rate: 1, seed: 3 } }, 30);
    expect(new Set(out)).toEqual(new Set(['500 InternalFailureException', '503 ServiceUnavailableException', 'reset']));
  });

  it('answers injected throttles as 429 ThrottlingException, counted as throttled and not as faults', async () => {
    const emulator = await startEmulator({
      quotas: 'off',
      faults: { rate: 1, seed: 5, kinds: { internalError: 0, unavailable: 0, reset: 0, throttled: 1 } },
    });
    const client = sdkClient(emulator.url, { maxAttempts: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        const e = await client
          .send(new UpdateThingShadowCommand({ thingName: `t${i}`, payload: bytes({ state: {} }) }))
          .catch((err) => err);
        expect(e.name).toBe('ThrottlingException');
        expect(e.$metadata.httpStatusCode).toBe(429);
      }
      expect(emulator.stats().operations.UpdateThingShadow.throttled).toBe(3);
      expect(emulator.stats().operations.UpdateThingShadow.faults).toBe(0);
      expect(emulator.store.shadowCount).toBe(0);
    } finally {
      client.destroy();
      await emulator.close();
    }
  });

  it('can be limited to one kind and one operation', async () => {
    const emulator = await startEmulator({
      quotas: 'off',
      faults: {
        seed: 1,
        kinds: { unavailable: 1, internalError: 0, reset: 0 },
        perOperation: { GetThingShadow: { rate: 1 } },
      },
    });
    const client = sdkClient(emulator.url);
    await client.send(new UpdateThingShadowCommand({ thingName: 'p', payload: bytes({ state: {} }) }));
    const e = await client.send(new GetThingShadowCommand({ thingName: 'p' })).catch((err) => err);
    expect(e.name).toBe('ServiceUnavailableException');
    expect(e.$metadata.httpStatusCode).toBe(503);
    expect(emulator.stats().operations.GetThingShadow.faults).toBe(1);
    expect(emulator.stats().operations.UpdateThingShadow.faults).toBe(0);
    client.destroy();
    await emulator.close();
  });

  it('adds latency to every request of an operation', async () => {
    const emulator = await startEmulator({
      quotas: 'off',
      faults: { perOperation: { UpdateThingShadow: { latencyMs: 120 } } },
    });
    const client = sdkClient(emulator.url);
    const t0 = performance.now();
    await client.send(new UpdateThingShadowCommand({ thingName: 'slow', payload: bytes({ state: {} }) }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
    client.destroy();
    await emulator.close();
  });

  it('lets the SDK retry its way through transient faults', async () => {
    const emulator = await startEmulator({
      quotas: 'off',
      faults: { rate: 0.3, seed: 11, kinds: { internalError: 1, unavailable: 1, reset: 0 } },
    });
    const client = sdkClient(emulator.url, { maxAttempts: 10 });
    for (let i = 0; i < 10; i++)
      await client.send(new UpdateThingShadowCommand({ thingName: `r${i}`, payload: bytes({ state: {} }) }));
    expect(emulator.store.shadowCount).toBe(10);
    client.destroy();
    await emulator.close();
  });
});
