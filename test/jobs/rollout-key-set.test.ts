import { describe, expect, it } from 'vitest';
import { RolloutKeySet } from '../../src/jobs/rollout/rollout-key-set.js';

describe('RolloutKeySet', () => {
  it('tells a new key from a repeated one across growth', () => {
    const set = new RolloutKeySet(4);
    const keys = Array.from({ length: 50_000 }, (_, i) => (i % 3 === 0 ? `thing-${i}/config` : `thing-${i}`));
    for (const k of keys) expect(set.add(k)).toBe(true);
    expect(set.size).toBe(50_000);
    for (const k of keys) expect(set.add(k)).toBe(false);
    expect(set.size).toBe(50_000);
  });

  it('keeps keys that differ only by a shadow name or by case apart', () => {
    const set = new RolloutKeySet();
    expect(set.add('pump-1')).toBe(true);
    expect(set.add('pump-1/config')).toBe(true);
    expect(set.add('Pump-1')).toBe(true);
    expect(set.add('')).toBe(true);
    expect(set.add('')).toBe(false);
  });
});
