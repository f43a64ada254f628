/**
 * Rollout benchmark: shadowfleet's rollout against the way users write it today (AWS SDK v3
 * `@aws-sdk/client-iot-data-plane` + p-limit, 64 concurrent: get, merge, update per thing), on
 * the same emulator, in the same run. The emulator runs in its own process.
 *
 * Scenarios:
 *   throughput  quotas off: things/s of each, and the ratio (goal >= 4x);
 *   quota       emulator account quota 2,000/s per operation: achieved rate (goal >= 95% of the
 *               quota) and share of throttled requests (goal < 0.5%), beside the baseline's;
 *   memory      a dry-run rollout over BENCH_MEMORY_THINGS (default 1,000,000) target names in
 *               its own process: peak RSS (goal < 300 MB);
 *   bytes       a one-key change to a 2 KB desired document: bytes sent against the whole
 *               document (goal < 10%).
 *
 * Environment: BENCH_THINGS (throughput things per side, default 20,000), BENCH_SECONDS (quota
 * scenario length, default 10), BENCH_MEMORY_THINGS (default 1,000,000), BENCH_WORKERS (default
 * cores - 1), BENCH_SCENARIOS (comma list). `--quick` scales everything down; `--json` prints only the JSON.
 *
 *   node --import tsx bench/rollout/rollout.bench.ts [--quick] [--json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GetThingShadowCommand, IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import pLimit from 'p-limit';
import { seededThingName } from '../../src/emulator/seed-things.js';
import type { EmulatorStats } from '../../src/emulator/index.js';
import type { JsonObject } from '../../src/shadow/index.js';
import { startEmulatorProcess, type EmulatorProcess } from '../../src/emulator/index.js';
import { runRollout } from '../../src/jobs/rollout/rollout.js';
import { runChild, writeNames } from '../lib/child-process.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CREDENTIALS = { accessKeyId: 'AKIDBENCHLOCAL', secretAccessKey: 'bench-local-secret' };

export type RolloutBenchScenario = 'throughput' | 'quota' | 'memory' | 'bytes';

export interface RolloutBenchOptions {
  quick?: boolean;
  /** Things per side in the throughput scenario. */
  things?: number;
  /** Length of the quota scenario per side, seconds. */
  seconds?: number;
  /** Target names in the memory scenario. */
  memoryThings?: number;
  scenarios?: RolloutBenchScenario[];
  /** Emulator account quota of the quota scenario, requests/s per operation. Default 2000. */
  quota?: number;
  /**
   * Worker threads of the shadowfleet side. Default: the core count minus one (at least 1): the
   * emulator shares this machine and needs a core; one thread signs ~5,000 things/s here, more
   * than the default 4,000/s quota needs.
   */
  workers?: number;
  log?: (line: string) => void;
}

export interface SideNumbers {
  things: number;
  ok: number;
  failed: number;
  elapsedMs: number;
  thingsPerSecond: number;
  /** CPU time of the benchmark process (all its threads) per thing, ms: the client's cost, robust to a busy machine. */
  cpuMsPerThing: number;
}

export interface RolloutBenchResult {
  throughput?: {
    shadowfleet: SideNumbers;
    baseline: SideNumbers;
    ratio: number;
    cpuRatio: number;
    goal: 4;
    pass: boolean;
  };
  quota?: {
    quota: number;
    shadowfleet: SideNumbers & {
      achievedRps: number;
      achievedShare: number;
      throttledShare: number;
      requests: number;
      throttled: number;
    };
    baseline: SideNumbers & {
      achievedRps: number;
      achievedShare: number;
      throttledShare: number;
      requests: number;
      throttled: number;
    };
    pass: boolean;
  };
  memory?: {
    things: number;
    peakRssMb: number;
    elapsedMs: number;
    thingsPerSecond: number;
    byOutcome: Record<string, number>;
    goalMb: 300;
    pass: boolean;
  };
  bytes?: {
    documentBytes: number;
    shadowfleetBytesPerThing: number;
    baselineBytesPerThing: number;
    sentShare: number;
    ratio: number;
    goal: 0.1;
    pass: boolean;
  };
}

function thingNames(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => seededThingName(from + i));
}

const CHANGE: JsonObject = { firmware: '2.0.0', mode: 'eco' };

/** The baseline, written the way users write it today: SDK v3, p-limit(64), get, merge, update. */
async function baseline(
  url: string,
  names: string[],
  change: JsonObject,
): Promise<SideNumbers & { bytesSent: number }> {
  const client = new IoTDataPlaneClient({ endpoint: url, region: 'us-east-1', credentials: CREDENTIALS });
  const limit = pLimit(64);
  let ok = 0;
  let failed = 0;
  let bytesSent = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    names.map((thingName) =>
      limit(async () => {
        try {
          let desired: Record<string, unknown> = {};
          try {
            const out = await client.send(new GetThingShadowCommand({ thingName }));
            const doc = JSON.parse(Buffer.from(out.payload ?? new Uint8Array()).toString('utf8')) as {
              state?: { desired?: Record<string, unknown> };
            };
            desired = doc.state?.desired ?? {};
          } catch (err) {
            if ((err as Error).name !== 'ResourceNotFoundException') throw err;
          }
          const payload = Buffer.from(JSON.stringify({ state: { desired: { ...desired, ...change } } }));
          bytesSent += payload.length;
          await client.send(new UpdateThingShadowCommand({ thingName, payload }));
          ok += 1;
        } catch {
          failed += 1;
        }
      }),
    ),
  );
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  client.destroy();
  return {
    things: names.length,
    ok,
    failed,
    elapsedMs: Math.round(elapsedMs),
    thingsPerSecond: round((ok / elapsedMs) * 1000),
    cpuMsPerThing: round((cpu.user + cpu.system) / 1000 / names.length, 3),
    bytesSent,
  };
}

async function shadowfleet(url: string, names: string[], change: JsonObject, rate: number | 'off', workers: number) {
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const r = await runRollout({
    endpoint: url,
    credentials: CREDENTIALS,
    targets: names,
    desired: change,
    rate: rate === 'off' ? 'off' : { perSecond: rate },
    yes: true,
    workers,
  });
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const ok = r.summary.things - r.summary.failed;
  const side: SideNumbers = {
    things: names.length,
    ok,
    failed: r.summary.failed,
    elapsedMs: Math.round(elapsedMs),
    thingsPerSecond: round((ok / elapsedMs) * 1000),
    cpuMsPerThing: round((cpu.user + cpu.system) / 1000 / names.length, 3),
  };
  return { side, result: r };
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Samples the emulator's counters once a second while `work` runs; returns the accepted rate per operation in the steady part. */
async function sampled<T>(
  emu: EmulatorProcess,
  work: () => Promise<T>,
): Promise<{ value: T; achievedRps: number; requests: number; throttled: number }> {
  const stats = async (): Promise<EmulatorStats> => (await emu.stats()) as EmulatorStats;
  const samples: Array<{ t: number; s: EmulatorStats }> = [{ t: performance.now(), s: await stats() }];
  let done = false;
  const poller = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!done) samples.push({ t: performance.now(), s: await stats() });
    }
  })();
  const value = await work();
  done = true;
  await poller;
  samples.push({ t: performance.now(), s: await stats() });
  const accepted = (s: EmulatorStats): number => {
    const ops = [s.operations.GetThingShadow, s.operations.UpdateThingShadow];
    return ops.reduce((a, o) => a + o.requests - o.throttled - o.faults, 0) / ops.length;
  };
  // Steady state: whole one-second intervals with work going on, the first one (pool start) excluded.
  const rates: number[] = [];
  for (let i = 2; i < samples.length - 1; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    rates.push(((accepted(b.s) - accepted(a.s)) / (b.t - a.t)) * 1000);
  }
  const first = samples[0]!.s;
  const last = samples[samples.length - 1]!.s;
  const requests = last.totals.requests - first.totals.requests;
  const throttled = last.totals.throttled - first.totals.throttled;
  const overall = ((accepted(last) - accepted(first)) / (samples[samples.length - 1]!.t - samples[0]!.t)) * 1000;
  const achievedRps = rates.length > 0 ? rates.reduce((a, b) => a + b, 0) / rates.length : overall;
  return { value, achievedRps: round(achievedRps), requests, throttled };
}

export async function runRolloutBench(opts: RolloutBenchOptions = {}): Promise<RolloutBenchResult> {
  const quick = opts.quick === true;
  const log = opts.log ?? (() => {});
  const scenarios = new Set(opts.scenarios ?? ['throughput', 'quota', 'memory', 'bytes']);
  // Enough things that the worker pool's start (tsx compiles the worker from source) is amortized.
  const things = opts.things ?? (quick ? 5000 : 20_000);
  const seconds = opts.seconds ?? (quick ? 4 : 10);
  const memoryThings = opts.memoryThings ?? (quick ? 100_000 : 1_000_000);
  const quota = opts.quota ?? 2000;
  const workers = opts.workers ?? Math.max(1, availableParallelism() - 1);
  const out: RolloutBenchResult = {};

  if (scenarios.has('throughput')) {
    log(`throughput: ${things} things per side, emulator quotas off`);
    const emu = await startEmulatorProcess({ quotas: 'off', seedThings: things * 2 });
    try {
      const base = await baseline(emu.url, thingNames(0, things), CHANGE);
      const sf = await shadowfleet(emu.url, thingNames(things, things), CHANGE, 'off', workers);
      const ratio = round(sf.side.thingsPerSecond / Math.max(base.thingsPerSecond, 1e-9), 2);
      const { bytesSent: _b, ...baseSide } = base;
      const cpuRatio = round(baseSide.cpuMsPerThing / Math.max(sf.side.cpuMsPerThing, 1e-9), 2);
      out.throughput = { shadowfleet: sf.side, baseline: baseSide, ratio, cpuRatio, goal: 4, pass: ratio >= 4 };
    } finally {
      await emu.close();
    }
  }

  if (scenarios.has('quota')) {
    const n = quota * seconds;
    log(`quota: emulator account quota ${quota}/s per operation, ${n} things per side`);
    const emu = await startEmulatorProcess({ accountRps: quota, seedThings: n * 2 });
    try {
      const sf = await sampled(emu, () => shadowfleet(emu.url, thingNames(0, n), CHANGE, quota, workers));
      // let the emulator's buckets refill before the baseline starts
      await new Promise((r) => setTimeout(r, 1000));
      const base = await sampled(emu, () => baseline(emu.url, thingNames(n, n), CHANGE));
      const side = (v: SideNumbers, s: { achievedRps: number; requests: number; throttled: number }) => ({
        ...v,
        achievedRps: s.achievedRps,
        achievedShare: round(s.achievedRps / quota, 3),
        throttledShare: s.requests > 0 ? round(s.throttled / s.requests, 4) : 0,
        requests: s.requests,
        throttled: s.throttled,
      });
      const { bytesSent: _b, ...baseSide } = base.value;
      const sfNumbers = side(sf.value.side, sf);
      out.quota = {
        quota,
        shadowfleet: sfNumbers,
        baseline: side(baseSide, base),
        pass: sfNumbers.achievedShare >= 0.95 && sfNumbers.throttledShare < 0.005,
      };
    } finally {
      await emu.close();
    }
  }

  if (scenarios.has('memory')) {
    log(`memory: dry-run rollout over ${memoryThings} target names in its own process`);
    const dir = await mkdtemp(join(tmpdir(), 'sf-bench-rollout-'));
    const emu = await startEmulatorProcess({ quotas: 'off' });
    try {
      const file = join(dir, 'things.txt');
      await writeNames(file, memoryThings, (i) => `mem-${String(i).padStart(7, '0')}`);
      const m = await runChild<{
        things: number;
        peakRssBytes: number;
        elapsedMs: number;
        thingsPerSecond: number;
        byOutcome: Record<string, number>;
      }>(join(HERE, 'memory-child.ts'), { endpoint: emu.url, things: file, dryRun: true, workers }, 'memory child');
      const peakRssMb = round(m.peakRssBytes / 1024 / 1024);
      out.memory = {
        things: m.things,
        peakRssMb,
        elapsedMs: m.elapsedMs,
        thingsPerSecond: m.thingsPerSecond,
        byOutcome: m.byOutcome,
        goalMb: 300,
        pass: peakRssMb < 300 && m.things === memoryThings,
      };
    } finally {
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  if (scenarios.has('bytes')) {
    log('bytes: one-key change to a 2 KB desired document');
    const emu = await startEmulatorProcess({ quotas: 'off' });
    try {
      const n = 200;
      const names = Array.from({ length: n }, (_, i) => `bytes-${i}`);
      const doc: JsonObject = { version: 1 };
      for (let k = 0; Buffer.byteLength(JSON.stringify(doc)) < 2048; k++)
        doc[`setting${k}`] = { value: `v-${k}-${'x'.repeat(24)}`, enabled: k % 2 === 0 };
      const documentBytes = Buffer.byteLength(JSON.stringify(doc));
      const limit = pLimit(16);
      await Promise.all(
        [...names, ...names.map((x) => `base-${x}`)].map((name) =>
          limit(async () => {
            const res = await fetch(`${emu.url}/things/${name}/shadow`, {
              method: 'POST',
              body: JSON.stringify({ state: { desired: doc } }),
            });
            await res.arrayBuffer();
          }),
        ),
      );
      const sf = await shadowfleet(emu.url, names, { version: 2 }, 'off', workers);
      const base = await baseline(
        emu.url,
        names.map((x) => `base-${x}`),
        { version: 2 },
      );
      const sfPer = round(sf.result.summary.bytesSent / n);
      const basePer = round(base.bytesSent / n);
      const sentShare = round(sf.result.summary.bytesSent / Math.max(sf.result.summary.wholeBytes, 1), 4);
      out.bytes = {
        documentBytes,
        shadowfleetBytesPerThing: sfPer,
        baselineBytesPerThing: basePer,
        sentShare,
        ratio: round(sfPer / basePer, 4),
        goal: 0.1,
        pass: sentShare < 0.1,
      };
    } finally {
      await emu.close();
    }
  }
  return out;
}

function table(result: RolloutBenchResult): string {
  const rows: string[][] = [
    ['scenario', 'shadowfleet', 'baseline (SDK v3 + p-limit 64)', 'ratio / share', 'goal', 'pass'],
  ];
  const t = result.throughput;
  if (t) {
    rows.push([
      'throughput, quotas off (things/s)',
      String(t.shadowfleet.thingsPerSecond),
      String(t.baseline.thingsPerSecond),
      `${t.ratio}x`,
      '>= 4x',
      t.pass ? 'yes' : 'NO',
    ]);
    rows.push([
      'client CPU per thing (ms, all threads)',
      String(t.shadowfleet.cpuMsPerThing),
      String(t.baseline.cpuMsPerThing),
      `${t.cpuRatio}x less`,
      '',
      '',
    ]);
  }
  const q = result.quota;
  if (q) {
    rows.push([
      `achieved rate at ${q.quota}/s quota (req/s/op)`,
      String(q.shadowfleet.achievedRps),
      String(q.baseline.achievedRps),
      `${(q.shadowfleet.achievedShare * 100).toFixed(1)}% vs ${(q.baseline.achievedShare * 100).toFixed(1)}%`,
      '>= 95%',
      q.shadowfleet.achievedShare >= 0.95 ? 'yes' : 'NO',
    ]);
    rows.push([
      'throttled share of requests',
      `${(q.shadowfleet.throttledShare * 100).toFixed(2)}%`,
      `${(q.baseline.throttledShare * 100).toFixed(2)}%`,
      '',
      '< 0.5%',
      q.shadowfleet.throttledShare < 0.005 ? 'yes' : 'NO',
    ]);
    rows.push(['failed things at quota', String(q.shadowfleet.failed), String(q.baseline.failed), '', '', '']);
  }
  const m = result.memory;
  if (m)
    rows.push([
      `peak RSS, ${m.things} targets (MB)`,
      String(m.peakRssMb),
      '',
      `${m.thingsPerSecond} things/s`,
      '< 300 MB',
      m.pass ? 'yes' : 'NO',
    ]);
  const b = result.bytes;
  if (b)
    rows.push([
      `bytes per thing, 1-key change of ${b.documentBytes} B doc`,
      String(b.shadowfleetBytesPerThing),
      String(b.baselineBytesPerThing),
      `${(b.sentShare * 100).toFixed(1)}% of doc`,
      '< 10%',
      b.pass ? 'yes' : 'NO',
    ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const env = process.env;
  const opts: RolloutBenchOptions = { quick: argv.includes('--quick') };
  if (env.BENCH_THINGS) opts.things = Number(env.BENCH_THINGS);
  if (env.BENCH_SECONDS) opts.seconds = Number(env.BENCH_SECONDS);
  if (env.BENCH_MEMORY_THINGS) opts.memoryThings = Number(env.BENCH_MEMORY_THINGS);
  if (env.BENCH_WORKERS) opts.workers = Number(env.BENCH_WORKERS);
  if (env.BENCH_SCENARIOS) opts.scenarios = env.BENCH_SCENARIOS.split(',') as RolloutBenchScenario[];
  if (!json) opts.log = (line) => process.stderr.write(`${line}\n`);
  const result = await runRolloutBench(opts);
  if (!json) process.stdout.write(`${table(result)}\n\n`);
  process.stdout.write(`${JSON.stringify(result, null, json ? 0 : 2)}\n`);
}
