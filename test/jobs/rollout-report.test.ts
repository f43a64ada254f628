import { describe, expect, it } from 'vitest';
import type { ItemResult } from '../../src/engine/task-types.js';
import { estimateSeconds, failureType } from '../../src/jobs/rollout/rollout.js';
import { billedOperations, outcomeLine, RolloutReport } from '../../src/jobs/rollout/rollout-report.js';

function result(over: Partial<ItemResult>): ItemResult {
  return {
    thingName: 't',
    outcome: 'written',
    attempts: 1,
    requests: 2,
    throttles: 0,
    latencyMs: 10,
    bytesSent: 100,
    wholeBytes: 1000,
    ...over,
  };
}

describe('rollout report', () => {
  it('never reports a latency percentile above the largest latency seen', () => {
    const report = new RolloutReport(0);
    report.record(result({ thingName: 'a', latencyMs: 5 }), false, 10);
    report.record(result({ thingName: 'b', latencyMs: 123.456 }), false, 20);
    report.end(100);
    const l = report.summary(100).latencyMs;
    expect(l.max).toBe(123.456);
    expect(l.p99).toBeLessThanOrEqual(l.max);
    expect(l.p90).toBeLessThanOrEqual(l.max);
    expect(l.p50).toBeGreaterThanOrEqual(4.99);
    expect(l.p50).toBeLessThanOrEqual(5.01);
  });

  it('counts outcomes, errors by AWS name, retries, throttles, bytes and billed operations', () => {
    const report = new RolloutReport(0);
    report.record(result({ thingName: 'a' }), false, 100);
    report.record(
      result({ thingName: 'b', outcome: 'rebased', attempts: 3, requests: 6, throttles: 1, bytesSent: 2500 }),
      false,
      1500,
    );
    report.record(result({ thingName: 'c', outcome: 'unchanged', requests: 1, bytesSent: 0 }), false, 1600);
    report.record(
      result({
        thingName: 'd',
        outcome: 'failed',
        requests: 3,
        throttles: 3,
        bytesSent: 0,
        error: {
          name: 'ThrottlingError',
          code: 'SHADOW_ERR_THROTTLED',
          message: 'x',
          awsErrorType: 'ThrottlingException',
        },
      }),
      false,
      1700,
    );
    report.record(
      result({ thingName: 'e', outcome: 'unchanged', requests: 1, bytesSent: 0, latencyMs: 5 }),
      true,
      1800,
    );
    report.end(2000);
    const s = report.summary(5000);
    expect(s.things).toBe(5);
    expect(s.resumed).toBe(1);
    expect(s.byOutcome).toEqual({ written: 1, rebased: 1, unchanged: 2, failed: 1 });
    expect(s.byError).toEqual({ ThrottlingException: 1 });
    expect(s.failed).toBe(1);
    expect(s.retries).toBe(2);
    expect(s.requests).toBe(13);
    expect(s.throttles).toBe(4);
    expect(s.bytesSent).toBe(2600);
    expect(s.wholeBytes).toBe(2044);
    expect(s.sentShare).toBeCloseTo(2600 / 2044);
    // 13 requests + 2 more KB started by the 2,500-byte write
    expect(s.billedOperations).toBe(15);
    expect(s.elapsedMs).toBe(2000);
    expect(s.thingsPerSecond).toBe(2);
    expect(s.series).toEqual([
      { second: 0, done: 1, written: 1, failed: 0, requests: 2, throttles: 0 },
      { second: 1, done: 3, written: 1, failed: 1, requests: 10, throttles: 4 },
    ]);
    expect(s.latencyMs.p50).toBeCloseTo(10, 1);
  });

  it('stamps the rate in force on the series for charts', () => {
    const report = new RolloutReport(0);
    report.setRate(50);
    report.record(result({}), false, 10);
    report.setRate(100);
    report.record(result({}), false, 1200);
    expect(report.summary(2000).series.map((p) => p.rate)).toEqual([50, 100]);
  });

  it('bills a dry run for its reads only, and each request of at most 1 KB once', () => {
    expect(billedOperations({ requests: 1, bytesSent: 5000, outcome: 'would-write' })).toBe(1);
    expect(billedOperations({ requests: 2, bytesSent: 1024, outcome: 'written' })).toBe(2);
    expect(billedOperations({ requests: 2, bytesSent: 1025, outcome: 'written' })).toBe(3);
    expect(billedOperations({ requests: 2, bytesSent: 0, outcome: 'written', detail: { billedOperations: 7 } })).toBe(
      7,
    );
  });

  it('writes outcome lines with the AWS error name', () => {
    const line = outcomeLine(
      result({
        thingName: 'x',
        shadowName: 'cfg',
        outcome: 'failed',
        error: {
          name: 'ServiceError',
          code: 'SHADOW_ERR_SERVICE',
          message: 'boom',
          awsErrorType: 'InternalFailureException',
        },
      }),
    );
    expect(line).toMatchObject({
      thing: 'x',
      shadow: 'cfg',
      outcome: 'failed',
      error: 'InternalFailureException',
      message: 'boom',
    });
  });

  it('classifies failures for abort criteria', () => {
    expect(
      failureType(
        result({ outcome: 'failed', error: { name: 'ThrottlingError', code: 'SHADOW_ERR_THROTTLED', message: '' } }),
      ),
    ).toBe('throttled');
    expect(
      failureType(
        result({ outcome: 'failed', error: { name: 'TimeoutError', code: 'SHADOW_ERR_TIMEOUT', message: '' } }),
      ),
    ).toBe('timed-out');
    expect(
      failureType(
        result({ outcome: 'failed', error: { name: 'ServiceError', code: 'SHADOW_ERR_SERVICE', message: '' } }),
      ),
    ).toBe('failed');
  });

  it('estimates the time of a run at the rate, with a ramp', () => {
    expect(estimateSeconds(4000, 3000, 4000)).toBe(1);
    // 100 at 50/s, 100 at 100/s, then the rest at the 200/s cap
    expect(estimateSeconds(1000, 1000, 200, { baseRate: 50, factor: 2, everySucceeded: 100 })).toBe(2 + 1 + 800 / 200);
  });
});
