import { describe, expect, it } from 'vitest';
import { AsyncChannel } from '../../src/jobs/sync/async-channel.js';

describe('async channel', () => {
  it('hands values over in order and makes the producer wait while it is full', async () => {
    const ch = new AsyncChannel<number>(2);
    let pushed = 0;
    const producer = (async () => {
      for (let i = 0; i < 5; i++) {
        await ch.push(i);
        pushed += 1;
      }
      ch.close();
    })();
    await new Promise((r) => setImmediate(r));
    expect(pushed).toBe(2);
    const got: number[] = [];
    for await (const v of ch) got.push(v);
    await producer;
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('ends the consumer with the error a failed producer gives', async () => {
    const ch = new AsyncChannel<number>(4);
    await ch.push(1);
    ch.fail(new Error('source read failed'));
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const v of ch) got.push(v);
      })(),
    ).rejects.toThrow('source read failed');
    expect(got).toEqual([1]);
  });

  it('releases a waiting producer when the consumer stops early or abandons the channel', async () => {
    const ch = new AsyncChannel<number>(1);
    await ch.push(1);
    const waiting = ch.push(2);
    for await (const _ of ch) break;
    await waiting;
    const other = new AsyncChannel<number>(1);
    await other.push(1);
    const blocked = other.push(2);
    other.abandon();
    await blocked;
    await other.push(3);
    const rest: number[] = [];
    for await (const v of other) rest.push(v);
    expect(rest).toEqual([]);
  });
});
