import { describe, expect, it } from 'vitest';
import { OutcomeTally } from '../../src/engine/outcome-tally.js';
import { ITEM_OUTCOMES, isItemOutcome } from '../../src/engine/item-outcome.js';
import type { ItemResult } from '../../src/engine/task-types.js';

const result = (outcome: ItemResult['outcome'], extra: Partial<ItemResult> = {}): ItemResult => ({
  thingName: 't',
  outcome,
  attempts: 1,
  requests: 2,
  throttles: 0,
  latencyMs: 3,
  bytesSent: 10,
  ...extra,
});

describe('OutcomeTally', () => {
  it('counts results by outcome and sums requests, throttles, bytes and latency', () => {
    const t = new OutcomeTally();
    t.add(result('written', { wholeBytes: 50 }));
    t.add(result('rebased', { throttles: 1 }));
    t.add(result('unchanged', { bytesSent: 0 }));
    expect(t.done).toBe(3);
    expect(t.byOutcome).toEqual({ written: 1, rebased: 1, unchanged: 1 });
    expect(t.count('written', 'rebased')).toBe(2);
    expect(t.count('failed')).toBe(0);
    expect([t.requests, t.throttles, t.bytesSent, t.wholeBytes, t.latencyMsTotal]).toEqual([6, 1, 20, 50, 9]);
  });

  it('counts errors by their AWS name, else their class name', () => {
    const t = new OutcomeTally();
    t.add(
      result('failed', {
        error: {
          name: 'ThrottlingError',
          code: 'SHADOW_ERR_THROTTLED',
          message: 'x',
          awsErrorType: 'ThrottlingException',
        } as ItemResult['error'],
      }),
    );
    t.add(
      result('failed', {
        error: { name: 'NetworkError', code: 'SHADOW_ERR_NETWORK', message: 'y' } as ItemResult['error'],
      }),
    );
    expect(t.byError).toEqual({ ThrottlingException: 1, NetworkError: 1 });
  });
});

describe('ITEM_OUTCOMES', () => {
  it('knows every outcome of the union and nothing else', () => {
    for (const o of ITEM_OUTCOMES) expect(isItemOutcome(o)).toBe(true);
    expect(isItemOutcome('done')).toBe(false);
    expect(isItemOutcome(3)).toBe(false);
  });
});
