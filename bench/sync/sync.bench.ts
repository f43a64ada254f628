/**
 * Sync benchmark: mirror a seeded fleet from one emulator to an empty one with `sync` (reads on
 * the source's run, writes on the destination's, overlapped), against what a copy took before
 * sync existed: a snapshot of the source to a local directory, then a restore of that snapshot
 * (desired and reported) to another empty emulator. Same fleet, same engine settings, every
 * emulator in its own process, one run; the ratio is sync things/s over snapshot-then-restore
 * things/s. Two rows:
 *
 *   cpu    quotas off on every emulator and in the engine: both copies are bound by this
 *          machine's CPU (on 2 cores the emulators, the worker threads and the coordinator
 *          share them), so the ratio is the work each does per thing; both send the same
 *          requests, sync saves the snapshot's file (gzip, write, read back, parse).
 *   quota  every emulator with an account quota (`BENCH_QUOTA`, default 1,000/s per operation,
 *          AWS's per-thing limits), both copies run at that rate (`rate`, `rates`): the copy is
 *          bound by the quota, as a copy between two AWS accounts is; sync draws on both
 *          accounts' quotas at once, snapshot-then-restore on one after the other (ideal 2x).
 *
 * Beside things/s: the requests per thing each side sent (from the emulators' counters), the
 * busiest operation's rate (against the quota in the quota row) and the CPU time per thing of
 * every process involved (this one and the emulators; on Linux), which, unlike things/s, does
 * not move with what else the machine runs.
 *
 * Environment: BENCH_THINGS (things seeded for the cpu row; each has a classic and a "config"
 * shadow, every third a "firmware" shadow; default 20,000), BENCH_QUOTA_THINGS (things of the
 * quota row, default 8,000), BENCH_QUOTA (requests/s per operation, default 1000), BENCH_ROWS
 * (`cpu,quota`), BENCH_WORKERS (worker threads per side, default 1), BENCH_LATENCY_MS (latency
 * the emulators of the cpu row add to every request, as a data plane across a network would;
 * default 0). `--quick` uses 2,000 things (cpu) and 2,000 (quota); `--json` prints only the JSON result.
 *
 *   node --import tsx bench/sync/sync.bench.ts [--quick] [--json]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startEmulatorProcess, type EmulatorOptions } from '../../src/emulator/index.js';
import { seededThingName } from '../../src/emulator/seed-things.js';
import { runRestore } from '../../src/jobs/restore/restore.js';
import { runSnapshot } from '../../src/jobs/snapshot/snapshot.js';
import { runSync } from '../../src/jobs/sync/sync.js';

export interface SyncBenchOptions {
  quick?: boolean;
  /** Things of the cpu row. */
  things?: number;
  /** Things of the quota row. */
  quotaThings?: number;
  /** Account quota of the quota row, requests/s per operation. Default 1000. */
  quota?: number;
  /** Rows to run. Default both. */
  rows?: Array<'cpu' | 'quota'>;
  workers?: number;
  /** Latency the emulators of the cpu row add to every request, ms. Default 0. */
  latencyMs?: number;
  log?: (line: string) => void;
}

export interface SyncBenchSide {
  things: number;
  shadows: number;
  elapsedMs: number;
  thingsPerSecond: number;
  /** Requests per thing the source and the destination answered (all operations). */
  sourceRequestsPerThing: number;
  destRequestsPerThing: number;
  /** The busiest operation's rate over the copy (on either side), requests/s. */
  busiestRps: number;
  busiestOperation: string;
  throttled: number;
  /**
   * CPU time of the copy, ms per thing: this process (coordinator and worker threads) and the
   * emulator processes together (Linux /proc; undefined elsewhere). Unlike things/s it does not
   * depend on what else the machine runs.
   */
  cpuMsPerThing?: number;
}

export interface SyncBenchRow {
  things: number;
  /** Account quota per operation (and the engine's rate), or 'off'. */
  quota: number | 'off';
  latencyMs: number;
  sync: SyncBenchSide;
  snapshotRestore: SyncBenchSide & { snapshotMs: number; restoreMs: number };
  /** sync things/s over snapshot-then-restore things/s. */
  ratio: number;
  /** sync CPU per thing over snapshot-then-restore CPU per thing (lower is cheaper), when measured. */
  cpuRatio?: number;
}

export interface SyncBenchResult extends Partial<SyncBenchRow> {
  cpu?: SyncBenchRow;
  quotaRow?: SyncBenchRow;
}

export const DEFAULT_SYNC_BENCH_THINGS = 20_000;
export const DEFAULT_SYNC_BENCH_QUOTA_THINGS = 8_000;
const QUICK_THINGS = 2_000;
const QUICK_QUOTA_THINGS = 2_000;

type Stats = Record<string, { requests: number; throttled: number }>;
interface Emu {
  url: string;
  pid: number;
  stats(): Promise<{ operations: Stats }>;
  close(): Promise<void>;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** CPU seconds of this process and the emulator processes so far, or undefined without /proc. */
function cpuSeconds(emus: Emu[]): number | undefined {
  const u = process.cpuUsage();
  let total = (u.user + u.system) / 1e6;
  try {
    for (const e of emus) {
      // /proc/PID/stat: utime and stime are fields 14 and 15, in clock ticks (100 per second on Linux).
      const f = readFileSync(`/proc/${e.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += (Number(f[11]) + Number(f[12])) / 100;
    }
  } catch {
    return undefined;
  }
  return total;
}

const cpuMs = (a: number | undefined, b: number | undefined, things: number): number | undefined =>
  a === undefined || b === undefined ? undefined : Math.round(((b - a) * 1e6) / things) / 1000;

/** Requests per operation answered since `before`. */
async function delta(emu: Emu, before: Stats | undefined): Promise<Stats> {
  const now = (await emu.stats()).operations;
  const out: Stats = {};
  for (const [op, c] of Object.entries(now)) {
    const b = before?.[op];
    const requests = c.requests - (b?.requests ?? 0);
    if (requests > 0) out[op] = { requests, throttled: c.throttled - (b?.throttled ?? 0) };
  }
  return out;
}

function side(
  things: number,
  shadows: number,
  ms: number,
  source: Stats,
  dest: Stats,
  phases: Array<{ stats: Stats; ms: number }>,
): SyncBenchSide {
  const total = (s: Stats): number => Object.values(s).reduce((n, c) => n + c.requests, 0);
  let busiestRps = 0;
  let busiestOperation = '';
  for (const p of phases)
    for (const [op, c] of Object.entries(p.stats)) {
      const rps = c.requests / (p.ms / 1000);
      if (rps > busiestRps) [busiestRps, busiestOperation] = [rps, op];
    }
  return {
    things,
    shadows,
    elapsedMs: Math.round(ms),
    thingsPerSecond: Math.round(things / (ms / 1000)),
    sourceRequestsPerThing: Math.round((total(source) / things) * 100) / 100,
    destRequestsPerThing: Math.round((total(dest) / things) * 100) / 100,
    busiestRps: Math.round(busiestRps),
    busiestOperation,
    throttled: [...Object.values(source), ...Object.values(dest)].reduce((n, c) => n + c.throttled, 0),
  };
}

/** Untimed: a small copy both ways first, so neither side pays alone for the first module compilation. */
async function warmUp(source: Emu, dir: string, workers: number): Promise<void> {
  const few = join(dir, 'warm-things.txt');
  await writeFile(few, Array.from({ length: 20 }, (_, i) => seededThingName(i)).join('\n'));
  const warm = await startEmulatorProcess({ quotas: 'off' });
  try {
    await runSync({
      from: { endpoint: source.url, rate: 'off', workers },
      to: { endpoint: warm.url, rate: 'off', workers },
      select: { kind: 'things', file: few },
    });
    await runSnapshot({ endpoint: source.url, out: join(dir, 'warm'), things: few, rates: 'off', workers });
    await runRestore({ endpoint: warm.url, from: join(dir, 'warm'), reported: true, yes: true, rates: 'off', workers });
  } finally {
    await warm.close();
  }
}

interface RowSpec {
  name: string;
  things: number;
  quota: number | 'off';
  latencyMs: number;
  workers: number;
  warm: boolean;
}

/** One row: seeds a source, syncs it to an empty emulator, then snapshots it and restores the snapshot to another. */
async function runRow(spec: RowSpec, dir: string, log: (line: string) => void): Promise<SyncBenchRow> {
  const { things, quota, workers } = spec;
  const emu: EmulatorOptions = quota === 'off' ? { quotas: 'off' } : { quotas: 'aws', accountRps: quota };
  if (spec.latencyMs > 0) emu.faults = { latencyMs: spec.latencyMs };
  const rate = quota === 'off' ? ('off' as const) : quota;
  const rates = quota === 'off' ? ('off' as const) : { accountRps: quota };
  const at = quota === 'off' ? 'quotas off' : `account quota ${quota}/s per operation`;
  log(`sync bench [${spec.name}]: seeding ${things.toLocaleString('en-US')} things in the source emulator, ${at}`);
  const [source, viaSync, viaRestore] = (await Promise.all([
    startEmulatorProcess({ ...emu, seedThings: things, startTimeoutMs: 120_000 }),
    startEmulatorProcess(emu),
    startEmulatorProcess(emu),
  ])) as Emu[];
  try {
    if (spec.warm) await warmUp(source!, dir, workers);
    log(`sync bench [${spec.name}]: sync, source -> empty destination`);
    const emus = [source!, viaSync!, viaRestore!];
    let before = (await source!.stats()).operations;
    let cpu0 = cpuSeconds(emus);
    let t0 = performance.now();
    const s = await runSync({
      from: { endpoint: source!.url, rate, workers },
      to: { endpoint: viaSync!.url, rate, workers },
    });
    const syncMs = performance.now() - t0;
    const syncCpu = cpuMs(cpu0, cpuSeconds(emus), s.sourceThings);
    if (s.failed > 0) throw new Error(`sync: ${s.failed} things failed (${s.failures[0]?.message ?? ''})`);
    const syncSource = await delta(source!, before);
    const syncDest = await delta(viaSync!, undefined);
    const sync = side(s.sourceThings, s.written, syncMs, syncSource, syncDest, [
      { stats: syncSource, ms: syncMs },
      { stats: syncDest, ms: syncMs },
    ]);
    if (syncCpu !== undefined) sync.cpuMsPerThing = syncCpu;
    log(
      `  ${sync.things} things, ${sync.shadows} shadows in ${(syncMs / 1000).toFixed(1)} s: ${sync.thingsPerSecond} things/s`,
    );

    log(`sync bench [${spec.name}]: snapshot of the source, then restore to another empty destination`);
    before = (await source!.stats()).operations;
    cpu0 = cpuSeconds(emus);
    t0 = performance.now();
    const snapDir = join(dir, `snap-${spec.name}`);
    const snap = await runSnapshot({ endpoint: source!.url, out: snapDir, allThings: true, rates, workers });
    const snapshotMs = performance.now() - t0;
    t0 = performance.now();
    const rest = await runRestore({
      endpoint: viaRestore!.url,
      from: snapDir,
      reported: true,
      yes: true,
      rates,
      workers,
    });
    const restoreMs = performance.now() - t0;
    const srCpu = cpuMs(cpu0, cpuSeconds(emus), snap.things);
    if (rest.failed > 0) throw new Error(`restore: ${rest.failed} shadows failed`);
    const srSource = await delta(source!, before);
    const srDest = await delta(viaRestore!, undefined);
    const snapshotRestore = {
      ...side(snap.things, rest.written, snapshotMs + restoreMs, srSource, srDest, [
        { stats: srSource, ms: snapshotMs },
        { stats: srDest, ms: restoreMs },
      ]),
      snapshotMs: Math.round(snapshotMs),
      restoreMs: Math.round(restoreMs),
    };
    if (srCpu !== undefined) snapshotRestore.cpuMsPerThing = srCpu;
    log(
      `  ${snapshotRestore.things} things, ${snapshotRestore.shadows} shadows in ${(snapshotRestore.elapsedMs / 1000).toFixed(1)} s (snapshot ${(snapshotMs / 1000).toFixed(1)} s + restore ${(restoreMs / 1000).toFixed(1)} s): ${snapshotRestore.thingsPerSecond} things/s`,
    );
    if (sync.shadows !== snapshotRestore.shadows)
      log(`  warning: the sides wrote different shadow counts (${sync.shadows} vs ${snapshotRestore.shadows})`);
    const ratio = sync.thingsPerSecond / snapshotRestore.thingsPerSecond;
    const row: SyncBenchRow = { things, quota, latencyMs: spec.latencyMs, sync, snapshotRestore, ratio };
    if (syncCpu !== undefined && srCpu !== undefined) row.cpuRatio = syncCpu / srCpu;
    log(
      `  ratio ${ratio.toFixed(2)}x${row.cpuRatio === undefined ? '' : `; CPU per thing ${syncCpu} ms vs ${srCpu} ms (${row.cpuRatio.toFixed(2)}x)`}`,
    );
    return row;
  } finally {
    await Promise.all([source!.close(), viaSync!.close(), viaRestore!.close()]);
  }
}

/** Runs the benchmark (for bench/run.ts and the command line). */
export async function runSyncBench(opts: SyncBenchOptions = {}): Promise<SyncBenchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = process.env;
  const things = positiveInt(
    'BENCH_THINGS',
    opts.things ?? (opts.quick ? QUICK_THINGS : Number(env.BENCH_THINGS ?? DEFAULT_SYNC_BENCH_THINGS)),
  );
  const quotaThings = positiveInt(
    'BENCH_QUOTA_THINGS',
    opts.quotaThings ??
      (opts.quick ? QUICK_QUOTA_THINGS : Number(env.BENCH_QUOTA_THINGS ?? DEFAULT_SYNC_BENCH_QUOTA_THINGS)),
  );
  const quota = positiveInt('BENCH_QUOTA', opts.quota ?? Number(env.BENCH_QUOTA ?? 1000));
  const workers = positiveInt('BENCH_WORKERS', opts.workers ?? Number(env.BENCH_WORKERS ?? 1));
  const latencyMs = opts.latencyMs ?? Number(env.BENCH_LATENCY_MS ?? 0);
  if (!(latencyMs >= 0)) throw new Error(`BENCH_LATENCY_MS must be a number >= 0, got ${latencyMs}`);
  const rows = opts.rows ?? ((env.BENCH_ROWS ?? 'cpu,quota').split(',') as Array<'cpu' | 'quota'>);
  const dir = await mkdtemp(join(tmpdir(), 'shadowfleet-sync-bench-'));
  try {
    const out: SyncBenchResult = {};
    if (rows.includes('cpu')) {
      out.cpu = await runRow({ name: 'cpu', things, quota: 'off', latencyMs, workers, warm: true }, dir, log);
      Object.assign(out, out.cpu);
    }
    if (rows.includes('quota'))
      out.quotaRow = await runRow(
        { name: 'quota', things: quotaThings, quota, latencyMs: 0, workers, warm: !rows.includes('cpu') },
        dir,
        log,
      );
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function printRow(name: string, r: SyncBenchRow, goal: number): void {
  const row = (s: SyncBenchSide) => ({
    things: s.things,
    shadows: s.shadows,
    'things/s': s.thingsPerSecond,
    seconds: (s.elapsedMs / 1000).toFixed(1),
    'src req/thing': s.sourceRequestsPerThing,
    'dest req/thing': s.destRequestsPerThing,
    'busiest op/s': `${s.busiestRps} ${s.busiestOperation}`,
    throttled: s.throttled,
    'CPU ms/thing': s.cpuMsPerThing ?? '-',
  });
  console.log(`${name}: ${r.quota === 'off' ? 'quotas off' : `account quota ${r.quota}/s per operation`}`);
  console.table({ sync: row(r.sync), 'snapshot + restore': row(r.snapshotRestore) });
  console.log(`ratio (things/s): ${r.ratio.toFixed(2)}x ${r.ratio >= goal ? 'PASS' : 'MISS'} (goal >= ${goal}x)`);
}

/** The goals of the rows (also bench/lib/scenarios.ts and bench/README.md). */
export const SYNC_BENCH_GOALS = Object.freeze({ cpu: 1, quota: 1.8 });

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const r = await runSyncBench({ quick, ...(json ? { log: () => {} } : {}) });
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    if (r.cpu !== undefined) printRow('cpu', r.cpu, SYNC_BENCH_GOALS.cpu);
    if (r.quotaRow !== undefined) printRow('quota', r.quotaRow, SYNC_BENCH_GOALS.quota);
  }
}
