import type { Command } from 'commander';
import { placementFrom } from '../distributed-flags.js';
import { EXIT, type CommandContext, type Runner } from '../context.js';
import { checkedFlags, durationFlag, isPositiveInt, numberFlag, requiredEndpoint } from '../flags.js';
import { formatPairs } from '../output.js';
import { createProgress, type Progress } from '../progress.js';
import {
  addSelectionFlags,
  controlEndpointFromFlags,
  selectionFromFlags,
  type SelectionFlags,
} from '../selection-flags.js';
import type { BenchOptions, BenchOperation, BenchProgress, BenchResult } from '../../index.js';

interface BenchFlags extends SelectionFlags {
  scenario?: string;
  endpoint?: string;
  region?: string;
  mix?: string;
  things?: string;
  prefix?: string;
  shadow?: string;
  documentBytes?: string;
  rate?: string;
  concurrency?: string;
  duration?: string;
  count?: string;
  warmup?: string;
  workers?: string;
  prepare: boolean;
  cleanup?: boolean;
  pricePerMillion?: string;
  meterBytes?: string;
  emulatorQuotas?: string;
  emulatorAccountRps?: string;
  emulatorFaultRate?: string;
  emulatorLatencyMs?: string;
  json?: boolean;
  report?: string;
}

type Lib = typeof import('../../index.js');

export function defineBench(program: Command, run: Runner): void {
  const bench = program
    .command('bench')
    .description(
      'drive a known load against the data plane (or the emulator in its own process) and report throughput, latency, throttles and cost',
    )
    .option('--scenario <file>', 'load scenario (YAML or JSON); flags override its fields')
    .option(
      '--endpoint <url>',
      'data plane endpoint (or SHADOWFLEET_ENDPOINT); default: start the emulator in a child process',
    )
    .option('--region <region>', 'signing region (or AWS_REGION)')
    .option('--mix <ops>', 'operation weights, e.g. get=60,update=30,list=5,publish=5 (default get=50,update=50)')
    .option('--things <n>', 'number of things (default 1000)')
    .option(
      '--prefix <prefix>',
      'thing name prefix: the run touches only <prefix>0..<prefix>N-1 (default shadowfleet-bench-)',
    )
    .option('--shadow <name>', 'named shadow (default: the classic shadow)');
  // Reads of real things instead of the prefixed bench things (needs --endpoint; get, list, publish only).
  addSelectionFlags(bench)
    .option('--document-bytes <n[,n...]>', 'update document sizes in bytes, 64..8000 (default 512)')
    .option(
      '--rate <n|off>',
      'target operations per second, all operations together; off = no rate gate (default: the account quota, 4000/s per operation)',
    )
    .option('--concurrency <n>', 'operations in flight (default 64)')
    .option('--duration <d>', 'measured time, e.g. 30s, 2m (default 10s)')
    .option('--count <n>', 'measured operations (instead of a duration)')
    .option('--warmup <d>', 'with --duration: send but do not measure for this long first, e.g. 2s')
    .option('--workers <n>', 'worker threads (default: the core count)')
    .option('--no-prepare', 'do not write one document per thing before measuring')
    .option('--cleanup', 'delete the shadows of the prefixed things afterwards')
    .option('--price-per-million <usd>', 'US$ per million shadow operations for the cost estimate (default 1.25)')
    .option('--meter-bytes <n>', 'shadow operations are billed per started N bytes (default 1024)')
    .option('--emulator-quotas <aws|off>', 'quota emulation of the child emulator (default aws)')
    .option('--emulator-account-rps <n>', 'account quota of the child emulator, every operation')
    .option('--emulator-fault-rate <r>', 'share of requests the child emulator fails (0..1)')
    .option('--emulator-latency-ms <n>', 'latency the child emulator adds to each request')
    .option('--json', 'one JSON result on stdout')
    .option('--report <file.html>', 'write the report page (self-contained HTML) here')
    .action(
      run<BenchFlags>(async (flags, ctx) => {
        const lib = await import('../../index.js');
        const options = await benchOptionsFromFlags(flags, ctx, lib);
        const progress = await progressPrinter(flags, ctx);
        options.onProgress = progress.update;
        options.placement = placementFrom(flags);
        let result: BenchResult;
        try {
          result = await lib.runBench(options);
        } finally {
          progress.stop();
        }
        ctx.out(flags.json ? JSON.stringify(result) : formatBenchResult(result, lib));
        if (result.interrupted) return EXIT.INTERRUPTED;
        return result.failed > 0 ? EXIT.FAILED : EXIT.OK;
      }),
    );
}

/** `get=60,update=40` -> { get: 60, update: 40 } */
export function parseMix(text: string, lib: Lib): Partial<Record<BenchOperation, number>> {
  const out: Partial<Record<BenchOperation, number>> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [op, w = '1'] = part.split('=');
    if (!lib.BENCH_OPERATIONS.includes(op as BenchOperation)) {
      throw new lib.InvalidArgumentError(
        `--mix: unknown operation "${op}" (expected ${lib.BENCH_OPERATIONS.join(', ')})`,
      );
    }
    const n = Number(w);
    if (!Number.isFinite(n) || n < 0)
      throw new lib.InvalidArgumentError(`--mix: expected a weight >= 0 for ${op}, got "${w}"`);
    out[op as BenchOperation] = n;
  }
  if (!Object.values(out).some((v) => v > 0))
    throw new lib.InvalidArgumentError('--mix: expected at least one operation with a weight above 0');
  return out;
}

type BenchSettings = Pick<BenchOptions, 'things' | 'rate' | 'concurrency' | 'count' | 'workers'>;

/**
 * The counts and rate the flags give, checked by the schema scenario files and runBench use:
 * `--things 0`, `things: 0` in a scenario and `runBench({ things: 0 })` get the same message,
 * each naming its source (`--things: things: expected a positive integer, got 0`).
 */
function benchSettingsFromFlags(flags: BenchFlags, lib: Lib): BenchSettings {
  const set = checkedFlags(
    [
      ['--things', 'things', flags.things],
      ['--rate', 'rate', flags.rate], // 'off' stays text, which the schema takes
      ['--concurrency', 'concurrency', flags.concurrency],
      ['--count', 'count', flags.count],
      ['--workers', 'workers', flags.workers],
    ],
    lib.checkBenchOptions,
  );
  return set as BenchSettings;
}

export async function benchOptionsFromFlags(
  flags: BenchFlags,
  ctx: Pick<CommandContext, 'signal'>,
  lib: Lib,
): Promise<BenchOptions> {
  const { InvalidArgumentError } = lib;
  const scenario = flags.scenario !== undefined ? await lib.loadBenchScenario(flags.scenario) : {};
  const o: BenchOptions = { ...scenario, signal: ctx.signal };
  const endpoint = flags.endpoint ?? process.env.SHADOWFLEET_ENDPOINT;
  if (endpoint !== undefined && endpoint !== '') o.endpoint = requiredEndpoint(flags.endpoint);
  if (flags.region !== undefined) o.region = flags.region;
  if (flags.mix !== undefined) o.operations = parseMix(flags.mix, lib);
  const set = benchSettingsFromFlags(flags, lib);
  if (set.things !== undefined) o.things = set.things;
  if (flags.prefix !== undefined) o.prefix = flags.prefix;
  const selection = selectionFromFlags(flags);
  if (selection !== undefined) {
    if (o.endpoint === undefined)
      throw new InvalidArgumentError(
        '--thing-group, --query and --all-things benchmark the things of a fleet: give --endpoint',
      );
    o.targets = selection;
  }
  const controlEndpoint = controlEndpointFromFlags(flags);
  if (controlEndpoint !== undefined) o.controlEndpoint = controlEndpoint;
  if (flags.shadow !== undefined) {
    if (flags.shadow === 'classic') delete o.shadowName;
    else o.shadowName = flags.shadow;
  }
  if (flags.documentBytes !== undefined) {
    o.documentBytes = flags.documentBytes.split(',').map((s) => {
      const n = Number(s.trim());
      if (!Number.isInteger(n) || n < 64 || n > 8000)
        throw new InvalidArgumentError(`--document-bytes: expected sizes in bytes from 64 to 8000, got "${s}"`);
      return n;
    });
  }
  if (set.rate !== undefined) o.rate = set.rate;
  if (set.concurrency !== undefined) o.concurrency = set.concurrency;
  const durationMs = durationFlag('--duration', flags.duration, '30s or 2m', true);
  if (durationMs !== undefined) {
    o.durationMs = durationMs;
    delete o.count;
  }
  const count = set.count;
  if (count !== undefined) {
    if (flags.duration !== undefined) throw new InvalidArgumentError('--duration and --count cannot be used together');
    o.count = count;
    delete o.durationMs;
  }
  const warmupMs = durationFlag('--warmup', flags.warmup, '2s');
  if (warmupMs !== undefined) o.warmupMs = warmupMs;
  if (set.workers !== undefined) o.workers = set.workers;
  if (flags.prepare === false) o.prepare = false;
  if (flags.cleanup) o.cleanup = true;
  const price = numberFlag('--price-per-million', flags.pricePerMillion, (n) => n >= 0, 'a price >= 0');
  const meter = numberFlag('--meter-bytes', flags.meterBytes, isPositiveInt, 'a positive integer');
  if (price !== undefined || meter !== undefined)
    o.pricing = {
      ...o.pricing,
      ...(price === undefined ? {} : { perMillion: price }),
      ...(meter === undefined ? {} : { meterBytes: meter }),
    };
  const emu: NonNullable<BenchOptions['emulator']> = {};
  if (flags.emulatorQuotas !== undefined) {
    if (flags.emulatorQuotas !== 'aws' && flags.emulatorQuotas !== 'off')
      throw new InvalidArgumentError(`--emulator-quotas: expected aws or off, got "${flags.emulatorQuotas}"`);
    emu.quotas = flags.emulatorQuotas;
  }
  const accountRps = numberFlag('--emulator-account-rps', flags.emulatorAccountRps, (n) => n > 0, 'a positive number');
  if (accountRps !== undefined) emu.accountRps = accountRps;
  const faultRate = numberFlag(
    '--emulator-fault-rate',
    flags.emulatorFaultRate,
    (n) => n >= 0 && n <= 1,
    'a share from 0 to 1',
  );
  if (faultRate !== undefined) emu.faults = { ...emu.faults, rate: faultRate };
  const latency = numberFlag('--emulator-latency-ms', flags.emulatorLatencyMs, (n) => n >= 0, 'a number of ms >= 0');
  if (latency !== undefined) emu.faults = { ...emu.faults, latencyMs: latency };
  if (Object.keys(emu).length > 0) {
    if (o.endpoint !== undefined) throw new InvalidArgumentError('--emulator-* options apply only without --endpoint');
    o.emulator = emu;
  }
  if (flags.report !== undefined) o.report = flags.report;
  return o;
}

/** Progress of a run: NDJSON events with --json, else a line every second (terminal) or few seconds (logs). */
function progressPrinter(flags: BenchFlags, ctx: CommandContext): Promise<Progress<BenchProgress>> {
  return createProgress<BenchProgress>(
    ctx,
    {
      line: (p) =>
        `bench ${p.phase}: ${(p.elapsedMs / 1000).toFixed(0)} s, ${p.done}${p.total === undefined ? '' : `/${p.total}`} ops, ${p.opsPerSecond.toFixed(0)} ops/s, ${p.errors} errors, ${p.throttles} throttled`,
    },
    flags.json === true ? { json: true } : { everyMs: ctx.stderrIsTTY ? 1000 : 5000 },
  );
}

/** The human result: summary rows, then one line per operation. */
export function formatBenchResult(r: BenchResult, lib: Pick<Lib, 'benchReportModel'>): string {
  const model = lib.benchReportModel(r);
  // Short notes are units (ms, s, ops/s); longer ones go in parentheses.
  const note = (n: string | undefined): string => (!n ? '' : n.length <= 6 ? ` ${n}` : ` (${n})`);
  const rows = model.summary.map(
    (row) =>
      [
        row.label,
        `${typeof row.value === 'number' ? row.value.toLocaleString('en-US') : String(row.value)}${note(row.note)}`,
      ] as [string, string],
  );
  for (const [k, v] of Object.entries(r.errors).sort((a, b) => b[1] - a[1]))
    rows.push([`  error ${k}`, v.toLocaleString('en-US')]);
  if (r.report !== undefined) rows.push(['report page', r.report]);
  const lines = [formatPairs(rows)];
  const table = model.tables![0]!;
  const grid = [
    table.columns,
    ...table.rows.map((row) => row.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : String(c ?? '')))),
  ];
  const widths = table.columns.map((_, i) => Math.max(...grid.map((row) => String(row[i]).length)));
  lines.push('');
  for (const row of grid)
    lines.push(row.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  '));
  return lines.join('\n');
}
