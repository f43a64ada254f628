/**
 * Start-up cost, end to end, as a user pays it: the `shadowfleet` binary of the build, started
 * as its own process for every measurement (process start, module loading, worker threads,
 * first permits and teardown all included), against the emulator in its own process.
 *
 * Scenarios:
 *   quota     `shadowfleet rollout` of STARTUP_THINGS (default 15,000) things at `--rate 1000`
 *             against an emulator account quota of 1,000/s: wall time against the ideal
 *             (things / 1,000 s), goal <= 15.8 s for 15,000 (95% of the quota, process start
 *             included), and the share of throttled requests (goal < 0.5%);
 *   one       a one-thing rollout, and
 *   get       one `shadowfleet get`, each against its floor: a bare `node` process making one
 *             undici request to the same emulator (the ratio is printed; median of STARTUP_RUNS).
 *
 * The build is made once into a temporary directory (`tsc -p tsconfig.build.json`), or taken
 * from STARTUP_BIN (a built bin.js). `--quick` runs 3,000 things and 3 samples. The 1-minute
 * load average before and after each part is recorded: on a shared machine the numbers mean
 * little without it.
 *
 *   node --import tsx bench/rollout/startup.bench.ts [--quick] [--json]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startEmulatorProcess } from '../../src/emulator/index.js';
import { writeNames } from '../lib/child-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface StartupBenchResult {
  quota: {
    things: number;
    rate: number;
    wallMs: number;
    idealMs: number;
    ratio: number;
    throttled: number;
    requests: number;
    throttledShare: number;
    ok: boolean;
  };
  floorMs: number;
  one: { medianMs: number; ratio: number; samples: number[] };
  get: { medianMs: number; ratio: number; samples: number[] };
  floorSamples: number[];
  /** 1-minute load average before and after the small commands, and after the quota run. */
  loadAverage: { before: number; afterSmall: number; afterQuota: number };
}

/** Runs `node args` to the end; resolves with its wall time in ms (rejects on a non-zero exit). */
async function timed(
  args: string[],
  label: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${label} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { ms, stdout };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const round = (v: number): number => Math.round(v * 1000) / 1000;
const load1 = (): number => Math.round(loadavg()[0]! * 100) / 100;

/** Builds the package into a temporary directory; returns the bin.js path and a cleanup. */
async function build(log: (l: string) => void): Promise<{ bin: string; cleanup: () => Promise<void> }> {
  if (process.env.STARTUP_BIN) return { bin: process.env.STARTUP_BIN, cleanup: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'shadowfleet-startup-'));
  log('  startup: building the package (tsc -p tsconfig.build.json)');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  // Type errors elsewhere in the tree do not stop the emit (noEmitOnError is off in the build config).
  await timed([tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], 'tsc').catch(
    () => undefined,
  );
  await copyFile(join(ROOT, 'package.json'), join(dir, 'package.json'));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { bin: join(dir, 'dist', 'src', 'cli', 'bin.js'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function runStartupBench(
  o: { quick?: boolean; log?: (l: string) => void } = {},
): Promise<StartupBenchResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const things = Number(process.env.STARTUP_THINGS ?? (o.quick ? 3000 : 15_000));
  const runs = Number(process.env.STARTUP_RUNS ?? (o.quick ? 3 : 5));
  const rate = 1000;
  const { bin, cleanup } = await build(log);
  const dir = await mkdtemp(join(tmpdir(), 'shadowfleet-startup-run-'));
  const emu = await startEmulatorProcess({ accountRps: rate });
  try {
    const list = join(dir, 'things.txt');
    await writeNames(list, things, (i) => `startup-${i}`);
    await writeFile(join(dir, 'one.txt'), 'startup-one\n');
    const bare = join(dir, 'bare.mjs');
    await writeFile(
      bare,
      `import { request } from ${JSON.stringify(pathToFileURL(join(ROOT, 'node_modules', 'undici', 'index.js')).href)};\nconst r = await request(process.argv[2]);\nawait r.body.text();\n`,
    );
    const endpoint = ['--endpoint', emu.url];
    const loadBefore = load1();
    // The floor and the two small commands, interleaved so a busy moment hits all three alike.
    const floor: number[] = [];
    const one: number[] = [];
    const get: number[] = [];
    for (let i = 0; i < runs; i++) {
      floor.push((await timed([bare, `${emu.url}/things/startup-one/shadow`], 'bare node + undici')).ms);
      one.push(
        (
          await timed(
            [
              bin,
              'rollout',
              ...endpoint,
              '--things',
              join(dir, 'one.txt'),
              '--set',
              `{"run":${i}}`,
              '--rate',
              String(rate),
              '--journal',
              join(dir, `one-${i}.journal`),
              '--json',
            ],
            'one-thing rollout',
          )
        ).ms,
      );
      get.push((await timed([bin, 'get', ...endpoint, '--thing', 'startup-one'], 'get')).ms);
    }
    const floorMs = median(floor);
    const loadAfterSmall = load1();
    log(
      `  startup: floor ${floorMs.toFixed(0)} ms, one-thing rollout ${median(one).toFixed(0)} ms, get ${median(get).toFixed(0)} ms`,
    );
    log(`  startup: rollout of ${things.toLocaleString('en-US')} things at --rate ${rate}, emulator quota ${rate}/s`);
    const before = await emu.stats();
    const q = await timed(
      [
        bin,
        'rollout',
        ...endpoint,
        '--things',
        list,
        '--set',
        '{"fw":"startup"}',
        '--rate',
        String(rate),
        '--yes',
        '--journal',
        join(dir, 'quota.journal'),
        '--json',
      ],
      'rollout',
    );
    const after = await emu.stats();
    const requests = after.totals.requests - before.totals.requests;
    const throttled = after.totals.throttled - before.totals.throttled;
    const result = JSON.parse(q.stdout) as { ok: boolean };
    const idealMs = (things / rate) * 1000;
    return {
      quota: {
        things,
        rate,
        wallMs: Math.round(q.ms),
        idealMs,
        ratio: round(q.ms / idealMs),
        throttled,
        requests,
        throttledShare: requests > 0 ? throttled / requests : 0,
        ok: result.ok,
      },
      floorMs: Math.round(floorMs),
      one: { medianMs: Math.round(median(one)), ratio: round(median(one) / floorMs), samples: one.map(Math.round) },
      get: { medianMs: Math.round(median(get)), ratio: round(median(get) / floorMs), samples: get.map(Math.round) },
      floorSamples: floor.map(Math.round),
      loadAverage: { before: loadBefore, afterSmall: loadAfterSmall, afterQuota: load1() },
    };
  } finally {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
    await cleanup();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const r = await runStartupBench({ quick });
  if (!process.argv.includes('--json')) {
    console.log(
      `rollout of ${r.quota.things} things at ${r.quota.rate}/s: ${(r.quota.wallMs / 1000).toFixed(2)} s end to end, ${r.quota.ratio}x the ideal ${(r.quota.idealMs / 1000).toFixed(1)} s, ${(r.quota.throttledShare * 100).toFixed(2)}% throttled`,
    );
    console.log(
      `one-thing rollout: ${r.one.medianMs} ms, ${r.one.ratio}x a bare node + undici request (${r.floorMs} ms)`,
    );
    console.log(`get: ${r.get.medianMs} ms, ${r.get.ratio}x a bare node + undici request (${r.floorMs} ms)`);
    const l = r.loadAverage;
    console.log(
      `load average (1 min): ${l.before} before, ${l.afterSmall} after the small commands, ${l.afterQuota} after the quota run`,
    );
  }
  console.log(JSON.stringify(r));
}
