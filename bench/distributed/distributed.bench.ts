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
 * - Redis calls per 1,000 things in the quota run: every command the submitter's and the
 *   workers' clients sent (queue, results, run records and gates together); beside it the
 *   server's count (INFO total_commands_processed, which includes the commands each Lua script
 *   runs, and any other client of the same server);
 * - scale: things/s with quotas off for 3, 2 and 1 worker processes, beside the local thread
 *   pool (2 threads) on the same emulator, same things.
 *
 * The same three worker processes serve every part (one more or one fewer would change what
 * shares the two cores). Before the quota run a short job of its own warms the workers, their
 * shared gate and the emulator (JIT, connections, limiters), and the emulator's bucket refills:
 * the measured run starts from processes as a long job has them after its first second. The
 * local pool is warmed the same way.
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
  /** The Redis calls the worker has sent so far (asked with SIGUSR2). */
  calls(): Promise<number>;
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
  const callWaiters: Array<(n: number) => void> = [];
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
        if (e.msg === 'redis calls') callWaiters.shift()?.(Number(e.calls));
      } catch {
        process.stderr.write(`${line}\n`);
      }
    }
  });
  const stopped = once(child, 'exit').then(() => last);
  const calls = (): Promise<number> =>
    new Promise<number>((resolve) => {
      callWaiters.push(resolve);
      child.kill('SIGUSR2');
    });
  return Promise.race([
    started,
    stopped.then(() => Promise.reject(new Error(`worker ${id} exited before starting`))),
  ]).then(() => ({ child, stopped, calls }));
}

async function stopWorker(w: Worker): Promise<Record<string, unknown> | undefined> {
  w.child.kill('SIGTERM');
  return w.stopped;
}

interface FeedResult {
  things: number;
  ms: number;
  /** When the first batch's results came back. */
  firstResultMs: number;
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
  let firstResultMs = Number.NaN;
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
        if (Number.isNaN(firstResultMs)) firstResultMs = performance.now() - started;
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
  return { things: n, ms: performance.now() - started, firstResultMs, byOutcome, errors };
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
  uptimeMs: number;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Three workers, emulator and gate at 1,000/s: things/s end to end, throttles, Redis calls. */
async function quotaRun(
  workers: Worker[],
  admin: Redis,
  redisUrl: string,
  prefix: string,
  n: number,
): Promise<Record<string, unknown>> {
  const emu = await startEmulatorProcess({ accountRps: QUOTA });
  try {
    // Warm-up: a job of its own (its own run id), then the emulator's bucket (1 s) refills.
    const warm = await openRunner(redisUrl, prefix, 'rollout', { accountRps: QUOTA });
    await feed(warm, emu.url, 1000, 'qw', { fw: 'warm' });
    await warm.close();
    await sleep(1500);
    const s0 = (await emu.stats()) as Stats;
    const w0 = await Promise.all(workers.map((w) => w.calls()));
    const c0 = await commandsProcessed(admin);
    const counter = new RedisCallCounter();
    const r1 = await openRunner(redisUrl, prefix, 'rollout', { accountRps: QUOTA }, counter);
    const a = await feed(r1, emu.url, n, 'q', { fw: 'quota' });
    const c1 = await commandsProcessed(admin);
    const w1 = await Promise.all(workers.map((w) => w.calls()));
    const status = await r1.status();
    await r1.close();
    // Round trips: the submitter's and each worker's (gates, run records, BullMQ), as counted by the clients.
    const calls = counter.calls + w1.reduce((sum, c, i) => sum + c - (w0[i] as number), 0);
    const s1 = (await emu.stats()) as Stats;
    const requests = s1.totals.requests - s0.totals.requests;
    const throttled = s1.totals.throttled - s0.totals.throttled;
    return {
      things: a.things,
      seconds: a.ms / 1000,
      firstResultSeconds: a.firstResultMs / 1000,
      thingsPerSecond: (a.things * 1000) / a.ms,
      share: (a.things * 1000) / a.ms / QUOTA,
      requests,
      throttled,
      throttledShare: throttled / Math.max(1, requests),
      byOutcome: a.byOutcome,
      errors: a.errors,
      redisCalls: calls,
      redisCallsPer1000Things: (calls * 1000) / a.things,
      // The server's count includes the commands each Lua script runs inside Redis (and any other client's).
      redisServerCommandsPer1000Things: ((c1 - c0) * 1000) / a.things,
      perWorker: status?.workers.map((w) => ({
        worker: w.worker,
        items: w.items,
        itemsPerSecond: Math.round(w.itemsPerSecond),
      })),
    };
  } finally {
    await emu.close();
  }
}

/** Two jobs on one account, the emulator's quota off: only the shared gate holds them. */
async function sharedRun(redisUrl: string, prefix: string, url: string, emu: EmulatorProcess, each: number) {
  // Each sample: when it came back here (t), the emulator's own clock when it counted (e), the count.
  // Windows are timed by the emulator's clock, as its quota would be: a stall of this process
  // between the count and the reply (a busy machine) would otherwise shorten a window and inflate it.
  const samples: Array<{ t: number; e: number; n: number }> = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = (await emu.stats()) as Stats;
      samples.push({ t: performance.now(), e: s.uptimeMs, n: s.operations.UpdateThingShadow?.requests ?? 0 });
      await sleep(100);
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
    const j = samples.findIndex((s) => s.e >= samples[i]!.e + WINDOW_MS);
    if (j < 0 || samples[j]!.t > to) break;
    rates.push(((samples[j]!.n - samples[i]!.n) * 1000) / (samples[j]!.e - samples[i]!.e));
  }
  const combined = (2 * each * 1000) / (Math.max(...ends) - t0);
  // The rate over the whole time both ran (first sample after the start to the last before the first end).
  const first = samples.find((x) => x.t >= t0);
  const last = [...samples].reverse().find((x) => x.t <= to);
  const overlapRate =
    first !== undefined && last !== undefined && last.t > first.t
      ? ((last.n - first.n) * 1000) / (last.e - first.e)
      : Number.NaN;
  return {
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
}

/** Quotas off: 3, 2 and 1 of the (warm) worker processes, then the local pool (warmed first). */
async function scaleRun(
  workers: Worker[],
  redisUrl: string,
  prefix: string,
  url: string,
  m: number,
  log: (l: string) => void,
): Promise<Array<{ runner: string; thingsPerSecond: number }>> {
  const scale: Array<{ runner: string; thingsPerSecond: number }> = [];
  for (let k = workers.length; k >= 1; k--) {
    const r = await openRunner(redisUrl, prefix, 'rollout', 'off');
    const f = await feed(r, url, m, `x${k}`, { fw: `x${k}` }, 6 * k);
    await r.close();
    scale.push({ runner: `${k} worker process${k > 1 ? 'es' : ''}`, thingsPerSecond: (f.things * 1000) / f.ms });
    log(`  scale: ${k} workers ${Math.round((f.things * 1000) / f.ms)} things/s`);
    if (k > 1) await stopWorker(workers.pop()!);
  }
  const coord = new Coordinator({ client: { endpoint: url, region: 'us-east-1' }, workers: 2, rates: 'off' });
  const things = function* (tag: string, count: number) {
    for (let i = 0; i < count; i++) yield { thingName: `${tag}-${i}` };
  };
  const rollout = (tag: string, count: number) =>
    coord.run<RolloutTaskConfig>(
      'rollout',
      { desired: { fw: tag }, clientTokenPrefix: tag },
      things(tag, count),
      () => undefined,
    );
  await rollout('lw', 1000);
  const lt0 = performance.now();
  await rollout('lp', m);
  const lms = performance.now() - lt0;
  await coord.close();
  scale.push({ runner: 'local pool (2 threads)', thingsPerSecond: (m * 1000) / lms });
  log(`  scale: local pool ${Math.round((m * 1000) / lms)} things/s`);
  return scale;
}

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
    for (let i = 1; i <= 3; i++) workers.push(await startWorker(redisUrl, prefix, `w${i}`));
    out.quotaRun = await quotaRun(workers, admin, redisUrl, prefix, quick ? 8000 : 15000);
    log(`  quota: ${JSON.stringify(out.quotaRun)}`);
    emu = await startEmulatorProcess({ quotas: 'off' });
    out.sharedRun = await sharedRun(redisUrl, prefix, emu.url, emu, quick ? 6000 : 10000);
    log(`  shared: ${JSON.stringify(out.sharedRun)}`);
    out.scale = await scaleRun(workers, redisUrl, prefix, emu.url, quick ? 8000 : 20000, log);
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
