import { afterEach, describe, expect, test, vi } from 'vitest';
import { AimdRate } from '../../src/engine/aimd-rate.js';
import { BottleneckRateGate } from '../../src/engine/bottleneck-rate-gate.js';
import { defaultPermitBatch, resolveRateGateOptions } from '../../src/engine/rate-gate.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('resolveRateGateOptions', () => {
  test('defaults gate Get, Update and Delete at 4000/s and each thing at 20/s with 10 in flight', () => {
    const o = resolveRateGateOptions(undefined);
    expect(o.rates).toEqual({ GetThingShadow: 4000, UpdateThingShadow: 4000, DeleteThingShadow: 4000 });
    expect([o.thingRps, o.thingInFlight]).toEqual([20, 10]);
  });

  test("'off' turns off every gate and per-operation 'off' removes one", () => {
    expect(resolveRateGateOptions('off').rates).toEqual({});
    expect(resolveRateGateOptions('off').thingRps).toBe(0);
    const o = resolveRateGateOptions({
      accountRps: 400,
      operations: { DeleteThingShadow: 'off', Publish: 100 },
      thingRps: 'off',
    });
    expect(o.rates).toEqual({ GetThingShadow: 400, UpdateThingShadow: 400, Publish: 100 });
    expect(o.thingRps).toBe(0);
  });

  test('bad values are refused with messages naming the option', () => {
    expect(() => resolveRateGateOptions({ accountRps: -1 })).toThrow(
      "rates.accountRps: expected a positive number or 'off', got -1",
    );
    expect(() => resolveRateGateOptions({ operations: { Nope: 1 } as never })).toThrow(
      'rates.operations: unknown operation "Nope"',
    );
    expect(() => resolveRateGateOptions({ permitBatch: 0 })).toThrow(
      'rates.permitBatch: expected a positive integer, got 0',
    );
    expect(() => resolveRateGateOptions({ decreaseFactor: 2 })).toThrow(
      'rates.decreaseFactor must be a number in (0, 1], got 2',
    );
  });

  test('the permit batch grows with the rate within 1..64', () => {
    expect([
      defaultPermitBatch(20),
      defaultPermitBatch(400),
      defaultPermitBatch(4000),
      defaultPermitBatch(100000),
    ]).toEqual([1, 4, 40, 64]);
  });
});

describe('AimdRate', () => {
  test('a throttle multiplies the rate by 0.7, once per cooldown, and the rate climbs back additively to the ceiling', () => {
    let now = 0;
    const r = new AimdRate({
      ceiling: 1000,
      decreaseFactor: 0.7,
      decreaseCooldownMs: 1000,
      increaseShare: 0.05,
      minShare: 0.05,
      now: () => now,
    });
    expect(r.throttled()).toBe(true);
    expect(r.rate).toBeCloseTo(700);
    now = 500;
    expect(r.throttled()).toBe(false); // same burst of 429s
    expect(r.rate).toBeCloseTo(700);
    now = 1000;
    expect(r.rate).toBeCloseTo(700); // cooldown just ended: recovery starts from here
    now = 3000;
    expect(r.rate).toBeCloseTo(800); // +5% of the ceiling per second
    now = 20_000;
    expect(r.rate).toBe(1000);
    expect(r.decreases).toBe(1);
  });

  test('repeated throttles never push the rate below the floor share', () => {
    let now = 0;
    const r = new AimdRate({
      ceiling: 100,
      decreaseFactor: 0.5,
      decreaseCooldownMs: 10,
      increaseShare: 0.05,
      minShare: 0.1,
      now: () => now,
    });
    for (let i = 0; i < 20; i++) {
      r.throttled();
      now += 10;
    }
    expect(r.rate).toBeGreaterThanOrEqual(10);
    expect(r.rate).toBeLessThan(11);
  });
});

describe('BottleneckRateGate', () => {
  async function demand(gate: BottleneckRateGate, seconds: number, takers = 4): Promise<number> {
    let granted = 0;
    let stop = false;
    const k = gate.batchSize('UpdateThingShadow');
    const loops = Array.from({ length: takers }, async () => {
      while (!stop) {
        const n = await gate.take('UpdateThingShadow', k);
        granted += n;
      }
    });
    await vi.advanceTimersByTimeAsync(seconds * 1000);
    stop = true;
    // Let the takers waiting on permits finish (they get permits as the bucket refills).
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(loops);
    return granted;
  }

  test('under constant demand it grants the configured rate over 10 s within 2%, counting the initial burst', async () => {
    vi.useFakeTimers();
    const gate = new BottleneckRateGate({ accountRps: 4000 });
    try {
      const granted = await demand(gate, 10);
      const expected = 4000 * 10.2 + 400; // 10 s + the 200 ms drain, plus one burst (0.1 s)
      expect(Math.abs(granted - expected) / expected).toBeLessThan(0.02);
      expect(gate.stats().operations.UpdateThingShadow?.granted).toBe(granted);
    } finally {
      await gate.close();
    }
  });

  test('permits are granted in weighted batches, never one schedule per request', async () => {
    const gate = new BottleneckRateGate({ accountRps: 2000, permitBatch: 32 });
    try {
      expect(gate.batchSize('GetThingShadow')).toBe(32);
      expect(await gate.take('GetThingShadow', 32)).toBe(32);
      expect(gate.batchSize('Publish')).toBe(0);
      expect(await gate.take('Publish', 5)).toBe(5); // ungated
    } finally {
      await gate.close();
    }
  });

  test('throttles are counted and slow the grants down, and the rate recovers towards the ceiling', async () => {
    vi.useFakeTimers();
    const gate = new BottleneckRateGate({ accountRps: 1000 });
    try {
      gate.throttled('UpdateThingShadow');
      gate.throttled('UpdateThingShadow');
      const s = gate.stats();
      expect(s.throttles).toBe(2);
      expect(s.operations.UpdateThingShadow?.decreases).toBe(1);
      expect(s.operations.UpdateThingShadow?.currentRps).toBeCloseTo(700);
      const granted = await demand(gate, 2, 2);
      // ~700/s during the cooldown second, then climbing at 50/s per second.
      expect(granted).toBeLessThan(1000 * 2.2);
      expect(granted).toBeGreaterThan(700 * 2);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(gate.stats().operations.UpdateThingShadow?.currentRps).toBeGreaterThan(990);
    } finally {
      await gate.close();
    }
  });

  test('lowering the rate lowers the burst too, so a ramp that starts slow does not start with the full quota burst', async () => {
    vi.useFakeTimers();
    const gate = new BottleneckRateGate({ accountRps: 4000 });
    try {
      gate.setRate('UpdateThingShadow', 10);
      const granted = await demand(gate, 10, 1);
      // 10/s over 10 s plus the 200 ms drain, plus one burst of the new rate (1 permit), not 400.
      expect(granted).toBeGreaterThanOrEqual(95);
      expect(granted).toBeLessThanOrEqual(110);
    } finally {
      await gate.close();
    }
  });

  test('setRate changes the ceiling of one operation', async () => {
    vi.useFakeTimers();
    const gate = new BottleneckRateGate({ accountRps: 100 });
    try {
      gate.setRate('UpdateThingShadow', 500);
      expect(gate.stats().operations.UpdateThingShadow).toMatchObject({ configuredRps: 500, currentRps: 500 });
      expect(gate.stats().operations.GetThingShadow).toMatchObject({ configuredRps: 100 });
    } finally {
      await gate.close();
    }
  });
});
