import { describe, expect, it } from 'vitest';
import { RampSchedule, estimateSeconds } from '../../src/engine/ramp-schedule.js';

describe('RampSchedule', () => {
  it('starts at the base rate and multiplies it after every everySucceeded successful things', () => {
    const ramp = new RampSchedule({ baseRate: 10, factor: 2, everySucceeded: 100 }, 1000);
    expect(ramp.rate).toBe(10);
    expect(ramp.next(99)).toBeUndefined();
    expect(ramp.next(100)).toBe(20);
    expect(ramp.next(150)).toBeUndefined();
    expect(ramp.next(300)).toBe(80);
    expect(ramp.rate).toBe(80);
  });

  it('never passes maxRate nor the quota, and stops stepping once there', () => {
    const capped = new RampSchedule({ baseRate: 10, factor: 10, everySucceeded: 1, maxRate: 500 }, 1000);
    expect(capped.next(1)).toBe(100);
    expect(capped.next(2)).toBe(500);
    expect(capped.next(3)).toBeUndefined();
    const quota = new RampSchedule({ baseRate: 2000, factor: 2, everySucceeded: 1 }, 1000);
    expect(quota.rate).toBe(1000);
    expect(quota.next(5)).toBeUndefined();
  });
});

describe('estimateSeconds', () => {
  it('is operations over the rate without a ramp, and adds the slow start of a ramp', () => {
    expect(estimateSeconds(1000, 200, 100)).toBe(10);
    // 100 at 10/s (10 s), 100 at 20/s (5 s), the remaining 800 at the 40/s cap (20 s)
    expect(estimateSeconds(1000, 0, 40, { baseRate: 10, factor: 2, everySucceeded: 100 })).toBe(35);
  });
});
