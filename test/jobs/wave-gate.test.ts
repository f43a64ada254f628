import { describe, expect, it } from 'vitest';
import { waitForGate, WaveGate, type ThingObservation } from '../../src/jobs/rollout/waves/wave-gate.js';

/** A clock the test moves; `sleep` advances it instead of waiting. */
function fakeTime(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    clock: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

const things = (n: number): string[] => Array.from({ length: n }, (_, i) => `t${i}`);

describe('wave gate', () => {
  it('passes once the converged and healthy shares reach their thresholds', () => {
    const t = fakeTime();
    const gate = new WaveGate({ converged: 0.9, healthy: 0.8, withinMs: 30_000 }, 10, t.clock);
    for (let i = 0; i < 8; i++) gate.observe(`t${i}`, { converged: true, healthy: true });
    expect(gate.decide().verdict).toBe('wait');
    gate.observe('t8', { converged: true, healthy: true });
    const d = gate.decide();
    expect(d).toMatchObject({
      verdict: 'pass',
      things: 10,
      converged: 9,
      healthy: 9,
      unhealthy: 0,
      convergedShare: 0.9,
    });
  });

  it('keeps waiting before the deadline and fails at it, with the figures', () => {
    const t = fakeTime();
    const gate = new WaveGate({ converged: 0.9, withinMs: 30_000 }, 4, t.clock);
    gate.observe('t0', { converged: true });
    gate.observe('t1', { converged: false });
    t.advance(29_999);
    expect(gate.decide().verdict).toBe('wait');
    t.advance(1);
    const d = gate.decide();
    expect(d.verdict).toBe('fail');
    expect(d.reason).toBe('1 of 4 converged (25%), 0 healthy (0%) after 30000 ms: converged 25% < 90%');
    expect(d.elapsedMs).toBe(30_000);
  });

  it('fails before the deadline when the unhealthy things already make the healthy threshold unreachable', () => {
    const t = fakeTime();
    const gate = new WaveGate({ converged: 0.9, healthy: 0.95, withinMs: 60_000 }, 20, t.clock);
    gate.observe('t0', { converged: true, healthy: false });
    expect(gate.decide().verdict).toBe('wait');
    gate.observe('t1', { converged: true, healthy: false });
    const d = gate.decide();
    expect(d.verdict).toBe('fail');
    expect(d.reason).toBe('2 of 20 things took the change and are unhealthy: at most 90% can be healthy, 95% needed');
  });

  it('counts a thing that has not converged as neither healthy nor unhealthy', () => {
    const gate = new WaveGate({ healthy: 0.5, withinMs: 1000 }, 2, fakeTime().clock);
    gate.observe('t0', { converged: false, healthy: false });
    gate.observe('t1', { converged: false, healthy: true });
    expect(gate.decide()).toMatchObject({ verdict: 'wait', healthy: 0, unhealthy: 0 });
  });

  it('counts the latest observation of a thing only once', () => {
    const gate = new WaveGate({ healthy: 1, withinMs: 1000 }, 1, fakeTime().clock);
    gate.observe('t0', { converged: true, healthy: false });
    gate.observe('t0', { converged: true, healthy: true });
    expect(gate.decide()).toMatchObject({ verdict: 'pass', converged: 1, healthy: 1, unhealthy: 0 });
  });

  it('passes a wave that wrote nothing', () => {
    expect(new WaveGate({ converged: 1, withinMs: 1000 }, 0, fakeTime().clock).decide()).toMatchObject({
      verdict: 'pass',
      convergedShare: 1,
    });
  });

  it('waits in rounds, re-reading only the things not yet settled, until the gate passes', async () => {
    const t = fakeTime();
    const gate = new WaveGate({ converged: 1, healthy: 1, withinMs: 60_000 }, 3, t.clock);
    const readRounds: string[][] = [];
    // t2 converges on the third read of it
    let t2Reads = 0;
    const decision = await waitForGate({
      gate,
      things: things(3),
      key: (k) => k,
      check: async (batch) => {
        readRounds.push(batch);
        return batch.map((key): { key: string; observation: ThingObservation } => {
          if (key !== 't2') return { key, observation: { converged: true, healthy: true } };
          t2Reads += 1;
          return { key, observation: { converged: t2Reads >= 3, healthy: true } };
        });
      },
      pollMs: 1000,
      clock: t.clock,
      sleep: t.sleep,
    });
    expect(decision.verdict).toBe('pass');
    expect(readRounds).toEqual([['t0', 't1', 't2'], ['t2'], ['t2']]);
    expect(t.sleeps).toEqual([1000, 1000]);
    expect(gate.series.map((p) => p.converged)).toEqual([2, 2, 3]);
  });

  it('gives up when within runs out, sleeping no further than the deadline', async () => {
    const t = fakeTime();
    const gate = new WaveGate({ converged: 1, withinMs: 2500 }, 1, t.clock);
    const d = await waitForGate({
      gate,
      things: ['t0'],
      key: (k) => k,
      check: async (batch) => batch.map((key) => ({ key, observation: { converged: false } })),
      pollMs: 1000,
      clock: t.clock,
      sleep: t.sleep,
    });
    expect(d.verdict).toBe('fail');
    expect(t.sleeps).toEqual([1000, 1000, 500]);
  });

  it('returns the decision so far when aborted', async () => {
    const t = fakeTime();
    const ac = new AbortController();
    const gate = new WaveGate({ converged: 1, withinMs: 60_000 }, 1, t.clock);
    const d = await waitForGate({
      gate,
      things: ['t0'],
      key: (k) => k,
      check: async (batch) => {
        ac.abort();
        return batch.map((key) => ({ key, observation: { converged: false } }));
      },
      pollMs: 1000,
      clock: t.clock,
      sleep: t.sleep,
      signal: ac.signal,
    });
    expect(d.verdict).toBe('wait');
    expect(t.sleeps).toEqual([]);
  });
});
