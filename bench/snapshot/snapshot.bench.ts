/**
 * Snapshot benchmark: a snapshot of the whole seeded fleet (every thing: the classic shadow,
 * ListNamedShadowsForThing, each named shadow; gzip JSON lines + manifest to a local directory)
 * by shadowfleet against a baseline written with the AWS SDK v3 (`@aws-sdk/client-iot-data-plane`
 * + p-limit 64: get each shadow, write JSON lines through gzip). Quotas off, same emulator
 * (its own process), same run. Each side runs in its own child process, so each peak RSS
 * (process.resourceUsage().maxRSS, worker threads included) is that side's alone.
 *
 * Environment: BENCH_THINGS (things seeded; each has a classic and a "config" shadow, every
 * third a "firmware" shadow, so shadows = about 2.33 x things; default 43,000 = 100,333 shadows),
 * BENCH_WORKERS (shadowfleet worker threads, default: the core count). `--quick` uses 2,000
 * things; `--json` prints only the JSON result.
 *
 *   node --import tsx bench/snapshot/snapshot.bench.ts [--quick] [--json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { seededThingName } from '../../src/emulator/seed-things.js';
import { startEmulatorProcess } from '../../src/emulator/index.js';
import { runChild, writeNames } from '../lib/child-process.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface SnapshotBenchOptions {
  quick?: boolean;
  /** Things seeded (shadows are about 2.33 x things). */
  things?: number;
  /** Worker threads of the shadowfleet side. Default: the core count. */
  workers?: number;
  log?: (line: string) => void;
}

export interface SnapshotSideNumbers {
  things: number;
  shadows: number;
  elapsedMs: number;
  shadowsPerSecond: number;
  peakRssBytes: number;
  /** Compressed bytes written. */
  bytes: number;
}

export interface SnapshotBenchResult {
  things: number;
  shadows: number;
  shadowfleet: SnapshotSideNumbers;
  baseline: SnapshotSideNumbers;
  /** shadowfleet shadows/s over the baseline's. */
  ratio: number;
  /** shadowfleet peak RSS over the baseline's. */
  rssRatio: number;
}

export const DEFAULT_BENCH_THINGS = 43_000;
const QUICK_THINGS = 2_000;

async function runSide(
  side: 'shadowfleet' | 'baseline',
  url: string,
  things: string,
  out: string,
  workers: number | undefined,
): Promise<SnapshotSideNumbers> {
  const r = await runChild<SnapshotSideNumbers & { side: string }>(
    join(HERE, 'side-child.ts'),
    { side, url, things, out, ...(workers ? { workers } : {}) },
    `${side} side`,
  );
  return {
    things: r.things,
    shadows: r.shadows,
    elapsedMs: r.elapsedMs,
    shadowsPerSecond: r.shadowsPerSecond,
    peakRssBytes: r.peakRssBytes,
    bytes: r.bytes,
  };
}

/** Runs the benchmark (for bench/run.ts and the command line). */
export async function runSnapshotBench(opts: SnapshotBenchOptions = {}): Promise<SnapshotBenchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const things = opts.things ?? (opts.quick ? QUICK_THINGS : Number(process.env.BENCH_THINGS ?? DEFAULT_BENCH_THINGS));
  if (!Number.isInteger(things) || things < 1)
    throw new Error(`BENCH_THINGS must be a positive integer, got ${things}`);
  const workers = opts.workers ?? (process.env.BENCH_WORKERS ? Number(process.env.BENCH_WORKERS) : undefined);
  const dir = await mkdtemp(join(tmpdir(), 'shadowfleet-snapshot-bench-'));
  log(`snapshot bench: seeding ${things.toLocaleString('en-US')} things in the emulator (its own process)`);
  // seeding happens before the child says `listening on`, hence the longer start timeout
  const emu = await startEmulatorProcess({ quotas: 'off', seedThings: things, startTimeoutMs: 120_000 });
  try {
    const file = join(dir, 'things.txt');
    await writeNames(file, things, seededThingName);
    log('snapshot bench: shadowfleet side');
    const ours = await runSide('shadowfleet', emu.url, file, join(dir, 'ours'), workers);
    log(
      `  ${ours.shadows} shadows in ${(ours.elapsedMs / 1000).toFixed(1)} s: ${ours.shadowsPerSecond}/s, peak RSS ${(ours.peakRssBytes / 2 ** 20).toFixed(0)} MB`,
    );
    log('snapshot bench: baseline side (AWS SDK v3 + p-limit 64)');
    const base = await runSide('baseline', emu.url, file, join(dir, 'base'), undefined);
    log(
      `  ${base.shadows} shadows in ${(base.elapsedMs / 1000).toFixed(1)} s: ${base.shadowsPerSecond}/s, peak RSS ${(base.peakRssBytes / 2 ** 20).toFixed(0)} MB`,
    );
    if (ours.shadows !== base.shadows)
      log(`  warning: the sides read different shadow counts (${ours.shadows} vs ${base.shadows})`);
    return {
      things,
      shadows: ours.shadows,
      shadowfleet: ours,
      baseline: base,
      ratio: ours.shadowsPerSecond / base.shadowsPerSecond,
      rssRatio: ours.peakRssBytes / base.peakRssBytes,
    };
  } finally {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const r = await runSnapshotBench({ quick, ...(json ? { log: () => {} } : {}) });
  if (json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
    console.table({
      shadowfleet: {
        shadows: r.shadowfleet.shadows,
        'shadows/s': r.shadowfleet.shadowsPerSecond,
        seconds: (r.shadowfleet.elapsedMs / 1000).toFixed(1),
        'peak RSS': mb(r.shadowfleet.peakRssBytes),
        'gzip bytes': r.shadowfleet.bytes,
      },
      'SDK v3 + p-limit 64': {
        shadows: r.baseline.shadows,
        'shadows/s': r.baseline.shadowsPerSecond,
        seconds: (r.baseline.elapsedMs / 1000).toFixed(1),
        'peak RSS': mb(r.baseline.peakRssBytes),
        'gzip bytes': r.baseline.bytes,
      },
    });
    console.log(`ratio (shadows/s): ${r.ratio.toFixed(2)}x; peak RSS ratio: ${r.rssRatio.toFixed(2)}x`);
  }
}
