/**
 * A sync pass whose items cannot get an account permit while nothing interrupted the pass: a
 * worker's account gate failed (its Redis is gone). A queue worker and a pool thread both report
 * that as RateGateError (SHADOW_ERR_RATE_GATE), not as an abort. Those things were neither read
 * nor written: the pass must count them as failed, not drop them as "interrupted, not done"
 * (the pass also counts an abort it did not ask for as failed), or a sync (a take-over by
 * `attach` among them) ends with exit 0 and things missing on the destination.
 *
 * The failing gate is a real shared Redis gate whose Redis connection has ended.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { JobPlacement } from '../../src/engine/job-placement.js';
import { InlineBatchRunner } from '../../src/engine/inline-batch-runner.js';
import { connectRedis } from '../../src/engine/queue/redis-connection.js';
import { RedisRateGate } from '../../src/engine/queue/redis-rate-gate.js';
import { runSync } from '../../src/jobs/sync/sync.js';
import { REDIS_URL, uniquePrefix } from '../engine/queue/redis-fixture.js';

const THINGS = 12;

/** A shared gate on `account` whose Redis is gone: every take fails. */
async function failedGate(account: string): Promise<RedisRateGate> {
  const redis = await connectRedis(REDIS_URL);
  const gate = new RedisRateGate({
    redis,
    redisUrl: REDIS_URL,
    account,
    prefix: uniquePrefix('sync-aborted'),
    accountRps: 1000,
  });
  const ended = once(redis, 'end');
  redis.disconnect();
  await ended;
  return gate;
}

/** Runs the batches on this thread; the JobRun on `account` gets `gate`, the other its own. */
function placementWith(account: string, gate: RedisRateGate): JobPlacement {
  return (context) => ({
    runner: (c) => new InlineBatchRunner(c),
    ...(context.client.endpoint === account ? { gate } : {}),
  });
}

describe('sync items whose account gate failed while the pass goes on', { timeout: 60_000 }, () => {
  let source: Emulator;
  let dest: Emulator;

  beforeAll(async () => {
    source = await startEmulator({ port: 0, quotas: 'off' });
    dest = await startEmulator({ port: 0, quotas: 'off' });
    for (let i = 0; i < THINGS; i++)
      source.store.update(`a-${i}`, undefined, { state: { desired: { v: i }, reported: { v: i - 1 } } });
  });

  afterAll(async () => {
    await Promise.all([source?.close(), dest?.close()]);
  });

  it('counts the things whose source reads a failed gate stopped as failed, not as interrupted', async () => {
    const gate = await failedGate(source.url);
    try {
      const res = await runSync({
        from: { endpoint: source.url, workers: 1 },
        to: { endpoint: dest.url, rate: 'off', workers: 1 },
        placement: placementWith(source.url, gate),
      });
      expect(dest.store.shadowCount).toBe(0);
      expect(res).toMatchObject({ sourceThings: THINGS, sent: 0, failed: THINGS, interrupted: false });
      expect(res.failures[0]).toMatchObject({ side: 'source', code: 'SHADOW_ERR_RATE_GATE' });
      expect(res.failures[0]?.message).toContain('rate gate failed');
    } finally {
      await gate.close();
    }
  });

  it('counts the things whose destination writes a failed gate stopped as failed, not as interrupted', async () => {
    const gate = await failedGate(dest.url);
    try {
      const res = await runSync({
        from: { endpoint: source.url, rate: 'off', workers: 1 },
        to: { endpoint: dest.url, workers: 1 },
        placement: placementWith(dest.url, gate),
      });
      expect(dest.store.shadowCount).toBe(0);
      expect(res).toMatchObject({ sourceThings: THINGS, sent: THINGS, written: 0, failed: THINGS, interrupted: false });
      expect(res.failures[0]).toMatchObject({ side: 'destination', code: 'SHADOW_ERR_RATE_GATE' });
      // The watermark does not hold them: a watch's next pass sends them again.
    } finally {
      await gate.close();
    }
  });
});
