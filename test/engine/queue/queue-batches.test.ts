import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, ConfigError } from '../../../src/errors.js';
import { cancelRun, QueueBatchRunner } from '../../../src/engine/queue/queue-batch-runner.js';
import type { ItemResult, RolloutTaskConfig, TargetItem, WorkerTask } from '../../../src/engine/task-types.js';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { deleteKeys, openRedis, REDIS_URL, uniquePrefix } from './redis-fixture.js';
import { startWorker, stopWorker, type WorkerProcess } from './worker-processes.js';

let admin: Redis;
let emulator: Emulator;
const cleanup: Array<() => Promise<void>> = [];
beforeAll(async () => {
  admin = await openRedis();
  emulator = await startEmulator({ quotas: 'off' });
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
afterAll(async () => {
  await emulator?.close();
  admin?.disconnect();
});

function things(prefix: string, n: number): TargetItem[] {
  return Array.from({ length: n }, (_, i) => ({ thingName: `${prefix}-${i}` }));
}

function rolloutTask(items: TargetItem[], desired: RolloutTaskConfig['desired']): WorkerTask<RolloutTaskConfig> {
  return {
    kind: 'rollout',
    config: { desired, clientTokenPrefix: 'qt' },
    client: { endpoint: emulator.url, region: 'us-east-1' },
    items,
    thingLimits: { thingRps: 0, thingInFlight: 0 },
  };
}

async function runner(
  prefix: string,
  extra: Partial<Parameters<typeof QueueBatchRunner.open>[0]> = {},
): Promise<QueueBatchRunner> {
  const r = await QueueBatchRunner.open({
    redisUrl: REDIS_URL,
    prefix,
    run: { kind: 'rollout', identity: 'test' },
    rates: { accountRps: 2000 },
    sweepIntervalMs: 200,
    ...extra,
  });
  cleanup.push(async () => {
    await r.close();
  });
  return r;
}

function workers(prefix: string, n: number, opts: { lockMs?: number; concurrency?: number } = {}): WorkerProcess[] {
  const ws = Array.from({ length: n }, (_, i) => startWorker({ prefix, id: `w${i + 1}`, ...opts }));
  cleanup.push(async () => {
    await Promise.all(ws.map((w) => stopWorker(w)));
    await deleteKeys(admin, prefix);
  });
  return ws;
}

/** Splits into batches of `size` and runs them all through `r` at once. */
async function runAll(
  r: QueueBatchRunner,
  items: TargetItem[],
  size: number,
  desired: RolloutTaskConfig['desired'],
): Promise<ItemResult[]> {
  const batches: TargetItem[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  const results = await Promise.all(batches.map((b) => r.run(rolloutTask(b, desired))));
  return results.flat();
}

describe('batches on a BullMQ queue', () => {
  it('runs a job on three worker processes and brings back one result per thing', async () => {
    const prefix = uniquePrefix('q-three');
    const ws = workers(prefix, 3);
    await Promise.all(ws.map((w) => w.waitFor((e) => e.msg === 'worker started')));
    const r = await runner(prefix);
    const items = things(prefix, 240);
    const results = await runAll(r, items, 20, { fw: '2.0' });
    expect(results.map((x) => x.thingName).sort()).toEqual(items.map((x) => x.thingName).sort());
    expect(results.every((x) => x.outcome === 'written')).toBe(true);
    const status = await r.status();
    expect(status?.done).toBe(240);
    expect(status?.byOutcome).toEqual({ written: 240 });
    expect(status?.workers.reduce((a, w) => a + w.items, 0)).toBe(240);
    // Collected batches stay a while (a take-over after a crash finds them), and go when the run finishes.
    expect(await admin.exists(`${prefix}:shadowfleet:${r.runId}.0`)).toBe(1);
    await r.finish('done');
    expect(await admin.exists(`${prefix}:shadowfleet:${r.runId}.0`)).toBe(0);
    expect((await r.status())?.state).toBe('done');
  });

  it("takes a killed worker's batch again on another worker after the stall interval, and counts each thing once", async () => {
    const prefix = uniquePrefix('q-kill');
    // A slow account (20/s) so the first worker is surely mid-batch when killed.
    const [first] = workers(prefix, 1, { lockMs: 1000, concurrency: 1 });
    await first!.waitFor((e) => e.msg === 'worker started');
    const r = await runner(prefix, { rates: { accountRps: 20, permitBatch: 1 } });
    const items = things(prefix, 40);
    const all = runAll(r, items, 20, { fw: '3.0' });
    await first!.waitFor((e) => e.msg === 'batch started');
    first!.child.kill('SIGKILL');
    await first!.exited;
    const [second] = workers(prefix, 1, { lockMs: 1000, concurrency: 2 });
    const results = await all;
    expect(results).toHaveLength(40);
    expect(new Set(results.map((x) => x.thingName)).size).toBe(40);
    expect(results.every((x) => x.outcome === 'written' || x.outcome === 'unchanged')).toBe(true);
    const status = await r.status();
    expect(status?.done).toBe(40);
    expect(status?.workers.map((w) => w.worker)).toEqual(['w1']);
    // The repeated batch shows in the second worker's log as a second attempt.
    expect(second!.logs.some((e) => e.msg === 'batch started' && Number(e.attempt) >= 2)).toBe(true);
  });

  it('cancels a job from elsewhere: waiting batches are removed and the submitter stops', async () => {
    const prefix = uniquePrefix('q-cancel');
    workers(prefix, 0);
    const r = await runner(prefix);
    let told = false;
    r.onCancel(() => {
      told = true;
    });
    const pending = [
      r.run(rolloutTask(things(prefix, 5), { a: 1 })),
      r.run(rolloutTask(things(`${prefix}-b`, 5), { a: 1 })),
    ].map((p) =>
      p.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    );
    // Both batches are on the queue before the cancel.
    while ((await r.status())?.batches !== 2) await new Promise((res) => setTimeout(res, 10));
    const { removed } = await cancelRun(REDIS_URL, r.runId, { prefix });
    expect(removed).toBe(2);
    for (const p of pending) expect(await p).toBeInstanceOf(AbortError);
    expect(told).toBe(true);
    expect((await r.status())?.state).toBe('cancelled');
    await expect(r.run(rolloutTask(things(prefix, 1), { a: 1 }))).rejects.toThrow(/cancelled/);
  });

  it('refuses an unknown job id and an unreachable Redis with errors naming them', async () => {
    const prefix = uniquePrefix('q-errors');
    cleanup.push(() => deleteKeys(admin, prefix));
    await expect(QueueBatchRunner.open({ redisUrl: REDIS_URL, prefix, runId: 'nosuchjob' })).rejects.toThrow(
      `no job "nosuchjob" on queue "shadowfleet" at ${REDIS_URL}`,
    );
    const err = await QueueBatchRunner.open({
      redisUrl: 'redis://127.0.0.1:1',
      prefix,
      run: { kind: 'rollout' },
      connectTimeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('redis://127.0.0.1:1');
  });
});
