import { UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { healthShare, parseUnhealthyRule } from '../../src/emulator/device-health.js';
import { resolveEmulatorOptions } from '../../src/emulator/emulator-options.js';
import { ManualClock } from './manual-clock.js';
import { bytes, sdkClient } from './with-emulator.js';

const things = Array.from({ length: 100 }, (_, i) => `pump-${i}`);

describe('simulated device health', () => {
  it('reads KEY=VALUE rules with JSON values where the value is JSON, strings otherwise', () => {
    expect(parseUnhealthyRule('firmware=1.5.0')).toEqual({ path: ['firmware'], value: '1.5.0' });
    expect(parseUnhealthyRule('net.mode=3')).toEqual({ path: ['net', 'mode'], value: 3 });
    expect(parseUnhealthyRule('safe=false')).toEqual({ path: ['safe'], value: false });
    expect(() => parseUnhealthyRule('=1', '--device-unhealthy-when')).toThrow(
      '--device-unhealthy-when must be KEY=VALUE with a desired key path such as firmware or net.mode, got "=1"',
    );
    expect(() => parseUnhealthyRule('firmware')).toThrow('unhealthyWhen must be KEY=VALUE');
  });

  it('validates the health options and names them', () => {
    expect(() => resolveEmulatorOptions({ simulateDevices: { unhealthyShare: 0.3 } })).toThrow(
      'simulateDevices.unhealthyShare needs simulateDevices.unhealthyWhen',
    );
    expect(() => resolveEmulatorOptions({ simulateDevices: { unhealthyWhen: 'fw=1', unhealthyShare: 2 } })).toThrow(
      'simulateDevices.unhealthyShare must be a number from 0 to 1, got 2',
    );
    expect(() => resolveEmulatorOptions({ simulateDevices: { unhealthyWhen: 'fw' } })).toThrow(
      'simulateDevices.unhealthyWhen must be KEY=VALUE',
    );
    const o = resolveEmulatorOptions({ simulateDevices: { unhealthyWhen: 'fw=1.5.0', unhealthyShare: 0.3 } })
      .simulateDevices!;
    expect(o).toMatchObject({
      reportHealth: true,
      unhealthyWhen: { path: ['fw'], value: '1.5.0' },
      unhealthyShare: 0.3,
    });
    expect(resolveEmulatorOptions({ simulateDevices: true }).simulateDevices).toMatchObject({
      reportHealth: false,
      unhealthyWhen: undefined,
    });
  });

  it('makes the chosen share of devices report unhealthy when they take the bad value, and ok again when it is undone', async () => {
    const clock = new ManualClock();
    const emulator = await startEmulator({
      quotas: 'off',
      simulateDevices: { delayMs: 10, clock, unhealthyWhen: 'fw=1.5.0', unhealthyShare: 0.3 },
    });
    const client = sdkClient(emulator.url);
    const setFw = async (fw: string): Promise<void> => {
      for (const thingName of things)
        await client.send(new UpdateThingShadowCommand({ thingName, payload: bytes({ state: { desired: { fw } } }) }));
      clock.advance(10);
    };
    const reported = (t: string) => emulator.store.get(t)!.state.reported as Record<string, unknown>;
    try {
      await setFw('1.4.0');
      for (const t of things) expect(reported(t)).toEqual({ fw: '1.4.0', health: 'ok' });
      await setFw('1.5.0');
      const unhealthy = things.filter((t) => reported(t).health === 'unhealthy');
      for (const t of things) expect(reported(t).fw).toBe('1.5.0');
      expect(unhealthy).toEqual(things.filter((t) => healthShare(t) < 0.3));
      expect(unhealthy.length).toBeGreaterThan(15);
      expect(unhealthy.length).toBeLessThan(45);
      await setFw('1.4.0');
      for (const t of things) expect(reported(t)).toEqual({ fw: '1.4.0', health: 'ok' });
    } finally {
      client.destroy();
      await emulator.close();
    }
  });

  it('reports no health field unless asked to', async () => {
    const clock = new ManualClock();
    const emulator = await startEmulator({ quotas: 'off', simulateDevices: { delayMs: 10, clock } });
    const client = sdkClient(emulator.url);
    try {
      await client.send(
        new UpdateThingShadowCommand({ thingName: 'plain', payload: bytes({ state: { desired: { fw: '1.5.0' } } }) }),
      );
      clock.advance(10);
      expect(emulator.store.get('plain')!.state.reported).toEqual({ fw: '1.5.0' });
    } finally {
      client.destroy();
      await emulator.close();
    }
  });

  it('reports the desired health value itself when desired has a health key', async () => {
    const clock = new ManualClock();
    const emulator = await startEmulator({
      quotas: 'off',
      simulateDevices: { delayMs: 10, clock, reportHealth: true },
    });
    const client = sdkClient(emulator.url);
    try {
      await client.send(
        new UpdateThingShadowCommand({
          thingName: 'odd',
          payload: bytes({ state: { desired: { health: 'maintenance' } } }),
        }),
      );
      clock.advance(10);
      expect(emulator.store.get('odd')!.state.reported).toEqual({ health: 'maintenance' });
    } finally {
      client.destroy();
      await emulator.close();
    }
  });
});
