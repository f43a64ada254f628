/**
 * What a worker gate reports when it cannot get an account permit: the account gate closed by
 * its owner (the run stopped) is an abort (SHADOW_ERR_ABORTED, not done); the shared gate whose
 * Redis is gone while the run goes on is a failure of the item (SHADOW_ERR_RATE_GATE). Either
 * way the thing's per-thing slot is freed.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { BottleneckRateGate } from '../../../src/engine/bottleneck-rate-gate.js';
import { QueueWorkerGate } from '../../../src/engine/queue/queue-worker-gate.js';
import { connectRedis } from '../../../src/engine/queue/redis-connection.js';
import { RedisRateGate } from '../../../src/engine/queue/redis-rate-gate.js';
import { REDIS_URL, uniquePrefix } from './redis-fixture.js';

const REF = { thingName: 'gate-failure-1' };
const LIMITS = { thingRps: 0, thingInFlight: 1 };

describe('a worker gate whose account gate cannot hand out a permit', { timeout: 30_000 }, () => {
  it('reports an account gate its owner closed as an abort, and frees the thing slot', async () => {
    const gate = new BottleneckRateGate({ accountRps: 100 });
    await gate.close();
    const worker = new QueueWorkerGate(gate);
    worker.configure(LIMITS);
    await expect(worker.acquire('GetThingShadow', REF)).rejects.toMatchObject({
      name: 'AbortError',
      code: 'SHADOW_ERR_ABORTED',
    });
    // The slot (one in flight per thing) was freed: an ungated op gets it at once.
    await worker.acquire('Publish', REF);
  });

  it('reports a shared gate whose Redis is gone as RateGateError, and frees the thing slot', async () => {
    const redis = await connectRedis(REDIS_URL);
    const gate = new RedisRateGate({
      redis,
      redisUrl: REDIS_URL,
      account: 'https://gate-failure.example',
      prefix: uniquePrefix('gate-failure'),
      accountRps: 100,
    });
    const ended = once(redis, 'end');
    redis.disconnect();
    await ended;
    try {
      const worker = new QueueWorkerGate(gate);
      worker.configure(LIMITS);
      const err = await worker.acquire('GetThingShadow', REF).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ name: 'RateGateError', code: 'SHADOW_ERR_RATE_GATE' });
      expect((err as Error).message).toContain('rate gate failed');
      await worker.acquire('Publish', REF);
    } finally {
      await gate.close();
    }
  });
});
