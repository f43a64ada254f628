/**
 * The queue placement on the real Redis (127.0.0.1:6379) with a worker process, against two
 * emulators standing for two accounts: one placement is one run id however many JobRuns use it,
 * each JobRun draws from the shared gate of its own account, and a cancel of the one id stops
 * every JobRun.
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobRun } from '../../../src/engine/job-run.js';
import { cancelRun } from '../../../src/engine/queue/queue-batch-runner.js';
import { QueueNames } from '../../../src/engine/queue/queue-names.js';
import { queuePlacement } from '../../../src/engine/queue/queue-placement.js';
import { gateAccountKey } from '../../../src/engine/queue/redis-rate-gate.js';
import { RunStore } from '../../../src/engine/queue/run-store.js';
import type { ItemResult, RolloutTaskConfig, TargetItem } from '../../../src/engine/task-types.js';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { deleteKeys, openRedis, REDIS_URL, uniquePrefix } from './redis-fixture.js';
import { startWorker, stopWorker, type WorkerProcess } from './worker-processes.js';

let admin: Redis;
let a: Emulator;
let b: Emulator;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  admin = await openRedis();
  [a, b] = await Promise.all([startEmulator({ port: 0, quotas: 'off' }), startEmulator({ port: 0, quotas: 'off' })]);
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  admin?.disconnect();
});

function things(prefix: string, n: number): TargetItem[] {
  return Array.from({ length: n }, (_, i) => ({ thingName: `${prefix}-${i}` }));
}

const CONFIG: RolloutTaskConfig = { desired: { fw: '2' }, clientTokenPrefix: 'pl' };

async function worker(prefix: string): Promise<WorkerProcess> {
  const w = startWorker({ prefix, id: 'w1', lockMs: 3000 });
  cleanup.push(async () => {
    await stopWorker(w);
    await deleteKeys(admin, prefix);
  });
  await w.waitFor((e) => e.msg === 'worker started');
  return w;
}

function jobRun(emulator: Emulator, placement: ReturnType<typeof queuePlacement>, rps: number): JobRun {
  const run = new JobRun({
    client: { endpoint: emulator.url, region: 'us-east-1' },
    rates: { accountRps: rps },
    batchSize: 5,
    placement,
  });
  cleanup.push(() => run.close());
  return run;
}

async function collect(run: JobRun, items: TargetItem[]): Promise<ItemResult[]> {
  const out: ItemResult[] = [];
  await run.run('rollout', CONFIG, items, (r) => void out.push(r));
  return out;
}

describe('queuePlacement', { timeout: 120_000 }, () => {
  it('runs two JobRuns on two accounts as one run id, each on the shared gate of its own account', async () => {
    const prefix = uniquePrefix('placement');
    await worker(prefix);
    const placement = queuePlacement({ redisUrl: REDIS_URL, prefix, kind: 'two-accounts' });
    cleanup.push(() => placement.finish());
    const ra = jobRun(a, placement, 400);
    const rb = jobRun(b, placement, 300);
    expect(placement.lanes).toBe(2);
    const [resA, resB] = await Promise.all([collect(ra, things('pa', 40)), collect(rb, things('pb', 30))]);
    expect(resA.filter((r) => r.outcome === 'written')).toHaveLength(40);
    expect(resB.filter((r) => r.outcome === 'written')).toHaveLength(30);
    expect(a.store.get('pa-39')?.state.desired).toEqual({ fw: '2' });
    expect(b.store.get('pb-29')?.state.desired).toEqual({ fw: '2' });
    expect(a.store.get('pb-0')).toBeUndefined();

    const names = new QueueNames('shadowfleet', prefix);
    const store = new RunStore(admin, names);
    expect(await admin.zrange(names.runs(), 0, -1)).toEqual([placement.runId]);
    const s = await store.status(placement.runId);
    expect(s).toMatchObject({ kind: 'two-accounts', items: 70, done: 70, failed: 0, state: 'running' });
    // One bucket per account: the limiters are keyed by each JobRun's own endpoint.
    for (const e of [a, b]) {
      const keys = await admin.keys(`b_${prefix}:gate:${gateAccountKey(e.url)}:UpdateThingShadow_*`);
      expect(keys.length, e.url).toBeGreaterThan(0);
    }
    // A JobRun closing does not end the run: the submission does.
    await ra.close();
    await rb.close();
    expect(await store.state(placement.runId)).toBe('running');
    await placement.finish('done');
    expect(await store.state(placement.runId)).toBe('done');
  });

  it("keeps the queue's batches in flight, not this host's threads' worth", async () => {
    const prefix = uniquePrefix('placement-inflight');
    const placement = queuePlacement({ redisUrl: REDIS_URL, prefix, maxBatchesInFlight: 12 });
    cleanup.push(() => placement.finish());
    const store = new RunStore(admin, new QueueNames('shadowfleet', prefix));
    // One local thread would hold 3 batches; no worker runs yet, so nothing comes back meanwhile.
    const run = new JobRun({
      client: { endpoint: a.url, region: 'us-east-1' },
      rates: 'off',
      batchSize: 5,
      workers: 1,
      placement,
    });
    cleanup.push(() => run.close());
    const done = collect(run, things('fa', 60));
    while (((await store.status(placement.runId))?.batches ?? 0) < 12) await new Promise((r) => setTimeout(r, 50));
    await worker(prefix);
    expect((await done).filter((r) => r.outcome === 'written')).toHaveLength(60);
  });

  it('stops every JobRun of the run when its one id is cancelled', async () => {
    const prefix = uniquePrefix('placement-cancel');
    await worker(prefix);
    let cancelled = 0;
    const placement = queuePlacement({ redisUrl: REDIS_URL, prefix, onCancel: () => (cancelled += 1) });
    cleanup.push(() => placement.finish());
    const store = new RunStore(admin, new QueueNames('shadowfleet', prefix));
    // A slow rate: each JobRun would take 20 s to finish.
    const ra = jobRun(a, placement, 5);
    const rb = jobRun(b, placement, 5);
    const runs = Promise.all([collect(ra, things('ca', 100)), collect(rb, things('cb', 100))]);
    // Both lanes have queued batches before the cancel.
    for (;;) {
      const s = await store.status(placement.runId);
      if (s !== undefined && s.batches >= 4) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await cancelRun(REDIS_URL, placement.runId, { prefix });
    const [resA, resB] = await runs;
    for (const res of [resA, resB]) {
      expect(res).toHaveLength(100);
      const stopped = res.filter((r) => r.error?.message.includes(`job ${placement.runId} was cancelled`));
      // The cancel reached this JobRun: its remaining things are reported stopped, none left waiting.
      expect(stopped.length).toBeGreaterThan(0);
      expect(stopped.length + res.filter((r) => r.outcome === 'written').length).toBe(100);
    }
    expect(cancelled).toBe(1);
    await placement.finish('done');
    expect(await store.state(placement.runId)).toBe('cancelled');
  });
});
