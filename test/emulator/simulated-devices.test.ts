import { GetThingShadowCommand, PublishCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { ManualClock } from './manual-clock.js';
import { bytes, json, sdkClient, waitFor } from './with-emulator.js';

describe('simulated devices', () => {
  it('report the desired values after the delay, leaving no delta', async () => {
    const emulator = await startEmulator({ quotas: 'off', simulateDevices: { delayMs: 20 } });
    const client = sdkClient(emulator.url);
    try {
      await client.send(
        new UpdateThingShadowCommand({
          thingName: 'dev-1',
          payload: bytes({
            state: { desired: { fw: '2.0', cfg: { a: 1 } }, reported: { fw: '1.0', cfg: { a: 1, b: 2 } } },
          }),
        }),
      );
      let doc: any;
      await waitFor(async () => {
        doc = json((await client.send(new GetThingShadowCommand({ thingName: 'dev-1' }))).payload);
        return doc.state.delta === undefined;
      });
      expect(doc.state.reported).toEqual({ fw: '2.0', cfg: { a: 1, b: 2 } });
      expect(doc.version).toBe(2);
      expect(emulator.stats().deviceReports).toBe(1);
    } finally {
      client.destroy();
      await emulator.close();
    }
  });

  it('answer named shadows and shadow-topic publishes too, once per pending delta', async () => {
    // The devices' clock stands still until advanced: both updates land while the first report
    // is pending, however slow the machine.
    const clock = new ManualClock();
    const emulator = await startEmulator({ quotas: 'off', simulateDevices: { delayMs: 20, clock } });
    const client = sdkClient(emulator.url);
    try {
      await client.send(
        new UpdateThingShadowCommand({
          thingName: 'dev-2',
          shadowName: 'cfg',
          payload: bytes({ state: { desired: { x: 1 } } }),
        }),
      );
      await client.send(
        new PublishCommand({
          topic: '$aws/things/dev-2/shadow/name/cfg/update',
          payload: bytes({ state: { desired: { y: 2 } } }),
        }),
      );
      expect(emulator.devices!.pendingCount).toBe(1);
      clock.advance(20);
      expect(emulator.devices!.pendingCount).toBe(0);
      expect(emulator.store.get('dev-2', 'cfg')!.state.delta).toBeUndefined();
      expect(emulator.store.get('dev-2', 'cfg')!.state.reported).toEqual({ x: 1, y: 2 });
      expect(emulator.stats().deviceReports).toBe(1);
    } finally {
      client.destroy();
      await emulator.close();
    }
  });

  it('leave a silent share that never answers', async () => {
    const emulator = await startEmulator({ quotas: 'off', simulateDevices: { delayMs: 20, silentShare: 1 } });
    const client = sdkClient(emulator.url);
    try {
      await client.send(
        new UpdateThingShadowCommand({ thingName: 'mute', payload: bytes({ state: { desired: { a: 1 } } }) }),
      );
      expect(emulator.devices!.isSilent('mute', undefined)).toBe(true);
      expect(emulator.devices!.pendingCount).toBe(0);
    } finally {
      client.destroy();
      await emulator.close();
    }
  });

  it('pick the silent devices by a stable hash of their names', async () => {
    const emulator = await startEmulator({ quotas: 'off', simulateDevices: { silentShare: 0.3 } });
    const names = Array.from({ length: 2000 }, (_, i) => `thing-${i}`);
    const silent = names.filter((n) => emulator.devices!.isSilent(n, undefined)).length;
    expect(silent / names.length).toBeGreaterThan(0.25);
    expect(silent / names.length).toBeLessThan(0.35);
    expect(names.map((n) => emulator.devices!.isSilent(n, undefined))).toEqual(
      names.map((n) => emulator.devices!.isSilent(n, undefined)),
    );
    await emulator.close();
  });

  it('spread the silent share evenly over names that differ only in a trailing digit', async () => {
    const emulator = await startEmulator({ quotas: 'off', simulateDevices: { silentShare: 0.3 } });
    const names = Array.from({ length: 40 }, (_, i) => `cv-${i}`);
    const silent = names.filter((n) => emulator.devices!.isSilent(n, undefined)).length;
    expect(silent).toBeGreaterThan(4);
    expect(silent).toBeLessThan(20);
    await emulator.close();
  });
});
