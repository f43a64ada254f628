import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bareSentinel } from '../../../src/engine/queue/bottleneck-redis7.js';
import { openRedis, uniquePrefix } from './redis-fixture.js';

let redis: Redis;
beforeAll(async () => {
  redis = await openRedis();
});
afterAll(() => redis?.disconnect());

/** The error a script ending in `redis.error_reply(message)` gives, as this Redis words it. */
async function errorReply(message: string): Promise<Error> {
  const err = await redis.eval(`return redis.error_reply('${message}')`, 0).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('bareSentinel', () => {
  it("gives bottleneck its own sentinels as it compares them, whatever this Redis's version prefixes", async () => {
    for (const sentinel of ['UNKNOWN_CLIENT', 'SETTINGS_KEY_NOT_FOUND', 'OVERWEIGHT:5:1']) {
      expect(bareSentinel(await errorReply(sentinel)).message).toBe(sentinel);
    }
  });

  it('leaves every other error as it is', async () => {
    const err = await redis
      .eval('return redis.call("incr", KEYS[1], 1)', 1, uniquePrefix('sentinel'))
      .catch((e: unknown) => e as Error);
    const message = (err as Error).message;
    expect(bareSentinel(err as Error).message).toBe(message);
    expect(bareSentinel(new Error('ERR UNKNOWN_CLIENT and more')).message).toBe('ERR UNKNOWN_CLIENT and more');
    expect(bareSentinel(await errorReply('NOSCRIPT other')).message).toBe('NOSCRIPT other');
  });
});
