import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  DEFAULT_EMULATOR_OPTIONS,
  resolveEmulatorOptions,
  seededThingName,
  startEmulator,
} from '../../src/emulator/index.js';

describe('emulator options', () => {
  it('keeps its defaults frozen', () => {
    expect(Object.isFrozen(DEFAULT_EMULATOR_OPTIONS)).toBe(true);
    const o = resolveEmulatorOptions();
    expect(o.host).toBe('127.0.0.1');
    expect(o.port).toBe(0);
    expect(o.simulateDevices).toBeUndefined();
    expect(o.sigv4).toBeUndefined();
  });

  it.each([
    [{ port: 70000 }, 'port must be an integer from 0 to 65535, got 70000'],
    [{ quotas: 'some' as never }, "quotas must be 'aws', 'off' or an object, got some"],
    [{ faults: { rate: 2 } }, 'faults.rate must be a number from 0 to 1, got 2'],
    [{ simulateDevices: { silentShare: -1 } }, 'simulateDevices.silentShare must be a number from 0 to 1, got -1'],
    [{ thingRps: 0 }, 'thingRps must be a number from 0.001 to 1000000000, got 0'],
    [{ sigv4: { credentials: [] } }, 'sigv4.credentials must be a non-empty array'],
    [{ limits: { maxDepth: 0 } }, 'limits.maxDepth: expected a positive integer, got 0'],
    [
      { faults: { perOperation: { Nope: { rate: 1 } } as never } },
      "faults.perOperation has an unknown operation 'Nope'",
    ],
  ])('rejects %j naming the option', (options, message) => {
    expect(() => resolveEmulatorOptions(options)).toThrow(new InvalidArgumentError(message));
  });

  it('seeds things with realistic classic and named shadows', async () => {
    const emulator = await startEmulator({ seedThings: 9, quotas: 'off' });
    try {
      const stats = emulator.stats();
      expect(stats.things).toBe(9);
      expect(stats.shadows).toBe(9 + 9 + 3);
      const doc = emulator.store.get(seededThingName(0))!;
      expect(doc.state.desired).toHaveProperty('telemetry');
      expect(doc.state.reported).toHaveProperty('battery');
      const size = JSON.stringify(doc.state.desired).length + JSON.stringify(doc.state.reported).length;
      expect(size).toBeGreaterThan(300);
      expect(size).toBeLessThan(1000);
      expect(emulator.store.namedShadows(seededThingName(0))).toEqual(['config', 'firmware']);
      expect(emulator.store.namedShadows(seededThingName(1))).toEqual(['config']);
    } finally {
      await emulator.close();
    }
  });

  it('listens on the port it was given and reports its URL', async () => {
    const emulator = await startEmulator({ quotas: 'off' });
    expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`);
    expect(emulator.port).toBeGreaterThan(0);
    await emulator.close();
    await emulator.close();
  });
});
