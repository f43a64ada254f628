import type { Command } from 'commander';
import { placementFrom } from '../distributed-flags.js';
import { EXIT, type CommandContext, type Runner } from '../context.js';
import { collect, durationFlag, positiveIntFlag, rateFlag } from '../flags.js';
import { formatPairs, formatTable } from '../output.js';
import type {
  FleetApplyOptions,
  FleetApplyResult,
  FleetDriftResult,
  FleetJobOptions,
  FleetPlanResult,
} from '../../index.js';
import { abortFlags, rampFlag } from '../rollout-flags.js';

interface FleetFlags {
  endpoint?: string;
  region?: string;
  profile?: string;
  rate?: string;
  fromSnapshot?: string;
  workers?: string;
  json?: boolean;
}

interface ApplyFlags extends FleetFlags {
  dryRun?: boolean;
  ramp?: string;
  abort?: string[];
  yes?: boolean;
  allowDeletes?: boolean;
  journal?: string;
  resume?: boolean;
  waitConverged?: string;
  reportPage?: string;
}

interface DriftFlags extends FleetFlags {
  maxLag?: string;
  ndjson?: boolean;
  reportPage?: string;
}

function common(cmd: Command): Command {
  return cmd
    .option('--endpoint <url>', 'data plane endpoint (or SHADOWFLEET_ENDPOINT)')
    .option('--region <region>', 'signing region (or AWS_REGION)')
    .option('--profile <name>', 'credentials: a profile of the shared AWS files')
    .option('--rate <n|off>', 'requests per second per operation (account quota, default 4000)')
    .option(
      '--from-snapshot <snapshot>',
      'read the fleet from a recent snapshot (directory or s3://bucket/prefix/) instead of the data plane',
    )
    .option('--workers <n>', 'worker threads (default 1)')
    .option('--json', 'one JSON result on stdout');
}

function jobOptions(file: string, flags: FleetFlags, ctx: CommandContext): FleetJobOptions {
  const o: FleetJobOptions = { file, signal: ctx.signal };
  const placement = placementFrom(flags);
  if (placement !== undefined) o.placement = placement;
  const endpoint = flags.endpoint ?? process.env.SHADOWFLEET_ENDPOINT;
  if (endpoint !== undefined) o.endpoint = endpoint;
  if (flags.region !== undefined) o.region = flags.region;
  if (flags.profile !== undefined) o.profile = flags.profile;
  const rate = rateFlag('--rate', flags.rate);
  if (rate !== undefined) o.rate = rate;
  if (flags.fromSnapshot !== undefined) o.fromSnapshot = flags.fromSnapshot;
  const workers = positiveIntFlag('--workers', flags.workers);
  if (workers !== undefined) o.workers = workers;
  return o;
}

export function defineFleet(program: Command, run: Runner): void {
  common(
    program
      .command('plan <fleet-file>')
      .description(
        'what an apply of a fleet file would change: per rule the shadows, key paths and bytes, and the time at the quota',
      ),
  ).action(
    run<FleetFlags>(async (flags, ctx, [file]) => {
      const lib = await import('../../index.js');
      const plan = await lib.runFleetPlan(jobOptions(file!, flags, ctx));
      ctx.out(
        flags.json
          ? JSON.stringify({ ...plan, groups: plan.groups.map((g) => ({ ...g, things: g.things.length })) })
          : formatPlan(plan),
      );
      return ctx.signal.aborted ? EXIT.INTERRUPTED : EXIT.OK;
    }),
  );

  common(
    program
      .command('apply <fleet-file>')
      .description(
        'apply a fleet file through rollouts (ramp, abort, journal, convergence); applying twice writes nothing',
      ),
  )
    .option('--dry-run', 'plan and read only')
    .option(
      '--ramp <base:factor:every>',
      'start at base requests/s, multiply by factor after every N successful things',
    )
    .option(
      '--abort <type:percent:min>',
      'stop when failures of type pass percent after min things (repeatable)',
      collect,
    )
    .option('--yes', 'confirm a group over more things than the blast-radius cap')
    .option('--allow-deletes', 'allow rules that delete keys (null) on many things')
    .option('--journal <prefix>', 'journal of each group rollout: <prefix>.<group>, for --resume')
    .option('--resume', 'skip the things the journals already finished')
    .option('--wait-converged <duration>', 'after each group, check until devices report the new values (e.g. 90s)')
    .option('--report-page <file.html>', 'a report page per group rollout: <name>-<group>.html')
    .action(
      run<ApplyFlags>(async (flags, ctx, [file]) => {
        const lib = await import('../../index.js');
        const o: FleetApplyOptions = jobOptions(file!, flags, ctx);
        if (flags.dryRun === true) o.dryRun = true;
        if (flags.ramp !== undefined) o.ramp = rampFlag(flags.ramp, lib.InvalidArgumentError);
        if (flags.abort !== undefined) o.abort = abortFlags(flags.abort, lib.InvalidArgumentError);
        if (flags.yes === true) o.yes = true;
        if (flags.allowDeletes === true) o.allowDeletes = true;
        if (flags.journal !== undefined) o.journal = flags.journal;
        if (flags.resume === true) o.resume = true;
        const wait = durationFlag('--wait-converged', flags.waitConverged, '90s or 5m', true);
        if (wait !== undefined) o.waitConvergedMs = wait;
        if (flags.reportPage !== undefined) await lib.checkReportPageDestination(flags.reportPage, '--report-page');
        const res = await lib.runFleetApply(o);
        if (flags.reportPage !== undefined) {
          for (const r of res.rollouts) {
            const page = await lib.writeRolloutReportPage(
              flags.reportPage.replace(/(\.html?)?$/i, `-${r.group}$1`),
              r.result,
            );
            if (!flags.json) ctx.err(`report page: ${page}`);
          }
        }
        ctx.out(
          flags.json
            ? JSON.stringify({ ...res, plan: { ...res.plan, groups: res.plan.groups.length } })
            : formatApply(res),
        );
        if (ctx.signal.aborted || res.rollouts.some((r) => r.result.interrupted)) return EXIT.INTERRUPTED;
        return res.ok ? EXIT.OK : EXIT.FAILED;
      }),
    );

  common(
    program
      .command('drift <fleet-file>')
      .description(
        'which shadows left the declared state (desired differs) or never followed it (reported behind desired too long); exit 1 when any drifted',
      ),
  )
    .option('--max-lag <duration>', 'how long reported may lag behind desired (default 10m)')
    .option('--ndjson', 'one JSON line per governed shadow on stdout')
    .option('--report-page <file.html>', 'also write a report page')
    .action(
      run<DriftFlags>(async (flags, ctx, [file]) => {
        const lib = await import('../../index.js');
        const o = {
          ...jobOptions(file!, flags, ctx),
          ...(flags.ndjson ? { onShadow: (e: unknown) => ctx.out(JSON.stringify(e)) } : {}),
        };
        const lag = durationFlag('--max-lag', flags.maxLag, '90s or 10m');
        if (lag !== undefined) Object.assign(o, { maxLagMs: lag });
        if (flags.reportPage !== undefined) await lib.checkReportPageDestination(flags.reportPage, '--report-page');
        const res = await lib.runFleetDrift(o);
        if (flags.reportPage !== undefined)
          ctx.err(`report page: ${await lib.writeReportPage(flags.reportPage, lib.driftReportModel(res))}`);
        if (flags.json) ctx.out(JSON.stringify(res));
        else if (!flags.ndjson) ctx.out(formatDrift(res));
        if (ctx.signal.aborted) return EXIT.INTERRUPTED;
        return res.driftedCount > 0 ? EXIT.FAILED : EXIT.OK;
      }),
    );
}

export function formatPlan(p: FleetPlanResult): string {
  const rows = p.rules.map((r) => ({
    rule: r.name,
    shadow: r.shadow ?? 'classic',
    applies: r.applies,
    changes: r.changes,
    paths: Object.entries(r.paths)
      .map(([k, n]) => `${k} (${n})`)
      .join(', '),
    bytes: r.bytes,
  }));
  const time =
    p.ratePerSecond === 'off' ? 'no rate limit' : `${p.estimatedSeconds.toFixed(1)} s at ${p.ratePerSecond} requests/s`;
  return [
    formatTable(rows, ['rule', 'shadow', 'applies', 'changes', 'paths', 'bytes']),
    '',
    formatPairs([
      ['shadows read', String(p.shadows)],
      ['governed', String(p.governed)],
      ['to write', `${p.toWrite} shadows (${p.inLine} in line), ${p.bytes} bytes, ${p.groups.length} rollout groups`],
      ['time at the quota', time],
    ]),
  ].join('\n');
}

export function formatApply(r: FleetApplyResult): string {
  const lines = [formatPlan(r.plan), ''];
  for (const g of r.rollouts) {
    const s = g.result.summary;
    lines.push(
      `group ${g.group} (${g.shadow ?? 'classic'}: ${g.rules.join(' + ')}): ${g.things} things, ${(s.byOutcome.written ?? 0) + (s.byOutcome.rebased ?? 0)} written, ${s.failed} failed${g.result.aborted ? `, aborted: ${g.result.aborted.reason}` : ''}`,
    );
  }
  lines.push(
    formatPairs([
      ['written', `${r.written} shadows${r.dryRun ? ' (dry run)' : ''}`],
      ['failed', String(r.failed)],
      ...(r.stopped ? ([['stopped', r.stopped]] as Array<[string, string]>) : []),
    ]),
  );
  return lines.join('\n');
}

export function formatDrift(r: FleetDriftResult): string {
  const rows = r.drifted.map((e) => ({
    thing: e.thing,
    shadow: e.shadow ?? 'classic',
    state: e.state,
    paths: e.paths.join(', '),
    'lag (s)': e.lagSeconds ?? null,
  }));
  const out = rows.length > 0 ? [formatTable(rows, ['thing', 'shadow', 'state', 'paths', 'lag (s)']), ''] : [];
  out.push(
    formatPairs([
      ['governed', String(r.governed)],
      [
        'drifted',
        `${r.driftedCount} (desired differs ${r.counts['desired-differs']}, not followed ${r.counts['not-followed']})`,
      ],
      ['pending', String(r.counts.pending)],
      ['in line', String(r.counts['in-line'])],
    ]),
  );
  return out.join('\n');
}
