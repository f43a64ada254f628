import type { Command } from 'commander';
import { placementFrom } from '../distributed-flags.js';
import { EXIT, type CommandContext, type Runner } from '../context.js';
import { durationFlag, positiveIntFlag, rateFlag } from '../flags.js';
import { formatPairs } from '../output.js';
import {
  addSelectionFlags,
  controlEndpointFromFlags,
  selectionFromFlags,
  type SelectionFlags,
} from '../selection-flags.js';
import type { FleetSelection, SyncOptions, SyncPassResult, SyncSideOptions } from '../../index.js';

interface SyncFlags extends SelectionFlags {
  from?: string;
  to?: string;
  fromRegion?: string;
  toRegion?: string;
  fromProfile?: string;
  toProfile?: string;
  fromRate?: string;
  toRate?: string;
  sections?: string;
  shadows?: string;
  things?: string;
  delete?: boolean;
  dryRun?: boolean;
  watch?: string;
  passes?: string;
  journal?: string;
  resume?: boolean;
  workers?: string;
  json?: boolean;
}

export function defineSync(program: Command, run: Runner): void {
  const sync = program
    .command('sync')
    .description(
      'mirror shadows from a data plane or a snapshot to another data plane: only differences, version-guarded, once or --watch',
    )
    .requiredOption(
      '--from <url|snapshot>',
      'source: a data plane endpoint URL, or a snapshot (directory or s3://bucket/prefix/)',
    )
    .requiredOption('--to <url>', 'destination data plane endpoint URL')
    .option('--from-region <region>', 'source signing region (or AWS_REGION)')
    .option('--to-region <region>', 'destination signing region (or AWS_REGION)')
    .option('--from-profile <name>', 'source credentials: a profile of the shared AWS files')
    .option('--to-profile <name>', 'destination credentials: a profile of the shared AWS files')
    .option('--from-rate <n|off>', 'source requests per second per operation (default 4000)')
    .option('--to-rate <n|off>', 'destination requests per second per operation (default 4000)')
    .option('--sections <which>', 'sections to copy: desired, reported or both', 'both')
    .option('--shadows <list>', 'which shadows: classic,named (default), classic, named, or name globs like config*')
    .option('--things <file|->', 'only these things of a live source (names, CSV or JSON lines)');
  // Only the things of a thing group or a fleet indexing query of a live source (the same flags as every bulk command).
  addSelectionFlags(sync, { allThings: false })
    .option('--delete', 'delete on the destination what the source no longer has')
    .option('--dry-run', 'read and diff only: report what would be written')
    .option(
      '--watch <interval>',
      'keep the destination current: a pass every interval (e.g. 30s), writing only what moved',
    )
    .option('--passes <n>', 'with --watch: stop after n passes')
    .option('--journal <file>', 'journal of the things brought over and their source versions, for --resume')
    .option('--resume', 'skip what the journal says was brought over and has not moved since')
    .option('--workers <n>', 'worker threads per side (default 1)')
    .option('--json', 'one JSON report per pass on stdout (JSON lines)')
    .action(
      run<SyncFlags>(async (flags, ctx) => {
        const lib = await import('../../index.js');
        const options = syncOptionsFromFlags(flags, ctx, lib.InvalidArgumentError);
        const watchMs = durationFlag('--watch', flags.watch, '30s or 5m', true);
        const passes = positiveIntFlag('--passes', flags.passes);
        if (passes !== undefined && watchMs === undefined)
          throw new lib.InvalidArgumentError('--passes: only with --watch');
        const session = await lib.SyncSession.open(options);
        let last: SyncPassResult | undefined;
        try {
          for (let n = 1; ; n++) {
            last = await session.pass();
            ctx.out(flags.json ? JSON.stringify(last) : formatSyncPass(last));
            if (
              watchMs === undefined ||
              last.interrupted ||
              ctx.signal.aborted ||
              (passes !== undefined && n >= passes)
            )
              break;
            if (!(await sleep(watchMs, ctx.signal))) break;
          }
        } finally {
          await session.close();
        }
        if (ctx.signal.aborted || last?.interrupted) return EXIT.INTERRUPTED;
        return last !== undefined && last.failed > 0 ? EXIT.FAILED : EXIT.OK;
      }),
    );
}

/** Waits `ms`, or until the signal aborts (then false). */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => resolve(true), ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve(false);
      },
      { once: true },
    );
  });
}

function side(
  endpoint: string,
  region: string | undefined,
  profile: string | undefined,
  rate: number | 'off' | undefined,
  workers: number | undefined,
): SyncSideOptions {
  const s: SyncSideOptions = { endpoint };
  if (region !== undefined) s.region = region;
  if (profile !== undefined) s.profile = profile;
  if (rate !== undefined) s.rate = rate;
  if (workers !== undefined) s.workers = workers;
  return s;
}

function syncOptionsFromFlags(
  flags: SyncFlags,
  ctx: CommandContext,
  InvalidArgument: new (m: string) => Error,
): SyncOptions {
  const from = flags.from!;
  const workers = positiveIntFlag('--workers', flags.workers);
  const isUrl = /^https?:\/\//i.test(from);
  const fromSide: SyncOptions['from'] = isUrl
    ? side(from, flags.fromRegion, flags.fromProfile, rateFlag('--from-rate', flags.fromRate), workers)
    : { snapshot: from };
  const o: SyncOptions = {
    from: fromSide,
    to: side(flags.to!, flags.toRegion, flags.toProfile, rateFlag('--to-rate', flags.toRate), workers),
    signal: ctx.signal,
  };
  const placement = placementFrom(flags);
  if (placement !== undefined) o.placement = placement;
  if (flags.sections !== undefined) {
    if (!['desired', 'reported', 'both'].includes(flags.sections))
      throw new InvalidArgument(`--sections: expected desired, reported or both, got "${flags.sections}"`);
    o.sections = flags.sections as SyncOptions['sections'];
  }
  if (flags.shadows !== undefined) o.shadows = flags.shadows;
  const selection = selectionFromFlags(flags);
  if (flags.things !== undefined && selection !== undefined)
    throw new InvalidArgument('give at most one of --things, --thing-group and --query');
  let select: FleetSelection | undefined;
  if (flags.things !== undefined) select = { kind: 'things', file: flags.things };
  else if (selection !== undefined && 'thingGroup' in selection)
    select = { kind: 'group', group: selection.thingGroup, recursive: selection.recursive === true };
  else if (selection !== undefined && 'query' in selection) select = { kind: 'query', query: selection.query };
  const controlEndpoint = controlEndpointFromFlags(flags);
  if (controlEndpoint !== undefined) {
    if (!isUrl) throw new InvalidArgument('--control-endpoint: only with a live source (--from URL)');
    (fromSide as SyncSideOptions).controlEndpoint = controlEndpoint;
  }
  if (select !== undefined) o.select = select;
  if (flags.delete === true) o.delete = true;
  if (flags.dryRun === true) o.dryRun = true;
  if (flags.journal !== undefined) o.journal = flags.journal;
  if (flags.resume === true) o.resume = true;
  return o;
}

/** The human report of one pass. */
export function formatSyncPass(r: SyncPassResult): string {
  const rows: Array<[string, string]> = [
    ['pass', `${r.pass}${r.dryRun ? ' (dry run)' : ''}${r.interrupted ? ' (interrupted)' : ''}`],
    ['source things', String(r.sourceThings)],
    ['sent', `${r.sent} (${r.skipped} not moved since the last pass)`],
    [r.dryRun ? 'would write' : 'written', r.dryRun ? `${r.wouldWrite} things` : `${r.written} shadows`],
    ['deleted', `${r.deleted} shadows`],
    ['unchanged', `${r.unchanged} things`],
    ['failed', String(r.failed)],
    ['bytes sent', `${r.bytesSent} (a whole-document copy: ${r.wholeBytes})`],
    ['requests', `${r.requests} (${r.throttles} throttled)`],
    ['time', `${(r.durationMs / 1000).toFixed(1)} s`],
  ];
  const lines = [formatPairs(rows)];
  for (const f of r.failures.slice(0, 10)) lines.push(`  ${f.side} ${f.thing}: ${f.code}: ${f.message}`);
  return lines.join('\n');
}
