import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/report/latency-histogram.js';

describe('LatencyHistogram', () => {
  it('reports percentiles of recorded milliseconds within the HDR precision', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 .. 100 ms
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.min).toBeCloseTo(0.1, 3);
    expect(s.p50).toBeCloseTo(50, 0);
    expect(s.p90).toBeCloseTo(90, 0);
    expect(s.p99).toBeCloseTo(99, 0);
    expect(s.max).toBeCloseTo(100, 0);
  });

  it('puts every recorded value in exactly one bucket of the distribution', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 5000; i++) h.record(0.05 + (i % 97) * 1.3);
    const buckets = h.buckets(20);
    expect(buckets.length).toBeGreaterThan(1);
    expect(buckets.length).toBeLessThanOrEqual(20);
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(5000);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.from).toBeCloseTo(buckets[i - 1]!.to, 6);
  });

  it('survives an encode and decode round trip, as between threads', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 300; i++) h.record(i * 0.7);
    const back = LatencyHistogram.decode(h.encode()).summary();
    const orig = h.summary();
    expect(back.count).toBe(orig.count);
    // values come back within the histogram's 3 significant digits
    for (const k of ['min', 'mean', 'p50', 'p90', 'p99', 'max'] as const)
      expect(Math.abs(back[k] - orig[k])).toBeLessThanOrEqual(orig[k] * 0.002 + 0.001);
  });

  it('adds another histogram and ignores negative or missing values', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(1);
    b.record(2, 3);
    b.record(-1);
    b.record(Number.NaN);
    a.add(b);
    expect(a.count).toBe(4);
    expect(a.summary().max).toBeCloseTo(2, 2);
  });

  it('reports zeros and no buckets when empty', () => {
    const h = new LatencyHistogram();
    expect(h.summary()).toEqual({ count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
    expect(h.report().buckets).toEqual([]);
  });
});
