/**
 * Sync benchmark: mirror a seeded fleet from one emulator to an empty one with `sync` (reads on
 * the source's run, writes on the destination's, overlapped), against what a copy took before
 * sync existed: a snapshot of the source to a local directory, then a restore of that snapshot
 * (desired and reported) to another empty emulator. Same fleet, same engine settings, quotas
 * off, every emulator in its own process, one run; the ratio is sync things/s over
 * snapshot-then-restore things/s.
 *
 * Environment: BENCH_THINGS (things seeded; each has a classic and a "config" shadow, every
 * third a "firmware" shadow; default 20,000), BENCH_WORKERS (worker threads per side, default 1),
 * BENCH_LATENCY_MS (latency the emulators add to every request, as a data plane across a network
 * would; default 0: both sides are then bound by this machine's CPU).
 * `--quick` uses 2,000 things; `--json` prints only the JSON result.
 *
 *   node --import tsx bench/sync/sync.bench.ts [--quick] [--json]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startEmulatorProcess } from '../../src/emulator/index.js';
import { seededThingName } from '../../src/emulator/seed-things.js';
import { runRestore } from '../../src/jobs/restore/restore.js';
import { runSnapshot } from '../../src/jobs/snapshot/snapshot.js';
import { runSync } from '../../src/jobs/sync/sync.js';

export interface SyncBenchOptions {
  quick?: boolean;
  things?: number;
  workers?: number;
  /** Latency the emulators add to every request, ms. Default 0. */
  latencyMs?: number;
  log?: (line: string) => void;
}

export interface SyncBenchSide {
  things: number;
  shadows: number;
  elapsedMs: number;
  thingsPerSecond: number;
}

export interface SyncBenchResult {
  things: number;
  latencyMs: number;
  sync: SyncBenchSide;
  snapshotRestore: SyncBenchSide & { snapshotMs: number; restoreMs: number };
  /** sync things/s over snapshot-then-restore things/s. */
  ratio: number;
}

export const DEFAULT_SYNC_BENCH_THINGS = 20_000;
const QUICK_THINGS = 2_000;

/** Runs the benchmark (for bench/run.ts and the command line). */
export async function runSyncBench(opts: SyncBenchOptions = {}): Promise<SyncBenchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const things =
    opts.things ?? (opts.quick ? QUICK_THINGS : Number(process.env.BENCH_THINGS ?? DEFAULT_SYNC_BENCH_THINGS));
  if (!Number.isInteger(things) || things < 1)
    throw new Error(`BENCH_THINGS must be a positive integer, got ${things}`);
  const workers = opts.workers ?? (process.env.BENCH_WORKERS ? Number(process.env.BENCH_WORKERS) : 1);
  const latencyMs = opts.latencyMs ?? Number(process.env.BENCH_LATENCY_MS ?? 0);
  if (!(latencyMs >= 0)) throw new Error(`BENCH_LATENCY_MS must be a number >= 0, got ${latencyMs}`);
  const faults = latencyMs > 0 ? { faults: { latencyMs } } : {};
  const dir = await mkdtemp(join(tmpdir(), 'shadowfleet-sync-bench-'));
  log(`sync bench: seeding ${things.toLocaleString('en-US')} things in the source emulator (its own process)`);
  const [source, viaSync, viaRestore] = await Promise.all([
    startEmulatorProcess({ quotas: 'off', seedThings: things, startTimeoutMs: 120_000, ...faults }),
    startEmulatorProcess({ quotas: 'off', ...faults }),
    startEmulatorProcess({ quotas: 'off', ...faults }),
  ]);
  try {
    // Warm-up, untimed: a small copy both ways first, so neither side pays alone for the first
    // module compilation (worker threads load the handlers through tsx from source).
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
      await runRestore({
        endpoint: warm.url,
        from: join(dir, 'warm'),
        reported: true,
        yes: true,
        rates: 'off',
        workers,
      });
    } finally {
      await warm.close();
    }
    log('sync bench: sync, source -> empty destination');
    let t0 = performance.now();
    const s = await runSync({
      from: { endpoint: source.url, rate: 'off', workers },
      to: { endpoint: viaSync.url, rate: 'off', workers },
    });
    const syncMs = performance.now() - t0;
    if (s.failed > 0) throw new Error(`sync: ${s.failed} things failed (${s.failures[0]?.message ?? ''})`);
    const sync: SyncBenchSide = {
      things: s.sourceThings,
      shadows: s.written,
      elapsedMs: Math.round(syncMs),
      thingsPerSecond: Math.round(s.sourceThings / (syncMs / 1000)),
    };
    log(
      `  ${sync.things} things, ${sync.shadows} shadows in ${(syncMs / 1000).toFixed(1)} s: ${sync.thingsPerSecond} things/s`,
    );

    log('sync bench: snapshot of the source, then restore to another empty destination');
    t0 = performance.now();
    const snap = await runSnapshot({
      endpoint: source.url,
      out: join(dir, 'snap'),
      allThings: true,
      rates: 'off',
      workers,
    });
    const snapshotMs = performance.now() - t0;
    t0 = performance.now();
    const rest = await runRestore({
      endpoint: viaRestore.url,
      from: join(dir, 'snap'),
      reported: true,
      yes: true,
      rates: 'off',
      workers,
    });
    const restoreMs = performance.now() - t0;
    if (rest.failed > 0) throw new Error(`restore: ${rest.failed} shadows failed`);
    const total = snapshotMs + restoreMs;
    const snapshotRestore = {
      things: snap.things,
      shadows: rest.written,
      elapsedMs: Math.round(total),
      thingsPerSecond: Math.round(snap.things / (total / 1000)),
      snapshotMs: Math.round(snapshotMs),
      restoreMs: Math.round(restoreMs),
    };
    log(
      `  ${snapshotRestore.things} things, ${snapshotRestore.shadows} shadows in ${(total / 1000).toFixed(1)} s (snapshot ${(snapshotMs / 1000).toFixed(1)} s + restore ${(restoreMs / 1000).toFixed(1)} s): ${snapshotRestore.thingsPerSecond} things/s`,
    );
    if (sync.shadows !== snapshotRestore.shadows)
      log(`  warning: the sides wrote different shadow counts (${sync.shadows} vs ${snapshotRestore.shadows})`);
    return { things, latencyMs, sync, snapshotRestore, ratio: sync.thingsPerSecond / snapshotRestore.thingsPerSecond };
  } finally {
    await Promise.all([source.close(), viaSync.close(), viaRestore.close()]);
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const r = await runSyncBench({ quick, ...(json ? { log: () => {} } : {}) });
  if (json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    console.table({
      sync: {
        things: r.sync.things,
        shadows: r.sync.shadows,
        'things/s': r.sync.thingsPerSecond,
        seconds: (r.sync.elapsedMs / 1000).toFixed(1),
      },
      'snapshot + restore': {
        things: r.snapshotRestore.things,
        shadows: r.snapshotRestore.shadows,
        'things/s': r.snapshotRestore.thingsPerSecond,
        seconds: (r.snapshotRestore.elapsedMs / 1000).toFixed(1),
      },
    });
    console.log(`ratio (things/s): ${r.ratio.toFixed(2)}x ${r.ratio >= 1 ? 'PASS' : 'MISS'} (goal >= 1x)`);
  }
}
