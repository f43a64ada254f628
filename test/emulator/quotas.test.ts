import { GetThingShadowCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { bytes, sdkClient } from './with-emulator.js';

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as Error).name;
  }
}

describe('quota emulation', () => {
  it('is on by default with AWS large-region values', async () => {
    emulator = await startEmulator();
    expect(emulator.options.quotas).toEqual({
      accountRps: expect.objectContaining({ GetThingShadow: 4000, UpdateThingShadow: 4000, Publish: 4000 }),
      thingRps: 20,
      thingInFlight: 10,
    });
  });

  it('throttles a thing past 20 requests per second with ThrottlingException "Rate exceeded"', async () => {
    emulator = await startEmulator({ quotas: { thingInFlight: 1000 } });
    const client = sdkClient(emulator.url);
    // One burst, so the bucket has no time to refill whatever the machine's load.
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        outcome(
          client.send(
            new UpdateThingShadowCommand({ thingName: 'hot', payload: bytes({ state: { reported: { i } } }) }),
          ),
        ),
      ),
    );
    const elapsed = Date.now() - started;
    const ok = results.filter((r) => r === 'ok').length;
    expect(ok).toBeGreaterThanOrEqual(20);
    expect(ok).toBeLessThanOrEqual(20 + Math.ceil((elapsed / 1000) * 20) + 1);
    expect(results.filter((r) => r !== 'ok').every((r) => r === 'ThrottlingException')).toBe(true);
    // The error's shape, from another burst (a single call could find a token refilled meanwhile).
    const gets = await Promise.all(
      Array.from({ length: 60 }, () =>
        client.send(new GetThingShadowCommand({ thingName: 'hot' })).then(
          () => undefined,
          (err: { name: string; message: string; $metadata?: { httpStatusCode?: number } }) => ({
            name: err.name,
            message: err.message,
            status: err.$metadata?.httpStatusCode,
          }),
        ),
      ),
    );
    expect(gets).toContainEqual({ name: 'ThrottlingException', message: 'Rate exceeded', status: 429 });
    // Another thing has its own budget.
    await expect(client.send(new GetThingShadowCommand({ thingName: 'hot-2' })).catch((err) => err.name)).resolves.toBe(
      'ResourceNotFoundException',
    );
    expect(emulator.stats().operations.UpdateThingShadow.throttled).toBe(40 - ok);
    client.destroy();
  });

  it('throttles a thing with more than 10 requests in flight', async () => {
    // Each request is held 1.5 s, so all 15 are in flight together however slowly they are sent.
    emulator = await startEmulator({ quotas: { thingRps: 1000 }, faults: { latencyMs: 1500 } });
    const client = sdkClient(emulator.url);
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        outcome(
          client.send(
            new UpdateThingShadowCommand({ thingName: 'busy', payload: bytes({ state: { reported: { i } } }) }),
          ),
        ),
      ),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(10);
    expect(results.filter((r) => r === 'ThrottlingException')).toHaveLength(5);
    client.destroy();
  });

  it('throttles each operation at its account rate', async () => {
    emulator = await startEmulator({ quotas: { accountRps: { GetThingShadow: 5 } } });
    const client = sdkClient(emulator.url);
    // 30 at once against 5/s: only a send spread over 5 s could escape throttling.
    const gets = await Promise.all(
      Array.from({ length: 30 }, (_, i) => outcome(client.send(new GetThingShadowCommand({ thingName: `t${i}` })))),
    );
    expect(gets.filter((g) => g === 'ResourceNotFoundException').length).toBeGreaterThanOrEqual(5);
    expect(gets.filter((g) => g === 'ThrottlingException').length).toBeGreaterThanOrEqual(1);
    expect(emulator.stats().operations.GetThingShadow.throttled).toBe(
      gets.filter((g) => g === 'ThrottlingException').length,
    );
    // Updates have their own (default) budget.
    await expect(
      client.send(new UpdateThingShadowCommand({ thingName: 'u', payload: bytes({ state: {} }) })),
    ).resolves.toBeDefined();
    client.destroy();
  });

  it('takes accountRps and thingRps shorthands for every operation', async () => {
    emulator = await startEmulator({ accountRps: 3, thingRps: 2, thingInFlight: 4 });
    expect(emulator.options.quotas!.accountRps.Publish).toBe(3);
    expect(emulator.options.quotas!.thingRps).toBe(2);
    expect(emulator.options.quotas!.thingInFlight).toBe(4);
  });

  it('never throttles with quotas off', async () => {
    emulator = await startEmulator({ quotas: 'off' });
    const client = sdkClient(emulator.url);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        outcome(
          client.send(
            new UpdateThingShadowCommand({ thingName: 'free', payload: bytes({ state: { reported: { i } } }) }),
          ),
        ),
      ),
    );
    expect(results.every((r) => r === 'ok')).toBe(true);
    expect(emulator.stats().totals.throttled).toBe(0);
    client.destroy();
  });
});
