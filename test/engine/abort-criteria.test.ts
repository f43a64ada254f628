import { describe, expect, it } from 'vitest';
import { AbortCriteria, failureType } from '../../src/engine/abort-criteria.js';
import type { ErrorRecord } from '../../src/errors.js';

const throttled = {
  error: { name: 'ThrottlingError', code: 'SHADOW_ERR_THROTTLED', message: 'slow down' } as ErrorRecord,
};
const timedOut = { error: { name: 'TimeoutError', code: 'SHADOW_ERR_TIMEOUT', message: 'late' } as ErrorRecord };
const other = { error: { name: 'ServiceError', code: 'SHADOW_ERR_SERVICE', message: 'no' } as ErrorRecord };
const ok = {};

describe('failureType', () => {
  it('sorts a failure into throttled, timed-out or failed', () => {
    expect(failureType(throttled)).toBe('throttled');
    expect(failureType(timedOut)).toBe('timed-out');
    expect(failureType(other)).toBe('failed');
  });
});

describe('AbortCriteria', () => {
  it('says nothing before minThings finished, then names the criterion that was passed, once', () => {
    const c = new AbortCriteria([{ failureType: 'all', thresholdPercentage: 40, minThings: 4 }]);
    expect(c.record(other, true)).toBeUndefined();
    expect(c.record(other, true)).toBeUndefined();
    expect(c.record(ok, false)).toBeUndefined();
    expect(c.record(ok, false)).toBe(
      'abort criterion: 2 of 4 things (50.0%) failed > 40% (failureType all, minThings 4)',
    );
    expect(c.record(other, true)).toBeUndefined();
    expect(c.done).toBe(5);
  });

  it('counts only the failures of the criterion type against its threshold', () => {
    const c = new AbortCriteria([{ failureType: 'throttled', thresholdPercentage: 50, minThings: 0 }]);
    expect(c.record(other, true)).toBeUndefined();
    expect(c.record(throttled, true)).toBeUndefined();
    expect(c.record(throttled, true)).toBe(
      'abort criterion: 2 of 3 things (66.7%) throttled > 50% (failureType throttled, minThings 0)',
    );
  });

  it('never aborts without criteria', () => {
    const c = new AbortCriteria();
    for (let i = 0; i < 10; i++) expect(c.record(other, true)).toBeUndefined();
  });
});
