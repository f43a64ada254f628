import { afterEach, describe, expect, test, vi } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { ThingLimiter } from '../../src/engine/thing-limiter.js';
import { PortWorkerGate } from '../../src/engine/port-worker-gate.js';
import { GatePortServer } from '../../src/engine/gate-port-server.js';
import { BottleneckRateGate } from '../../src/engine/bottleneck-rate-gate.js';
import { ThrottlingError } from '../../src/errors.js';

afterEach(() => {
  vi.useRealTimers();
});

function manualClock() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void }> = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => void timers.push({ at: now + ms, fn }),
    advance(ms: number) {
      now += ms;
      for (const t of timers.splice(0)) {
        if (t.at <= now) t.fn();
        else timers.push(t);
      }
    },
  };
}

describe('ThingLimiter', () => {
  test('a per-thing rate below one request a second is kept, not rounded up to one a second', async () => {
    const clock = manualClock();
    const lim = new ThingLimiter({ rps: 0.5, inFlight: 0, now: clock.now, setTimer: clock.setTimer });
    expect(lim.acquire('t')).toBeUndefined();
    lim.release('t');
    let started = false;
    const p = lim.acquire('t')!.then(() => (started = true));
    clock.advance(1000);
    await Promise.resolve();
    expect(started).toBe(false); // 0.5/s: the second start is due 2 s after the first
    clock.advance(1000);
    await p;
    expect(started).toBe(true);
  });

  test('at most 10 requests of one thing are in flight; the 11th starts when one ends', async () => {
    const clock = manualClock();
    const lim = new ThingLimiter({ rps: 0, inFlight: 10, now: clock.now, setTimer: clock.setTimer });
    for (let i = 0; i < 10; i++) expect(lim.acquire('t')).toBeUndefined();
    let started = false;
    const p = lim.acquire('t')!.then(() => (started = true));
    expect(lim.acquire('other')).toBeUndefined(); // other things are independent
    await Promise.resolve();
    expect(started).toBe(false);
    lim.release('t');
    await p;
    expect(started).toBe(true);
  });

  test('at most 20 starts per thing in any one-second window', async () => {
    const clock = manualClock();
    const lim = new ThingLimiter({ rps: 20, inFlight: 0, now: clock.now, setTimer: clock.setTimer });
    const starts: number[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 45; i++) {
      const w = lim.acquire('t');
      if (w === undefined) starts.push(clock.now());
      else all.push(w.then(() => void starts.push(clock.now())));
      lim.release('t');
    }
    for (let ms = 0; ms < 3000; ms += 50) {
      clock.advance(50);
      await Promise.resolve();
      await Promise.resolve();
    }
    await Promise.all(all);
    expect(starts).toHaveLength(45);
    for (let i = 20; i < starts.length; i++) expect(starts[i]! - starts[i - 20]!).toBeGreaterThanOrEqual(1000);
  });
});

describe('PortWorkerGate with the coordinator gate', () => {
  test('a worker gate takes account permits in batches over a port and counts usage per thing', async () => {
    const rateGate = new BottleneckRateGate({ accountRps: 4000, permitBatch: 16 });
    const server = new GatePortServer(rateGate);
    const { port1, port2 } = new MessageChannel();
    server.attach(port1);
    const gate = new PortWorkerGate();
    gate.configure(port2, { UpdateThingShadow: 16 }, { thingRps: 20, thingInFlight: 10 });
    try {
      const ref = { thingName: 'pump-1' };
      for (let i = 0; i < 5; i++) {
        await gate.acquire('UpdateThingShadow', ref);
        gate.release('UpdateThingShadow', ref, { statusCode: 200, durationMs: 1 });
      }
      await gate.acquire('UpdateThingShadow', ref);
      gate.release('UpdateThingShadow', ref, {
        statusCode: 429,
        error: new ThrottlingError({
          operation: 'UpdateThingShadow',
          statusCode: 429,
          awsErrorType: 'ThrottlingException',
        }),
        durationMs: 1,
      });
      // Six requests, all answered by the server (a 429 is an answer): billed operations count answers.
      expect(gate.takeUsage(ref)).toEqual({ requests: 6, throttles: 1, answered: 6 });
      expect(gate.takeUsage(ref)).toEqual({ requests: 0, throttles: 0, answered: 0 });
      // Ungated ops pass without permits.
      await gate.acquire('Publish', undefined);
      while (rateGate.stats().throttles === 0) await new Promise((r) => setTimeout(r, 10));
      const s = rateGate.stats();
      expect(s.throttles).toBe(1);
      expect(s.granted % 16).toBe(0); // whole batches only
      expect(s.granted).toBeGreaterThanOrEqual(16);
    } finally {
      port2.close();
      server.close();
      await rateGate.close();
    }
  });

  test('a second port offered to a thread that has one is closed, so the coordinator forgets it', async () => {
    const rateGate = new BottleneckRateGate({ accountRps: 100 });
    const server = new GatePortServer(rateGate);
    const a = new MessageChannel();
    const b = new MessageChannel();
    server.attach(a.port1);
    server.attach(b.port1);
    const gate = new PortWorkerGate();
    gate.configure(a.port2, { GetThingShadow: 1 }, undefined);
    gate.configure(b.port2, { GetThingShadow: 1 }, undefined);
    while (server.size > 1) await new Promise((r) => setTimeout(r, 10));
    expect(server.size).toBe(1);
    a.port2.close();
    server.close();
    await rateGate.close();
  });
});
