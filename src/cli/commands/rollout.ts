import type { Command } from 'commander';
import { placementFrom } from '../distributed-flags.js';
import { checkAccountsFlags } from '../accounts-flags.js';
import { runAccountsCommand } from '../rollout-accounts.js';
import { abortFlags, rampFlag } from '../rollout-flags.js';
import { formatRolloutResult, rolloutExitCode } from '../rollout-output.js';
import type { CommandContext, Runner } from '../context.js';
import { checkedFlags, collect, durationFlag, requiredEndpoint } from '../flags.js';
import { createProgress, type Progress } from '../progress.js';
import {
  addSelectionFlags,
  controlEndpointFromFlags,
  selectionFromFlags,
  type SelectionFlags,
} from '../selection-flags.js';
import type { RolloutOptions, RolloutProgress, RolloutResult } from '../../index.js';

interface RolloutFlags extends SelectionFlags {
  endpoint?: string;
  region?: string;
  things?: string;
  where?: string;
  shadow?: string;
  spec?: string;
  set?: string;
  transform?: string;
  rate?: string;
  attempts?: string;
  journal?: string;
  resume?: boolean;
  report?: string;
  reportPage?: string;
  dryRun?: boolean;
  waitConverged?: string;
  yes?: boolean;
  allowDeletes?: boolean;
  maxThings?: string;
  workers?: string;
  batchSize?: string;
  ramp?: string;
  abort?: string[];
  requestTimeout?: string;
  timeout?: string;
  json?: boolean;
  accounts?: string;
}

/** The journal a run writes when --journal is not given, so that --resume works after a crash. */
export const DEFAULT_ROLLOUT_JOURNAL = 'shadowfleet-rollout.journal';

export function defineRollout(program: Command, run: Runner): void {
  const command = program
    .command('rollout')
    .description('change desired state on many shadows: rate-limited, version-guarded, minimal updates, resumable')
    .option('--endpoint <url>', 'data plane endpoint (or SHADOWFLEET_ENDPOINT)')
    .option('--region <region>', 'signing region (or AWS_REGION)')
    .option(
      '--things <file|-|snapshot>',
      'targets: one thing name a line, CSV with a thingName column, or JSON lines; - for stdin; or a snapshot (directory or s3://bucket/prefix/): its things',
    );
  addSelectionFlags(command)
    .option(
      '--where <expr>',
      'only things whose shadow, as read just before the write, meets this condition, e.g. \'reported.firmware < "1.5.0" and reported.model == "x"\'',
    )
    .option('--shadow <name>', 'named shadow to change (default: the classic shadow)')
    .option('--spec <file>', 'rollout spec (YAML or JSON)')
    .option('--set <json>', 'inline desired merge document, e.g. \'{"fw":"2.4.1"}\'')
    .option(
      '--transform <module>',
      'transform module: (shadow, thingName, item) => the whole new desired state, or undefined to skip',
    )
    .option('--rate <n|off>', 'requests per second per operation (account quota); off = no limit')
    .option('--attempts <n>', 'conflict re-reads per thing')
    .option(
      '--ramp <base:factor:every>',
      'start at base requests/s, multiply by factor after every N successful things (e.g. 50:2:500)',
    )
    .option(
      '--abort <type:percent:min>',
      'stop when failures of type (failed|throttled|timed-out|all) pass percent after min things (repeatable, e.g. all:5:200)',
      collect,
    )
    .option('--request-timeout <duration>', 'per request (e.g. 10s)')
    .option('--timeout <duration>', 'stop the run after this long (e.g. 30m)')
    .option(
      '--journal <file>',
      `append-only journal of outcomes, for --resume (default ${DEFAULT_ROLLOUT_JOURNAL}; none for --dry-run)`,
    )
    .option('--resume', 'skip the things the journal already finished')
    .option('--report <file>', 'per-thing outcomes (NDJSON); the summary goes to <file>.summary.json')
    .option('--report-page <file.html>', 'also write the report page: one self-contained HTML file with charts')
    .option('--dry-run', 'read and diff only: report what would be written, bytes, billed operations and time')
    .option('--wait-converged <duration>', 'after writing, check until devices report the new values (e.g. 90s, 5m)')
    .option('--yes', 'confirm a rollout over more things than the blast-radius cap')
    .option('--allow-deletes', 'allow a change that deletes keys on many things')
    .option('--max-things <n>', 'blast-radius cap: more targets than this needs --yes')
    .option('--workers <n>', 'worker threads (default: the core count)')
    .option('--batch-size <n>', 'things per worker batch (default: rate / 40, from 4 to 100)')
    .option('--json', 'one JSON result on stdout, JSON progress events (NDJSON) on stderr')
    .option(
      '--accounts <file>',
      'run the change in every account of a plan file at once (each account: endpoint, region, credentials, targets, quota)',
    )
    .action(
      run<RolloutFlags>(async (flags, ctx) => {
        const lib = await loadLibrary();
        const options = await rolloutOptionsFromFlags(flags, ctx, lib);
        // Checked before the first request: found after the run, a bad path would waste it.
        if (flags.reportPage !== undefined) await lib.checkReportPageDestination(flags.reportPage, '--report-page');
        const progress = await rolloutProgress(flags, ctx);
        if (flags.accounts !== undefined) {
          options.placement = placementFrom(flags);
          return runAccountsCommand(flags.accounts, options, flags, ctx, lib, progress);
        }
        options.onProgress = progress.update;
        options.placement = placementFrom(flags);
        let result: RolloutResult;
        try {
          result = await lib.runRollout(options);
        } finally {
          progress.stop();
        }
        if (flags.reportPage !== undefined) {
          const page = await lib.writeRolloutReportPage(flags.reportPage, result);
          if (!flags.json) ctx.err(`report page: ${page}`);
        }
        if (flags.json) ctx.out(JSON.stringify(result));
        else ctx.out(formatRolloutResult(result));
        return rolloutExitCode(result);
      }),
    );
}

type Lib = typeof import('../../index.js');

/**
 * The public API, loaded lazily so other commands start fast. It no longer loads the AWS SDK (the
 * S3 and control-plane clients load where they are used), which was most of the difference that
 * once made this command load the rollout module alone; the rest of the root (the other jobs,
 * the report pages) still costs about 0.2-0.3 s of CPU on 2 busy cores, measured on the build.
 */
async function loadLibrary(): Promise<Lib> {
  return import('../../index.js');
}

async function rolloutOptionsFromFlags(flags: RolloutFlags, ctx: CommandContext, lib: Lib): Promise<RolloutOptions> {
  const { InvalidArgumentError } = lib;
  // With --accounts the plan gives each account's endpoint and targets.
  if (flags.accounts !== undefined) checkAccountsFlags(flags, InvalidArgumentError);
  const endpoint = flags.accounts === undefined ? requiredEndpoint(flags.endpoint) : '';
  const selection = selectionFromFlags(flags);
  if (flags.things !== undefined && selection !== undefined)
    throw new InvalidArgumentError(
      'give the targets once: --things or a selection (--thing-group, --query, --all-things), not both',
    );
  const controlEndpoint = controlEndpointFromFlags(flags);
  // Compiled before anything else is read or sent: a syntax error is a usage error naming the flag.
  if (flags.where !== undefined) {
    try {
      new lib.ShadowCondition(flags.where);
    } catch (err) {
      throw new InvalidArgumentError(`--where: ${(err as Error).message.replace(/^where: /, '')}`);
    }
  }
  const changes = [flags.spec, flags.set].filter((v) => v !== undefined).length;
  if (changes === 0) throw new InvalidArgumentError('give the change with --spec FILE or --set JSON');
  if (changes > 1) throw new InvalidArgumentError('--spec and --set cannot be used together');

  const spec = flags.spec !== undefined ? await lib.loadRolloutSpec(flags.spec) : {};
  // Targets on the command line replace the spec's selection (targets:).
  const targets = flags.things ?? selection ?? spec.targets;
  if (targets === undefined && flags.accounts === undefined)
    throw new InvalidArgumentError(
      '--things: required (a file of thing names, - for stdin, or a snapshot), or a selection: --thing-group, --query, --all-things, or targets: in the spec',
    );
  // (undefined only with --accounts: then each account's targets, or the spec's, are used)
  const options: RolloutOptions = { ...spec, endpoint, targets: targets!, signal: ctx.signal };
  if (controlEndpoint !== undefined) options.controlEndpoint = controlEndpoint;
  if (flags.where !== undefined) options.where = flags.where;
  if (flags.region !== undefined) options.region = flags.region;
  if (flags.set !== undefined) {
    if (flags.transform !== undefined) throw new InvalidArgumentError('--set and --transform cannot be used together');
    options.desired = lib.parseInlineDesired(flags.set, '--set');
  }
  if (flags.transform !== undefined) {
    const { resolve } = await import('node:path');
    delete options.desired;
    options.transform = resolve(flags.transform);
  }
  if (flags.shadow !== undefined) {
    if (flags.shadow === 'classic' || flags.shadow === '') delete options.shadowName;
    else options.shadowName = flags.shadow;
  }
  const set = settingsFromFlags(flags, lib);
  if (set.rate === 'off') options.rate = 'off';
  else if (set.rate !== undefined) options.rate = { ...(typeof spec.rate === 'object' ? spec.rate : {}), ...set.rate };
  if (set.attempts !== undefined) options.attempts = set.attempts;
  if (set.workers !== undefined) options.workers = set.workers;
  if (set.batchSize !== undefined) options.batchSize = set.batchSize;
  if (set.safety !== undefined) options.safety = { ...options.safety, ...set.safety };
  if (flags.ramp !== undefined) options.ramp = rampFlag(flags.ramp, InvalidArgumentError);
  if (flags.abort !== undefined) options.abort = abortFlags(flags.abort, InvalidArgumentError);
  for (const [flag, text, key] of [
    ['--request-timeout', flags.requestTimeout, 'requestMs'],
    ['--timeout', flags.timeout, 'runMs'],
  ] as const) {
    const ms = durationFlag(flag, text, '90s or 5m', true);
    if (ms !== undefined) options.timeouts = { ...options.timeouts, [key]: ms };
  }
  const waitConverged = durationFlag('--wait-converged', flags.waitConverged, '90s or 5m');
  if (waitConverged !== undefined) options.waitConvergedMs = waitConverged;
  // A dry run keeps no journal unless asked: it must not replace the journal of a run to resume.
  if (flags.journal !== undefined) options.journal = flags.journal;
  else if (!flags.dryRun) options.journal = DEFAULT_ROLLOUT_JOURNAL;
  if (flags.resume) options.resume = true;
  if (flags.report !== undefined) options.report = flags.report;
  if (flags.dryRun) options.dryRun = true;
  if (flags.yes) options.yes = true;
  if (flags.allowDeletes) options.allowDeletes = true;
  return options;
}

/**
 * The settings the flags give, mapped to RolloutOptions' fields and checked by the rollout's one
 * schema, the one spec files and runRollout use: `--rate 0`, `rate: { perSecond: 0 }` in a spec
 * and `runRollout({ rate: { perSecond: 0 } })` get the same message, each naming its source
 * (`--rate: rate.perSecond: expected a positive number, got 0`).
 */
function settingsFromFlags(
  flags: RolloutFlags,
  lib: Lib,
): Pick<RolloutOptions, 'rate' | 'attempts' | 'workers' | 'batchSize' | 'safety'> {
  const set = checkedFlags(
    [
      ['--rate', 'rate.perSecond', flags.rate === 'off' ? undefined : flags.rate],
      ['--attempts', 'attempts', flags.attempts],
      ['--workers', 'workers', flags.workers],
      ['--batch-size', 'batchSize', flags.batchSize],
      ['--max-things', 'safety.maxThings', flags.maxThings],
    ],
    lib.checkRolloutOptions,
  );
  if (flags.rate === 'off') set.rate = 'off';
  return set as Pick<RolloutOptions, 'rate' | 'attempts' | 'workers' | 'batchSize' | 'safety'>;
}

/** Progress of a rollout: a bar per phase (write, converge) on a terminal. */
function rolloutProgress(flags: RolloutFlags, ctx: CommandContext): Promise<Progress<RolloutProgress>> {
  return createProgress<RolloutProgress>(
    ctx,
    {
      // While converging, `done` counts converged things: a pace or an ETA would mean nothing.
      line: (p) =>
        p.phase === 'gate' && p.gate !== undefined
          ? `rollout gate of wave ${p.gate.wave + 1} (${p.gate.label}): ${p.gate.converged}/${p.gate.things} converged, ${p.gate.healthy} healthy, ${p.gate.unhealthy} unhealthy: ${p.gate.verdict}`
          : p.phase === 'converge'
            ? `rollout converge: ${p.done}${p.total === undefined ? '' : `/${p.total}`} things converged`
            : `rollout ${p.phase}: ${p.done}${p.total === undefined ? '' : `/${p.total}`} things, ${p.thingsPerSecond.toFixed(0)}/s, ${p.failed} failed, ${p.throttles} throttled`,
      bar: (p) => ({
        phase: p.phase,
        format:
          p.phase === 'converge'
            ? 'converge [{bar}] {percentage}% | {value}/{total} things converged'
            : `${p.phase} [{bar}] {percentage}% | {value}/{total} things | {rate}/s | ETA {etaText} | failed {failed} | throttled {throttles}`,
        done: p.done,
        total: p.total,
        payload: {
          rate: p.thingsPerSecond.toFixed(0),
          failed: p.failed,
          throttles: p.throttles,
          etaText: formatEta(p.etaSeconds),
        },
      }),
    },
    flags.json === true ? { json: true } : {},
  );
}

function formatEta(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '-';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
