/**
 * The scenarios of `npm run bench`: each runs the owner's bench module (which races its
 * baseline in the same run) and turns its result into goal rows.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { check, errorRow, type GoalRow } from './goals.js';

export interface ScenarioContext {
  quick: boolean;
  log: (line: string) => void;
}

export interface Scenario {
  id: string;
  title: string;
  /** What the scenario isolates (also listed in bench/README.md). */
  isolates: string;
  /** The goals it checks, as the issues set them. */
  goals: string[];
  run(ctx: ScenarioContext): Promise<{ raw: unknown; goals: GoalRow[] }>;
}

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const MB = 1024 * 1024;

export const SCENARIOS: Scenario[] = [
  {
    id: 'emulator',
    title: 'Emulator floor',
    isolates:
      'the emulator alone: UpdateThingShadow and GetThingShadow with quotas off against a bare node:http server that does no shadow work (the floor), both in their own process, same load generator; and the memory of stored shadows',
    goals: ['emulator >= 60% of the bare server, update and get', '1,000,000 shadows of about 500 bytes in < 2 GB'],
    async run({ quick }) {
      const { runEmulatorBench } = await import('../emulator/emulator.bench.js');
      // The memory goal is measured at full size even in quick runs: a projection from fewer
      // shadows multiplies the process's base RSS and overstates it.
      const shadows = 1_000_000;
      const r = (await runEmulatorBench({ seconds: quick ? 3 : 8, memoryShadows: shadows })) as Any;
      const goals: GoalRow[] = [];
      for (const op of ['update', 'get']) {
        const t = (r.throughput as Any[]).find((x) => x.scenario === op);
        goals.push(
          check({
            scenario: 'emulator',
            metric: `${op === 'update' ? 'UpdateThingShadow' : 'GetThingShadow'} ops/s vs bare node:http`,
            ours: num(t?.emulatorOpsPerSec),
            baseline: num(t?.bareOpsPerSec),
            value: num(t?.ratio),
            unit: 'x',
            op: '>=',
            target: 0.6,
            goal: '>= 0.6x',
          }),
        );
      }
      const m = r.memory as Any | undefined;
      if (m !== undefined) {
        const projected =
          m.shadows >= 1_000_000 ? m.rssBytes : (m.rssPerShadowBytes ?? m.rssBytes / m.shadows) * 1_000_000;
        goals.push(
          check({
            scenario: 'emulator',
            metric: `RSS for 1,000,000 shadows of ~${m.bytesPerShadowState} B`,
            ours: `${Math.round(m.rssBytes / MB).toLocaleString('en-US')} MB for ${m.shadows.toLocaleString('en-US')}`,
            value: projected / MB,
            unit: ' MB',
            op: '<=',
            target: 2048,
            goal: '< 2 GB',
            note:
              m.shadows >= 1_000_000
                ? undefined
                : `projected from ${m.shadows.toLocaleString('en-US')} shadows (quick)`,
          }),
        );
      }
      return { raw: r, goals };
    },
  },
  {
    id: 'client',
    title: 'Client vs AWS SDK v3',
    isolates:
      'the client alone: IotDataClient against @aws-sdk/client-iot-data-plane, same emulator in its own process, same concurrency, one after the other in the same run; ops/s and client CPU per operation',
    goals: ['>= 3x the SDK ops/s', '<= 0.25x the SDK CPU per operation'],
    async run({ quick }) {
      const { runClientBench } = await import('../client/client.bench.js');
      const r = (await runClientBench({ seconds: quick ? 3 : 8, print: false })) as Any;
      const goals: GoalRow[] = [];
      for (const op of ['GetThingShadow', 'UpdateThingShadow']) {
        const ours = (r.rows as Any[]).find((x) => x.operation === op && x.client === 'shadowfleet');
        const sdk = (r.rows as Any[]).find((x) => x.operation === op && x.client === 'aws-sdk');
        goals.push(
          check({
            scenario: 'client',
            metric: `${op} ops/s vs SDK v3`,
            ours: num(ours?.opsPerSec),
            baseline: num(sdk?.opsPerSec),
            value: num(r.ratios?.[op]?.opsPerSec),
            unit: 'x',
            op: '>=',
            target: 3,
            goal: '>= 3x',
          }),
        );
        goals.push(
          check({
            scenario: 'client',
            metric: `${op} client CPU/op vs SDK v3 (us)`,
            ours: num(ours?.cpuUsPerOp),
            baseline: num(sdk?.cpuUsPerOp),
            value: num(r.ratios?.[op]?.cpuPerOp),
            unit: 'x',
            op: '<=',
            target: 0.25,
            goal: '<= 0.25x',
          }),
        );
      }
      return { raw: r, goals };
    },
  },
  {
    id: 'sign',
    title: 'Signing alone (micro)',
    isolates:
      "SigV4 signing alone: the client's SigV4Signer against @smithy/signature-v4 as the AWS SDK calls it, for a GET and a POST with a 120-byte update (tinybench, same process)",
    goals: ['informational: signatures/s and the ratio'],
    async run({ quick }) {
      const { runSignBench } = await import('../micro/sign.bench.js');
      // The micro bench prints its own table; keep the suite's output to the goals.
      const { log, table } = console;
      console.log = () => {};
      console.table = () => {};
      let rows: Array<Record<string, string | number>>;
      try {
        rows = await runSignBench(quick ? 300 : 1000);
      } finally {
        console.log = log;
        console.table = table;
      }
      const ops = (name: string): number | undefined => num(rows.find((r) => r.task === name)?.['ops/s']);
      const goals: GoalRow[] = [];
      for (const [what, ours, smithy] of [
        ['GET', 'SigV4Signer.sign GET', 'smithy SignatureV4.sign GET'],
        ['POST 120 B', 'SigV4Signer.sign POST 120 B (incl. body hash)', 'smithy SignatureV4.sign POST 120 B'],
      ] as const) {
        const a = ops(ours);
        const b = ops(smithy);
        goals.push(
          check({
            scenario: 'sign',
            metric: `SigV4 signatures/s, ${what}, vs @smithy/signature-v4`,
            ours: a,
            baseline: b,
            value: a !== undefined && b ? a / b : undefined,
            unit: 'x',
            op: 'info',
          }),
        );
      }
      return { raw: rows, goals };
    },
  },
  {
    id: 'rollout',
    title: 'Rollout vs SDK v3 + p-limit',
    isolates:
      'the whole engine: a rollout (coordinator, worker threads, rate gates, diff, version-guarded writes) against a baseline written as users write it today (SDK v3 + p-limit: get, merge, update per thing), same emulator, same run; with quotas off, with the account quota at 2,000/s, a 1,000,000-name target list, and a one-key change to a 2 KB document',
    goals: [
      'quotas off: >= 4x the baseline things/s',
      'quota 2,000/s: >= 95% of the quota achieved',
      'quota 2,000/s: < 0.5% of requests throttled',
      '1,000,000 target names: peak RSS < 300 MB',
      'one-key change to a 2 KB document: < 10% of the whole document sent',
    ],
    async run({ quick, log }) {
      const mod = (await import('../rollout/rollout.bench.js')) as Any;
      const r = (await mod.runRolloutBench({ quick, log })) as Any;
      return { raw: r, goals: rolloutGoals(r) };
    },
  },
  {
    id: 'startup',
    title: 'Start-up cost, end to end',
    isolates:
      'what a user waits for beyond the quota: the built `shadowfleet` binary started as its own process (module loading, worker threads, first permits, teardown included); a 15,000-thing rollout at --rate 1000 against an emulator quota of 1,000/s, and a one-thing rollout and one `get` against a bare node process making one undici request',
    goals: [
      '15,000 things at 1,000/s: <= 15.8 s end to end (95% of the quota)',
      '< 0.5% of requests throttled',
      'informational: one-thing rollout and get vs a bare node + undici request',
    ],
    async run({ quick, log }) {
      const mod = (await import('../rollout/startup.bench.js')) as Any;
      const r = (await mod.runStartupBench({ quick, log })) as Any;
      return { raw: r, goals: startupGoals(r) };
    },
  },
  {
    id: 'gate',
    title: 'Rate gates: 10-second windows at the account quota',
    isolates:
      'the rate gates alone: GETs from 2 worker threads through the coordinator at a 4,000/s limit against the emulator with its own 4,000/s quota; the emulator counts requests every 100 ms and every 10-second window is compared with the limit',
    goals: ['every 10 s window within 2% of the limit, all workers together', '< 0.5% of requests throttled'],
    async run({ quick, log }) {
      const seconds = quick ? 13 : 20;
      log(`  gate: 4,000/s, 2 workers, ${seconds} s`);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('../engine/rate-window.bench.ts', import.meta.url))],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, RATE: '4000', SECONDS: String(seconds), WORKERS: '2', EMULATOR_QUOTA: '4000' },
        },
      );
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`bench/engine/rate-window.bench.ts exited with ${code}`);
      const r = JSON.parse(text.trim().split('\n').pop()!) as Any;
      const goals: GoalRow[] = [
        check({
          scenario: 'gate',
          metric: `4,000/s limit, 2 workers: lowest of ${r.windows} 10 s windows`,
          ours: r.min10s,
          baseline: r.limit,
          value: num(r.minShare) === undefined ? undefined : r.minShare * 100,
          unit: '%',
          op: '>=',
          target: 98,
          goal: '>= 98%',
        }),
        check({
          scenario: 'gate',
          metric: `4,000/s limit, 2 workers: highest of ${r.windows} 10 s windows`,
          ours: r.max10s,
          baseline: r.limit,
          value: num(r.maxShare) === undefined ? undefined : r.maxShare * 100,
          unit: '%',
          op: '<=',
          target: 102,
          goal: '<= 102%',
        }),
        check({
          scenario: 'gate',
          metric: 'emulator quota 4,000/s: throttled share of requests',
          value: r.requests > 0 ? (r.throttled / r.requests) * 100 : undefined,
          unit: '%',
          op: '<=',
          target: 0.5,
          goal: '< 0.5%',
        }),
      ];
      return { raw: r, goals };
    },
  },
  {
    id: 'snapshot',
    title: 'Snapshot vs SDK v3',
    isolates:
      'a snapshot of every shadow (list + get, JSON lines, gzip) with quotas off against a baseline written with the SDK v3 (get each shadow, write JSON lines), same emulator, same run; shadows/s and peak RSS of both',
    goals: ['shadows/s above the baseline', 'peak RSS < 300 MB (bounded memory)'],
    async run({ quick, log }) {
      const mod = (await import('../snapshot/snapshot.bench.js')) as Any;
      const r = (await mod.runSnapshotBench({ quick, log })) as Any;
      return { raw: r, goals: snapshotGoals(r) };
    },
  },
  {
    id: 'sync',
    title: 'Sync vs snapshot-then-restore',
    isolates:
      'mirroring a seeded fleet (classic and named shadows, desired and reported) from one emulator to an empty one with `sync` (source reads and destination writes overlapped, each side its own run) against the copy it replaces: a snapshot of the source to a local directory, then a restore (desired and reported) to another empty emulator; each emulator its own process, same run; two rows: quotas off (both bound by the CPU: the work per thing) and an account quota of 1,000/s per operation on every emulator with both copies at that rate (bound by the quota, as between two AWS accounts: sync draws on both quotas at once); things/s of both, requests per thing per side, CPU time per thing of every process',
    goals: [
      'quotas off: sync things/s >= snapshot-then-restore things/s',
      'informational: CPU per thing of every process, sync vs snapshot-then-restore',
      'account quota: sync things/s >= 1.8x snapshot-then-restore (ideal 2x)',
    ],
    async run({ quick, log }) {
      const { runSyncBench, SYNC_BENCH_GOALS } = await import('../sync/sync.bench.js');
      const r = (await runSyncBench({ quick, log })) as Any;
      return { raw: r, goals: syncGoals(r, SYNC_BENCH_GOALS) };
    },
  },
  {
    id: 'bench-command',
    title: 'shadowfleet bench on the emulator',
    isolates:
      'the engine measuring itself as a user would: `shadowfleet bench` with a 50/50 get/update mix, emulator in its own process with quotas off and with AWS quotas; engine throughput and latency (informational)',
    goals: ['informational: ops/s, p50/p99 latency, throttles'],
    async run({ quick, log }) {
      const { runBench } = await import('../../src/jobs/bench/bench.js');
      const seconds = quick ? 4 : 10;
      const goals: GoalRow[] = [];
      const raw: Any = {};
      for (const quotas of ['off', 'aws'] as const) {
        log(`  bench-command: quotas ${quotas}, ${seconds} s`);
        const r = await runBench({
          durationMs: seconds * 1000,
          things: 2000,
          concurrency: 64,
          emulator: { quotas },
          rate: quotas === 'off' ? 'off' : undefined,
        });
        raw[quotas] = { ...r, latency: { ...r.latency, buckets: undefined } };
        goals.push(
          check({
            scenario: 'bench-command',
            metric: `get/update 50/50, emulator quotas ${quotas}: ops/s`,
            value: r.opsPerSecond,
            op: 'info',
            note: `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, throttles ${r.throttles}`,
          }),
        );
        if (quotas === 'aws') {
          goals.push(
            check({
              scenario: 'bench-command',
              metric: 'emulator AWS quotas: throttled share of requests',
              value: r.requests > 0 ? (r.throttles / r.requests) * 100 : undefined,
              unit: '%',
              op: 'info',
            }),
          );
        }
      }
      return { raw, goals };
    },
  },
  {
    id: 'distributed',
    title: 'Jobs on a Redis queue, one shared quota',
    isolates:
      "three `shadowfleet worker` processes taking a rollout's batches from a BullMQ queue against an emulator (own process) with a 1,000/s account quota, the gate shared through Redis; two jobs on one account at once (emulator quota off, only the shared gate holds them); Redis round trips per 1,000 things; things/s with quotas off for 1, 2 and 3 worker processes beside the local thread pool (needs Redis at SHADOWFLEET_REDIS or 127.0.0.1:6379)",
    goals: [
      '>= 95% of a 1,000/s quota end to end with 3 workers',
      '< 0.5% throttled',
      'two jobs on one account together within 2% of the quota',
      'informational: Redis calls per 1,000 things, things/s for 1-3 workers vs the local pool',
    ],
    async run({ quick, log }) {
      const { runDistributedBench } = await import('../distributed/distributed.bench.js');
      const r = (await runDistributedBench({ quick, log })) as Any;
      const q = r.quotaRun as Any;
      const sh = r.sharedRun as Any;
      const pct = (v: unknown): number | undefined => (num(v) === undefined ? undefined : (v as number) * 100);
      const goals: GoalRow[] = [
        check({
          scenario: 'distributed',
          metric: `3 worker processes, quota ${r.quota}/s: things/s end to end`,
          ours: num(q?.thingsPerSecond),
          baseline: num(r.quota),
          value: pct(q?.share),
          unit: '%',
          op: '>=',
          target: 95,
          goal: '>= 95%',
        }),
        check({
          scenario: 'distributed',
          metric: `3 worker processes, quota ${r.quota}/s: throttled share of requests`,
          value: pct(q?.throttledShare),
          unit: '%',
          op: '<=',
          target: 0.5,
          goal: '< 0.5%',
        }),
        check({
          scenario: 'distributed',
          metric: `two jobs on one account: highest of ${sh?.windows ?? '?'} 10 s windows (lowest ${sh?.minWindow ?? '?'}/s)`,
          ours: num(sh?.maxWindow),
          baseline: num(r.quota),
          value: pct(sh?.maxShare),
          unit: '%',
          op: '<=',
          target: 102,
          goal: '<= 102%',
        }),
        check({
          scenario: 'distributed',
          metric: 'Redis round trips per 1,000 things (queue, results, records, gates)',
          value: num(q?.redisCallsPer1000Things),
          op: 'info',
          note: `server-side commands incl. those inside Lua scripts: ${Math.round(num(q?.redisServerCommandsPer1000Things) ?? 0)}`,
        }),
      ];
      for (const x of (r.scale ?? []) as Any[])
        goals.push(
          check({
            scenario: 'distributed',
            metric: `quotas off: ${x.runner}, things/s`,
            value: num(x.thingsPerSecond),
            op: 'info',
          }),
        );
      return { raw: r, goals };
    },
  },
];

/** Goal rows of bench/rollout/startup.bench.ts (StartupBenchResult). */
export function startupGoals(r: Any): GoalRow[] {
  const q = r?.quota;
  const things = q?.things?.toLocaleString('en-US') ?? '?';
  const budget = q === undefined ? undefined : q.idealMs / 0.95 / 1000;
  return [
    check({
      scenario: 'startup',
      metric: `rollout of ${things} things at --rate 1000, quota 1,000/s: seconds end to end (ideal ${q === undefined ? '?' : (q.idealMs / 1000).toFixed(1)} s; ratio ${num(q?.ratio) ?? '?'}x)`,
      value: num(q?.wallMs) === undefined ? undefined : q.wallMs / 1000,
      unit: ' s',
      op: '<=',
      target: budget === undefined ? 15.8 : Math.round(budget * 10) / 10,
      goal: `<= ${budget === undefined ? '15.8' : budget.toFixed(1)} s`,
    }),
    check({
      scenario: 'startup',
      metric: 'rollout at the quota: throttled share of requests',
      value: num(q?.throttledShare) === undefined ? undefined : q.throttledShare * 100,
      unit: '%',
      op: '<=',
      target: 0.5,
      goal: '< 0.5%',
    }),
    check({
      scenario: 'startup',
      metric: `one-thing rollout: ${num(r?.one?.medianMs) ?? '?'} ms vs a bare node + undici request (${num(r?.floorMs) ?? '?'} ms)`,
      value: num(r?.one?.ratio),
      unit: 'x',
      op: 'info',
    }),
    check({
      scenario: 'startup',
      metric: `one get: ${num(r?.get?.medianMs) ?? '?'} ms vs a bare node + undici request (${num(r?.floorMs) ?? '?'} ms)`,
      value: num(r?.get?.ratio),
      unit: 'x',
      op: 'info',
    }),
  ];
}

/** Goal rows of bench/rollout/rollout.bench.ts (RolloutBenchResult). */
export function rolloutGoals(r: Any): GoalRow[] {
  const g: GoalRow[] = [];
  const t = r.throughput as Any | undefined;
  g.push(
    check({
      scenario: 'rollout',
      metric: `quotas off, ${t?.shadowfleet?.things?.toLocaleString('en-US') ?? '?'} things: things/s vs SDK v3 + p-limit`,
      ours: num(t?.shadowfleet?.thingsPerSecond),
      baseline: num(t?.baseline?.thingsPerSecond),
      value: num(t?.ratio),
      unit: 'x',
      op: '>=',
      target: 4,
      goal: '>= 4x',
    }),
  );
  const q = r.quota as Any | undefined;
  const quota = num(q?.quota) ?? 2000;
  g.push(
    check({
      scenario: 'quota',
      metric: `account quota ${quota}/s: achieved share of the quota`,
      ours: num(q?.shadowfleet?.achievedRps),
      baseline: num(q?.baseline?.achievedRps),
      value: num(q?.shadowfleet?.achievedShare) === undefined ? undefined : q!.shadowfleet.achievedShare * 100,
      unit: '%',
      op: '>=',
      target: 95,
      goal: '>= 95%',
    }),
  );
  const pct = (v: unknown): string | undefined =>
    num(v) === undefined ? undefined : `${((v as number) * 100).toFixed(2)}%`;
  g.push(
    check({
      scenario: 'quota',
      metric: `account quota ${quota}/s: throttled share of requests`,
      ours: pct(q?.shadowfleet?.throttledShare),
      baseline: pct(q?.baseline?.throttledShare),
      value: num(q?.shadowfleet?.throttledShare) === undefined ? undefined : q!.shadowfleet.throttledShare * 100,
      unit: '%',
      op: '<=',
      target: 0.5,
      goal: '< 0.5%',
    }),
  );
  const m = r.memory as Any | undefined;
  g.push(
    check({
      scenario: 'rollout',
      metric: `peak RSS, ${m?.things?.toLocaleString('en-US') ?? '?'} target names`,
      value: num(m?.peakRssMb),
      unit: ' MB',
      op: '<=',
      target: 300,
      goal: '< 300 MB',
      note: m !== undefined && m.things < 1_000_000 ? "quick: fewer names than the goal's 1,000,000" : undefined,
    }),
  );
  const b = r.bytes as Any | undefined;
  g.push(
    check({
      scenario: 'bytes',
      metric: `one-key change to a ${b?.documentBytes ?? 2048} B desired: bytes sent per thing`,
      ours: num(b?.shadowfleetBytesPerThing),
      baseline: num(b?.baselineBytesPerThing),
      value: num(b?.sentShare) === undefined ? undefined : b!.sentShare * 100,
      unit: '%',
      op: '<=',
      target: 10,
      goal: '< 10%',
    }),
  );
  return g;
}

/** Goal rows of bench/snapshot/snapshot.bench.ts (SnapshotBenchResult). */
export function syncGoals(r: Any, goals: { cpu: number; quota: number }): GoalRow[] {
  const row = (x: Any | undefined, what: string, target: number): GoalRow =>
    check({
      scenario: 'sync',
      metric: `${what}, ${num(x?.things)?.toLocaleString('en-US') ?? '?'} things: things/s vs snapshot then restore (${num(x?.sync?.elapsedMs) === undefined ? '?' : (x!.sync.elapsedMs / 1000).toFixed(1)} s vs ${num(x?.snapshotRestore?.elapsedMs) === undefined ? '?' : (x!.snapshotRestore.elapsedMs / 1000).toFixed(1)} s)`,
      ours: num(x?.sync?.thingsPerSecond),
      baseline: num(x?.snapshotRestore?.thingsPerSecond),
      value: num(x?.ratio),
      unit: 'x',
      op: '>=',
      target,
      goal: `>= ${target}x`,
    });
  return [
    row(r.cpu, 'quotas off', goals.cpu),
    check({
      scenario: 'sync',
      metric: 'quotas off: CPU ms per thing, every process (this one and the emulators), vs snapshot then restore',
      ours: num(r.cpu?.sync?.cpuMsPerThing),
      baseline: num(r.cpu?.snapshotRestore?.cpuMsPerThing),
      value: num(r.cpu?.cpuRatio),
      unit: 'x',
      op: 'info',
    }),
    row(r.quotaRow, `account quota ${num(r.quotaRow?.quota) ?? '?'}/s`, goals.quota),
  ];
}

export function snapshotGoals(r: Any): GoalRow[] {
  const mb = (v: unknown): number | undefined => (num(v) === undefined ? undefined : Math.round((v as number) / MB));
  return [
    check({
      scenario: 'snapshot',
      metric: `${num(r.shadows)?.toLocaleString('en-US') ?? '?'} shadows, quotas off: shadows/s vs SDK v3`,
      ours: num(r.shadowfleet?.shadowsPerSecond),
      baseline: num(r.baseline?.shadowsPerSecond),
      value: num(r.ratio),
      unit: 'x',
      op: '>=',
      target: 1,
      goal: '> 1x',
    }),
    check({
      scenario: 'snapshot',
      metric: 'peak RSS (MB)',
      ours: mb(r.shadowfleet?.peakRssBytes),
      baseline: mb(r.baseline?.peakRssBytes),
      value: num(r.shadowfleet?.peakRssBytes) === undefined ? undefined : r.shadowfleet.peakRssBytes / MB,
      unit: ' MB',
      op: '<=',
      target: 300,
      goal: '< 300 MB',
    }),
  ];
}

export { errorRow };
