/**
 * Emulator throughput against the floor: a bare node:http server that does no shadow work
 * (it answers canned documents of the emulator's size and headers) and the emulator with quotas off, each in its own child process, driven from this process with
 * undici at fixed concurrency for UpdateThingShadow and GetThingShadow, in alternating slices.
 * Prints ops/s of each, their ratio, and server CPU per op (the steadier figure on a shared
 * machine, where the driver in this process competes for the same cores). Also a memory
 * scenario: N shadows of about 500 bytes stored through the store API in a child process.
 *
 *   node --import tsx bench/emulator/emulator.bench.ts [--json]
 *   env: BENCH_SECONDS (5), BENCH_ROUNDS (5), BENCH_CONCURRENCY (64), BENCH_THINGS (1000),
 *        BENCH_MEMORY_SHADOWS (1000000; 0 skips), BENCH_SCENARIOS (update,get)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

export interface EmulatorBenchOptions {
  /** Seconds per measured run. Default env BENCH_SECONDS or 5. */
  seconds?: number;
  /** Requests in flight. Default 64. */
  concurrency?: number;
  /** Distinct things the load spreads over. Default 1000. */
  things?: number;
  /** Shadows stored in the memory scenario (0 skips it). Default 1,000,000. */
  memoryShadows?: number;
  /** Alternating slices per scenario (each server gets seconds/rounds per slice). Default env BENCH_ROUNDS or 5. */
  rounds?: number;
  /** Which throughput scenarios to run. Default both. */
  scenarios?: Array<'update' | 'get'>;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

export interface ThroughputRow {
  scenario: 'update' | 'get';
  bareOpsPerSec: number;
  emulatorOpsPerSec: number;
  /** emulator / bare. */
  ratio: number;
  emulatorErrors: number;
  emulatorP50Ms: number;
  emulatorP99Ms: number;
  /** Server CPU per op, µs: the cost the client-bound ops/s can hide. */
  bareCpuUsPerOp: number;
  emulatorCpuUsPerOp: number;
  /** bare CPU / emulator CPU per op (1 = the emulator costs no more than the floor). */
  cpuRatio: number;
}

export interface MemoryResult {
  shadows: number;
  bytesPerShadowState: number;
  rssBytes: number;
  heapUsedBytes: number;
  rssPerShadowBytes: number;
  ms: number;
}

export interface EmulatorBenchResult {
  seconds: number;
  rounds: number;
  concurrency: number;
  things: number;
  throughput: ThroughputRow[];
  memory: MemoryResult | undefined;
}

const SELF = fileURLToPath(import.meta.url);

// ---- child process roles ----------------------------------------------------------------------

const SEED_BODY =
  '{"state":{"desired":{"config":{"level":1,"mode":"eco","limits":[1,2]},"fw":"1.4.2"},"reported":{"config":{"level":0,"mode":"eco"},"fw":"1.4.1","battery":88}}}';

async function childBare(): Promise<void> {
  const { createServer } = await import('node:http');
  // The floor answers canned documents of the same size and headers as the emulator's answers
  // (built once, here, at startup), so the ratio measures the shadow work, not the bytes.
  const { ShadowStore } = await import('../../src/emulator/shadow-store.js');
  const store = new ShadowStore();
  store.update('bench-0', undefined, SEED_BODY);
  const accepted = store.update(
    'bench-0',
    undefined,
    JSON.stringify({ state: { desired: { config: { level: 7, mode: 'eco', limits: [7, 8] }, fw: '1.4.2' } } }),
  );
  const postBody = accepted.ok ? accepted.body : '{}';
  const getBody = store.getJson('bench-0', undefined)!;
  const requestId = '527597da-add2-4459-862f-000000000001';
  const server = createServer((req, res) => {
    // Drain the body as any server must, then answer a fixed document.
    req.on('data', () => {});
    req.on('end', () => {
      const body = req.method === 'POST' ? postBody : getBody;
      res.writeHead(200, [
        'Content-Type',
        'application/json',
        'Content-Length',
        String(Buffer.byteLength(body)),
        'x-amzn-RequestId',
        requestId,
      ]);
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address() as { port: number };
    process.send!({ url: `http://127.0.0.1:${addr.port}` });
  });
  process.on('message', (m) => {
    if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
    if (m === 'stop') {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    }
  });
}

async function childEmulator(): Promise<void> {
  const { startEmulator } = await import('../../src/emulator/index.js');
  const emulator = await startEmulator({ quotas: 'off' });
  process.send!({ url: emulator.url });
  process.on('message', (m) => {
    if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
    if (m === 'stop') void emulator.close().then(() => process.exit(0));
  });
}

async function childMemory(): Promise<void> {
  const { ShadowStore } = await import('../../src/emulator/shadow-store.js');
  const n = Number(process.env.BENCH_MEMORY_SHADOWS ?? 1_000_000);
  const store = new ShadowStore();
  const t0 = Date.now();
  let stateBytes = 0;
  for (let i = 0; i < n; i++) {
    const s = i.toString(36);
    const desired = {
      telemetry: { sampleRateHz: i % 10, batchSize: 32, topics: ['telemetry', 'health'] },
      thresholds: { tempHigh: 78.5, tempLow: -10, humidityHigh: 90 },
      mode: 'auto',
      firmware: `1.4.${i % 7}`,
      site: `site-${s}`,
    };
    const reported = {
      ...desired,
      battery: i % 100,
      rssi: -40 - (i % 50),
      uptimeSec: i * 7,
      serial: `SN-${s.padStart(8, '0')}`,
      model: 'th-200',
    };
    const body = JSON.stringify({ state: { desired, reported } });
    if (i === 0) stateBytes = Buffer.byteLength(JSON.stringify(desired)) + Buffer.byteLength(JSON.stringify(reported));
    const r = store.update(`thing-${s}`, undefined, body);
    if (!r.ok) throw new Error(r.fault.message);
  }
  const ms = Date.now() - t0;
  globalThis.gc?.();
  const mu = process.memoryUsage();
  process.send!({
    shadows: store.shadowCount,
    bytesPerShadowState: stateBytes,
    rssBytes: mu.rss,
    heapUsedBytes: mu.heapUsed,
    rssPerShadowBytes: Math.round(mu.rss / Math.max(1, n)),
    ms,
  });
}

// ---- driver -------------------------------------------------------------------------------------

function spawnChild(
  role: string,
  env: Record<string, string> = {},
  execArgv: string[] = [],
): { child: ChildProcess; ready: Promise<unknown> } {
  const child = fork(SELF, [], {
    env: { ...process.env, EMULATOR_BENCH_ROLE: role, ...env },
    execArgv: ['--import', 'tsx', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${role} child exited with ${code}`)));
  });
  return { child, ready };
}

/** CPU time (user + system, µs) the child has used so far. */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown): void => {
      const cpu = (m as { cpu?: { user: number; system: number } }).cpu;
      if (cpu === undefined) return;
      child.off('message', onMessage);
      resolve(cpu.user + cpu.system);
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface LoadResult {
  /** Server CPU per completed op, µs (measured windows). */
  cpuUsPerOp: number;
  ops: number;
  errors: number;
  opsPerSec: number;
  p50: number;
  p99: number;
}

/** One server under load: a keep-alive pool, its things seeded, and accumulated measurements. */
class Target {
  readonly #server: ChildProcess;
  readonly #pool: Pool;
  readonly #scenario: 'update' | 'get';
  readonly #concurrency: number;
  readonly #names: string[];
  readonly #payloads: string[];
  readonly #latencies = new Float64Array(2_000_000);
  #n = 0;
  #i = 0;
  ops = 0;
  errors = 0;
  elapsedMs = 0;
  cpuUs = 0;

  constructor(server: ChildProcess, url: string, scenario: 'update' | 'get', concurrency: number, things: number) {
    this.#server = server;
    this.#pool = new Pool(url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
    this.#scenario = scenario;
    this.#concurrency = concurrency;
    this.#names = Array.from({ length: things }, (_, i) => `/things/bench-${i}/shadow`);
    this.#payloads = Array.from({ length: 16 }, (_, i) =>
      JSON.stringify({
        state: { desired: { config: { level: i, mode: i % 2 ? 'eco' : 'boost', limits: [i, i + 1] }, fw: '1.4.2' } },
      }),
    );
  }

  /** Seeds every thing (so GET finds them) and warms the server up. */
  async prepare(warmupMs: number): Promise<void> {
    const c = this.#concurrency;
    for (let i = 0; i < this.#names.length; i += c) {
      await Promise.all(
        this.#names
          .slice(i, i + c)
          .map((path) => this.#pool.request({ method: 'POST', path, body: SEED_BODY }).then((r) => r.body.dump())),
      );
    }
    await this.#load(warmupMs, false);
  }

  /** Runs the load for `ms` and adds ops, time and server CPU to the totals. */
  async measure(ms: number): Promise<void> {
    const cpu0 = await cpuOf(this.#server);
    const t0 = performance.now();
    await this.#load(ms, true);
    this.elapsedMs += performance.now() - t0;
    this.cpuUs += (await cpuOf(this.#server)) - cpu0;
  }

  async #load(ms: number, record: boolean): Promise<void> {
    const end = performance.now() + ms;
    const worker = async (): Promise<void> => {
      while (performance.now() < end) {
        const i = this.#i++;
        const path = this.#names[i % this.#names.length]!;
        const t0 = performance.now();
        let ok = false;
        try {
          const res =
            this.#scenario === 'update'
              ? await this.#pool.request({
                  method: 'POST',
                  path,
                  body: this.#payloads[i & 15]!,
                  headers: { 'content-type': 'application/octet-stream' },
                })
              : await this.#pool.request({ method: 'GET', path });
          await res.body.dump();
          ok = res.statusCode === 200;
        } catch {
          ok = false;
        }
        if (!record) continue;
        this.ops++;
        if (!ok) this.errors++;
        if (this.#n < this.#latencies.length) this.#latencies[this.#n++] = performance.now() - t0;
      }
    };
    await Promise.all(Array.from({ length: this.#concurrency }, worker));
  }

  result(): LoadResult {
    const sorted = this.#latencies.subarray(0, this.#n).sort();
    return {
      cpuUsPerOp: this.cpuUs / Math.max(1, this.ops),
      ops: this.ops,
      errors: this.errors,
      opsPerSec: this.ops / (this.elapsedMs / 1000),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

export async function runEmulatorBench(opts: EmulatorBenchOptions = {}): Promise<EmulatorBenchResult> {
  const seconds = opts.seconds ?? Number(process.env.BENCH_SECONDS ?? 5);
  const concurrency = opts.concurrency ?? Number(process.env.BENCH_CONCURRENCY ?? 64);
  const things = opts.things ?? Number(process.env.BENCH_THINGS ?? 1000);
  const memoryShadows = opts.memoryShadows ?? Number(process.env.BENCH_MEMORY_SHADOWS ?? 1_000_000);
  const envScenarios = process.env.BENCH_SCENARIOS?.split(',').filter(
    (s): s is 'update' | 'get' => s === 'update' || s === 'get',
  );
  const scenarios = opts.scenarios ?? envScenarios ?? ['update', 'get'];
  const rounds = opts.rounds ?? Number(process.env.BENCH_ROUNDS ?? 5);
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  if (!(seconds > 0) || !(concurrency >= 1) || !(things >= 1) || !(rounds >= 1))
    throw new Error('seconds, concurrency, things and rounds must be positive');

  const throughput: ThroughputRow[] = [];
  for (const scenario of scenarios) {
    // Both servers stay up and are driven in alternating slices of seconds/rounds each, so load
    // from elsewhere on a shared machine falls on both alike; rates are totals over all slices.
    const bare = spawnChild('bare');
    const emu = spawnChild('emulator');
    let bt: Target | undefined;
    let et: Target | undefined;
    try {
      const bareUrl = ((await bare.ready) as { url: string }).url;
      const emuUrl = ((await emu.ready) as { url: string }).url;
      bt = new Target(bare.child, bareUrl, scenario, concurrency, things);
      et = new Target(emu.child, emuUrl, scenario, concurrency, things);
      const warmupMs = Math.min(1000, seconds * 200);
      await bt.prepare(warmupMs);
      await et.prepare(warmupMs);
      const slice = (seconds * 1000) / rounds;
      log(
        `[emulator bench] ${scenario}: bare node:http vs emulator (quotas off), ${seconds}s each in ${rounds} alternating slices, ${concurrency} in flight`,
      );
      for (let round = 0; round < rounds; round++) {
        await bt.measure(slice);
        await et.measure(slice);
      }
      const b = bt.result();
      const e = et.result();
      throughput.push({
        scenario,
        bareOpsPerSec: Math.round(b.opsPerSec),
        emulatorOpsPerSec: Math.round(e.opsPerSec),
        ratio: Math.round((e.opsPerSec / b.opsPerSec) * 1000) / 1000,
        emulatorErrors: e.errors,
        emulatorP50Ms: Math.round(e.p50 * 100) / 100,
        emulatorP99Ms: Math.round(e.p99 * 100) / 100,
        bareCpuUsPerOp: Math.round(b.cpuUsPerOp * 10) / 10,
        emulatorCpuUsPerOp: Math.round(e.cpuUsPerOp * 10) / 10,
        cpuRatio: Math.round((b.cpuUsPerOp / e.cpuUsPerOp) * 1000) / 1000,
      });
    } finally {
      await Promise.all([bt?.close(), et?.close()]);
      await Promise.all([stop(bare.child), stop(emu.child)]);
    }
  }

  let memory: MemoryResult | undefined;
  if (memoryShadows > 0) {
    log(`[emulator bench] memory: storing ${memoryShadows} shadows in a child process`);
    const m = spawnChild('memory', { BENCH_MEMORY_SHADOWS: String(memoryShadows) }, ['--expose-gc']);
    memory = (await m.ready) as MemoryResult;
    await new Promise((r) => (m.child.exitCode !== null ? r(undefined) : m.child.once('exit', r)));
  }
  return { seconds, rounds, concurrency, things, throughput, memory };
}

function printTable(r: EmulatorBenchResult): void {
  console.log(
    `emulator throughput, ${r.seconds}s per server in ${r.rounds} alternating slices, ${r.concurrency} in flight, ${r.things} things`,
  );
  console.table(
    r.throughput.map((t) => ({
      scenario: t.scenario,
      'bare ops/s': t.bareOpsPerSec,
      'emulator ops/s': t.emulatorOpsPerSec,
      ratio: t.ratio,
      'emulator p50 ms': t.emulatorP50Ms,
      'emulator p99 ms': t.emulatorP99Ms,
      errors: t.emulatorErrors,
      'bare CPU us/op': t.bareCpuUsPerOp,
      'emulator CPU us/op': t.emulatorCpuUsPerOp,
      'CPU ratio': t.cpuRatio,
    })),
  );
  if (r.memory !== undefined) {
    const m = r.memory;
    console.table([
      {
        shadows: m.shadows,
        'state bytes/shadow': m.bytesPerShadowState,
        'RSS MB': Math.round(m.rssBytes / 1048576),
        'heap MB': Math.round(m.heapUsedBytes / 1048576),
        'RSS bytes/shadow': m.rssPerShadowBytes,
        'store s': Math.round(m.ms / 100) / 10,
      },
    ]);
  }
}

const role = process.env.EMULATOR_BENCH_ROLE;
if (role === 'bare') await childBare();
else if (role === 'emulator') await childEmulator();
else if (role === 'memory') await childMemory();
else if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runEmulatorBench();
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else printTable(result);
}
