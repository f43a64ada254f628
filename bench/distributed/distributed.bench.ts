/**
 * Jobs on a Redis queue, one quota per account shared through Redis (issue 11):
 *
 * - quota: three `shadowfleet worker` processes take a rollout's batches from the queue against an
 *   emulator (its own process) whose account quota is 1,000/s per operation, the shared gate at
 *   1,000/s: things/s end to end (first batch queued to last result back) against the quota, and
 *   the share of requests answered 429;
 * - shared: two jobs (two submitters, two run ids) on the same account at once, the emulator's
 *   quota off so only the shared gate holds them: their combined UpdateThingShadow rate over
 *   every 10 s window while both run, against the 1,000/s quota;
 * - Redis calls per 1,000 things in the quota run: every command the Redis server processed
 *   (INFO total_commands_processed: queue, results, run records and gates together);
 * - scale: things/s with quotas off for 1, 2 and 3 worker processes, beside the local thread
 *   pool (2 threads) on the same emulator, same things.
 *
 *   node --import tsx bench/distributed/distributed.bench.ts [--quick]   (needs Redis: SHADOWFLEET_REDIS or redis://127.0.0.1:6379)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { Coordinator } from '../../src/engine/coordinator.js';
import { QueueBatchRunner } from '../../src/engine/queue/queue-batch-runner.js';
import type { QueuedRates } from '../../src/engine/queue/queued-batch.js';
import { connectRedis, RedisCallCounter } from '../../src/engine/queue/redis-connection.js';
import type { ItemResult, RolloutTaskConfig, TargetItem } from '../../src/engine/task-types.js';
import { startEmulatorProcess, type EmulatorProcess } from '../../src/emulator/index.js';

const WORKER = fileURLToPath(new URL('./worker-child.ts', import.meta.url));
const QUOTA = 1000;
const WINDOW_MS = 10_000;

interface Worker {
  child: ChildProcess;
  stopped: Promise<Record<string, unknown> | undefined>;
}

function startWorker(redis: string, prefix: string, id: string): Promise<Worker> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WORKER, JSON.stringify({ redis, queue: 'bench', prefix, id, concurrency: 4 })],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let buf = '';
  let resolveStarted: () => void;
  const started = new Promise<void>((r) => (resolveStarted = r));
  let last: Record<string, unknown> | undefined;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const e = JSON.parse(line) as Record<string, unknown>;
        if (e.msg === 'worker started') resolveStarted();
        if (e.msg === 'worker stopped') last = e;
      } catch {
        process.stderr.write(`${line}\n`);
      }
    }
  });
  const stopped = once(child, 'exit').then(() => last);
  return Promise.race([
    started,
    stopped.then(() => Promise.reject(new Error(`worker ${id} exited before starting`))),
  ]).then(() => ({ child, stopped }));
}

async function stopWorker(w: Worker): Promise<Record<string, unknown> | undefined> {
  w.child.kill('SIGTERM');
  return w.stopped;
}

interface FeedResult {
  things: number;
  ms: number;
  byOutcome: Record<string, number>;
  /** Failures by error code and message. */
  errors: Record<string, number>;
}

/** Feeds `n` things to `runner` in batches of 100 with `inFlight` batches at most; waits for every result. */
async function feed(
  runner: QueueBatchRunner,
  endpoint: string,
  n: number,
  tag: string,
  desired: RolloutTaskConfig['desired'],
  inFlight = 16,
): Promise<FeedResult> {
  const started = performance.now();
  const byOutcome: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  for (let i = 0; i < n; i += 100) {
    while (pending.size >= inFlight) await Promise.race(pending);
    const items: TargetItem[] = [];
    for (let j = i; j < Math.min(n, i + 100); j++) items.push({ thingName: `${tag}-${j}` });
    const p: Promise<void> = runner
      .run<RolloutTaskConfig>({
        kind: 'rollout',
        config: { desired, clientTokenPrefix: tag },
        client: { endpoint, region: 'us-east-1' },
        items,
        thingLimits: { thingRps: 20, thingInFlight: 10 },
      })
      .then((rs: ItemResult[]) => {
        for (const r of rs) {
          byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
          if (r.error !== undefined)
            errors[`${r.error.code}: ${r.error.message}`.slice(0, 160)] =
              (errors[`${r.error.code}: ${r.error.message}`.slice(0, 160)] ?? 0) + 1;
        }
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
  return { things: n, ms: performance.now() - started, byOutcome, errors };
}

async function openRunner(
  redis: string,
  prefix: string,
  kind: string,
  rates: QueuedRates | 'off',
  counter?: RedisCallCounter,
): Promise<QueueBatchRunner> {
  return QueueBatchRunner.open({
    redisUrl: redis,
    queue: 'bench',
    prefix,
    run: { kind, identity: 'bench' },
    rates,
    ...(counter === undefined ? {} : { counter }),
  });
}

async function commandsProcessed(r: Redis): Promise<number> {
  const info = await r.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

type Stats = {
  operations: Record<string, { requests: number; throttled: number }>;
  totals: { requests: number; throttled: number };
};

export async function runDistributedBench(
  o: { quick?: boolean; redis?: string; log?: (l: string) => void } = {},
): Promise<Record<string, unknown>> {
  const quick = o.quick ?? false;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const redisUrl = o.redis ?? process.env.SHADOWFLEET_REDIS ?? 'redis://127.0.0.1:6379';
  const admin = await connectRedis(redisUrl);
  const prefix = `sfbench${Date.now().toString(36)}`;
  const workers: Worker[] = [];
  const out: Record<string, unknown> = { quota: QUOTA };
  let emu: EmulatorProcess | undefined;
  try {
    const three = async (): Promise<void> => {
      for (let i = 1; i <= 3; i++) workers.push(await startWorker(redisUrl, prefix, `w${i}`));
    };
    // quota: three workers, emulator and gate at 1,000/s.
    await three();
    emu = await startEmulatorProcess({ accountRps: QUOTA });
    const n = quick ? 8000 : 15000;
    const c0 = await commandsProcessed(admin);
    const counter = new RedisCallCounter();
    const r1 = await openRunner(redisUrl, prefix, 'rollout', { accountRps: QUOTA }, counter);
    const a = await feed(r1, emu.url, n, 'q', { fw: 'quota' });
    const c1 = await commandsProcessed(admin);
    const status = await r1.status();
    await r1.close();
    // Round trips: the submitter's and each worker's (gates, run records, BullMQ), as counted by the clients.
    let calls = counter.calls;
    for (const w of workers.splice(0)) calls += Number((await stopWorker(w))?.redisCalls ?? Number.NaN);
    const st = (await emu.stats()) as Stats;
    out.quotaRun = {
      things: a.things,
      seconds: a.ms / 1000,
      thingsPerSecond: (a.things * 1000) / a.ms,
      share: (a.things * 1000) / a.ms / QUOTA,
      requests: st.totals.requests,
      throttled: st.totals.throttled,
      throttledShare: st.totals.throttled / Math.max(1, st.totals.requests),
      byOutcome: a.byOutcome,
      errors: a.errors,
      redisCalls: calls,
      redisCallsPer1000Things: (calls * 1000) / a.things,
      // The server's count includes the commands each Lua script runs inside Redis.
      redisServerCommandsPer1000Things: ((c1 - c0) * 1000) / a.things,
      perWorker: status?.workers.map((w) => ({
        worker: w.worker,
        items: w.items,
        itemsPerSecond: Math.round(w.itemsPerSecond),
      })),
    };
    log(`  quota: ${JSON.stringify(out.quotaRun)}`);
    await emu.close();
    emu = undefined;

    // shared: two jobs on one account, the emulator's quota off: only the shared gate holds them.
    emu = await startEmulatorProcess({ quotas: 'off' });
    await three();
    const each = quick ? 6000 : 10000;
    const samples: Array<{ t: number; n: number }> = [];
    const url = emu.url;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = (await emu!.stats()) as Stats;
        samples.push({ t: performance.now(), n: s.operations.UpdateThingShadow?.requests ?? 0 });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const [j1, j2] = await Promise.all([
      openRunner(redisUrl, prefix, 'rollout', { accountRps: QUOTA }),
      openRunner(redisUrl, prefix, 'rollout', { accountRps: QUOTA }),
    ]);
    const t0 = performance.now();
    const ends: number[] = [];
    await Promise.all([
      feed(j1!, url, each, 's1', { fw: 's' }, 8).then(() => ends.push(performance.now())),
      feed(j2!, url, each, 's2', { fw: 's' }, 8).then(() => ends.push(performance.now())),
    ]);
    sampling = false;
    await sampler;
    await Promise.all([j1!.close(), j2!.close()]);
    // Windows of 10 s (as the gate scenario: a burst of 0.1 s of the rate is 1% of one) from
    // 1.5 s after the start to the first job's end (both running).
    const from = t0 + 1500;
    const to = Math.min(...ends);
    const rates: number[] = [];
    for (let i = samples.findIndex((s) => s.t >= from); i >= 0 && i < samples.length; i++) {
      const j = samples.findIndex((s) => s.t >= samples[i]!.t + WINDOW_MS);
      if (j < 0 || samples[j]!.t > to) break;
      rates.push(((samples[j]!.n - samples[i]!.n) * 1000) / (samples[j]!.t - samples[i]!.t));
    }
    const combined = (2 * each * 1000) / (Math.max(...ends) - t0);
    // The rate over the whole time both ran (first sample after the start to the last before the first end).
    const first = samples.find((x) => x.t >= t0);
    const last = [...samples].reverse().find((x) => x.t <= to);
    const overlapRate =
      first !== undefined && last !== undefined && last.t > first.t
        ? ((last.n - first.n) * 1000) / (last.t - first.t)
        : Number.NaN;
    out.sharedRun = {
      jobs: 2,
      thingsPerJob: each,
      windowSeconds: WINDOW_MS / 1000,
      windows: rates.length,
      minWindow: Math.round(Math.min(...rates)),
      maxWindow: Math.round(Math.max(...rates)),
      maxShare: Math.max(...rates) / QUOTA,
      minShare: Math.min(...rates) / QUOTA,
      overlapUpdatesPerSecond: overlapRate,
      overlapShare: overlapRate / QUOTA,
      combinedThingsPerSecond: combined,
    };
    log(`  shared: ${JSON.stringify(out.sharedRun)}`);

    // scale: quotas off, 3, 2, 1 workers, then the local pool.
    for (const w of workers.splice(0)) await stopWorker(w);
    await three();
    const m = quick ? 8000 : 20000;
    const scale: Array<{ runner: string; thingsPerSecond: number }> = [];
    for (let k = 3; k >= 1; k--) {
      const r = await openRunner(redisUrl, prefix, 'rollout', 'off');
      const f = await feed(r, url, m, `x${k}`, { fw: `x${k}` }, 6 * k);
      await r.close();
      scale.push({ runner: `${k} worker process${k > 1 ? 'es' : ''}`, thingsPerSecond: (f.things * 1000) / f.ms });
      log(`  scale: ${k} workers ${Math.round((f.things * 1000) / f.ms)} things/s`);
      if (k > 1) await stopWorker(workers.pop()!);
    }
    const coord = new Coordinator({ client: { endpoint: url, region: 'us-east-1' }, workers: 2, rates: 'off' });
    const lt0 = performance.now();
    const items = (function* () {
      for (let i = 0; i < m; i++) yield { thingName: `lp-${i}` };
    })();
    await coord.run<RolloutTaskConfig>(
      'rollout',
      { desired: { fw: 'local' }, clientTokenPrefix: 'lp' },
      items,
      () => undefined,
    );
    const lms = performance.now() - lt0;
    await coord.close();
    scale.push({ runner: 'local pool (2 threads)', thingsPerSecond: (m * 1000) / lms });
    log(`  scale: local pool ${Math.round((m * 1000) / lms)} things/s`);
    out.scale = scale;
  } finally {
    await emu?.close().catch(() => undefined);
    await Promise.all(workers.map((w) => stopWorker(w)));
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await admin.del(...keys);
    } while (cursor !== '0');
    admin.disconnect();
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runDistributedBench({ quick: process.argv.includes('--quick') });
  console.log(JSON.stringify(r));
}
