/**
 * Your own vitest tests, against a real HTTP IoT Data Plane on 127.0.0.1 instead of mocks:
 * one emulator per file, started on a free port and closed at the end.
 */
import { IoTDataPlaneClient, GetThingShadowCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { startEmulator, type Emulator } from 'shadowfleet/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setSampleRate } from './device-config.js';

let emulator: Emulator;
let client: IoTDataPlaneClient;

beforeAll(async () => {
  // quotas off: tests are not rate limited; simulated devices answer deltas after 50 ms.
  emulator = await startEmulator({ port: 0, quotas: 'off', simulateDevices: { delayMs: 50 } });
  client = new IoTDataPlaneClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, // any signature is accepted by default
  });
});

afterAll(async () => {
  client?.destroy();
  await emulator?.close();
});

beforeEach(() => {
  emulator.store.clear(); // each test starts from an empty fleet
});

const decode = (bytes: Uint8Array | undefined): { state: Record<string, Record<string, unknown>>; version: number } =>
  JSON.parse(new TextDecoder().decode(bytes));

describe('setSampleRate', () => {
  it('creates the shadow of a new device with the desired rate', async () => {
    expect(await setSampleRate(client, 'pump-1', 5)).toBe(true);
    const doc = decode((await client.send(new GetThingShadowCommand({ thingName: 'pump-1' }))).payload);
    expect(doc.state.desired).toEqual({ sampleRateHz: 5 });
  });

  it('does not write when the device already has the rate', async () => {
    await setSampleRate(client, 'pump-2', 5);
    const before = emulator.stats().operations.UpdateThingShadow.requests;
    expect(await setSampleRate(client, 'pump-2', 5)).toBe(false);
    expect(emulator.stats().operations.UpdateThingShadow.requests).toBe(before);
  });

  it('fails with ConflictException when someone else wrote in between, as AWS does', async () => {
    await client.send(
      new UpdateThingShadowCommand({
        thingName: 'pump-3',
        payload: new TextEncoder().encode('{"state":{"desired":{"sampleRateHz":1}}}'),
      }),
    );
    const stale = JSON.stringify({ state: { desired: { sampleRateHz: 2 } }, version: 99 });
    await expect(
      client.send(new UpdateThingShadowCommand({ thingName: 'pump-3', payload: new TextEncoder().encode(stale) })),
    ).rejects.toMatchObject({ name: 'ConflictException' });
  });

  it('sees the simulated device report the new rate', async () => {
    await setSampleRate(client, 'pump-4', 10);
    await expect
      .poll(
        async () =>
          decode((await client.send(new GetThingShadowCommand({ thingName: 'pump-4' }))).payload).state.reported,
        // Bounds a hang only: the device answers in 50 ms, but a busy machine can take seconds.
        { timeout: 30_000, interval: 50 },
      )
      .toEqual({ sampleRateHz: 10 });
  });
});

describe('under AWS quotas', () => {
  it('surfaces ThrottlingException when a thing gets more than its quota', async () => {
    const strict = await startEmulator({ port: 0, quotas: { accountRps: 5 } });
    const c = new IoTDataPlaneClient({
      endpoint: strict.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    try {
      const calls = Array.from({ length: 20 }, (_, i) =>
        c.send(
          new UpdateThingShadowCommand({
            thingName: `valve-${i}`,
            payload: new TextEncoder().encode('{"state":{"desired":{"open":true}}}'),
          }),
        ),
      );
      const results = await Promise.allSettled(calls);
      const throttled = results.filter(
        (r) => r.status === 'rejected' && (r.reason as { name?: string }).name === 'ThrottlingException',
      );
      expect(throttled.length).toBeGreaterThan(0);
    } finally {
      c.destroy();
      await strict.close();
    }
  });
});
