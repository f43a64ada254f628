import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { DEFAULT_SHADOW_LIMITS, resolveShadowLimits, serializedStateSize, stateSize } from '../../src/shadow/index.js';

describe('shadow limits', () => {
  it('defaults to AWS values and is frozen', () => {
    expect(DEFAULT_SHADOW_LIMITS).toEqual({ maxStateBytes: 8192, maxDepth: 6, maxClientTokenBytes: 64 });
    expect(Object.isFrozen(DEFAULT_SHADOW_LIMITS)).toBe(true);
  });

  it('counts the compact JSON bytes of desired plus reported', () => {
    expect(stateSize({ a: 1 }, { b: 'é' })).toBe(7 + 10);
    expect(stateSize()).toBe(0);
    expect(serializedStateSize('{"a":1}', undefined)).toBe(7);
  });

  it('fills partial limits and names a bad option in its message', () => {
    expect(resolveShadowLimits({ maxDepth: 8 })).toEqual({ ...DEFAULT_SHADOW_LIMITS, maxDepth: 8 });
    expect(() => resolveShadowLimits({ maxStateBytes: 0 })).toThrow(
      new InvalidArgumentError('limits.maxStateBytes: expected a positive integer, got 0'),
    );
  });
});
