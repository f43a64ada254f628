import type { Command } from 'commander';
import { placementFrom } from '../distributed-flags.js';
import { EXIT, type CommandContext, type Runner } from '../context.js';
import { checkedFlags, endpointFlag, positiveIntFlag, rateFlag, requiredEndpoint, wholeNumberFlag } from '../flags.js';
import { createProgress } from '../progress.js';
import { checkAccountsFlags } from '../accounts-flags.js';
import { runSnapshotAccountsCommand } from '../snapshot-accounts.js';
import { formatSnapshotResult } from '../snapshot-output.js';
import {
  addSelectionFlags,
  controlEndpointFromFlags,
  selectionFromFlags,
  type SelectionFlags,
} from '../selection-flags.js';
import type {
  DiffOptions,
  DiffResult,
  RestoreOptions,
  RestoreResult,
  ShadowChange,
  SnapshotOptions,
} from '../../index.js';

interface CommonFlags {
  endpoint?: string;
  region?: string;
  s3Endpoint?: string;
  s3Region?: string;
  rate?: string;
  workers?: string;
  json?: boolean;
}

interface SnapshotFlags extends CommonFlags, SelectionFlags {
  things?: string;
  allThings?: boolean;
  controlEndpoint?: string;
  out?: string;
  shadows?: string;
  sse?: string;
  sseKmsKeyId?: string;
  storageClass?: string;
  partSizeMb?: string;
  overwrite?: boolean;
  gzipLevel?: string;
  maxFailures?: string;
  accounts?: string;
}

interface RestoreFlags extends CommonFlags, SelectionFlags {
  from?: string;
  reported?: boolean;
  shadows?: string;
  dryRun?: boolean;
  yes?: boolean;
  maxThings?: string;
}

interface DiffFlags extends CommonFlags, SelectionFlags {
  live?: boolean;
  allThings?: boolean;
  controlEndpoint?: string;
  maxChanges?: string;
  exitCode?: boolean;
}

type Lib = typeof import('../../index.js');

/**
 * The public API, loaded lazily so other commands start fast. Measured against loading only the
 * job modules (snapshot, restore, diff, errors), median of 15 runs of `node dist/src/cli/bin.js`
 * on 2 cores: a snapshot that stops at a usage error 357 -> 437 ms, a diff that stops at a
 * missing manifest 353 -> 438 ms (about +80 ms, under the 150 ms budget), so it loads the root.
 */
async function loadLibrary(): Promise<Lib> {
  return import('../../index.js');
}

function ratesOf(flags: CommonFlags): SnapshotOptions['rates'] {
  const n = rateFlag('--rate', flags.rate);
  if (n === undefined || n === 'off') return n;
  return { accountRps: n, operations: { ListNamedShadowsForThing: n } };
}

function s3Of(flags: CommonFlags): { endpoint?: string; region?: string } {
  const s3: { endpoint?: string; region?: string } = {};
  if (flags.s3Endpoint !== undefined) s3.endpoint = endpointFlag('--s3-endpoint', flags.s3Endpoint)!;
  if (flags.s3Region !== undefined) s3.region = flags.s3Region;
  return s3;
}

/** Progress on stderr: NDJSON events with --json, else a plain line every second (terminal) or few seconds (logs). */
async function progressLine<P extends object>(
  flags: CommonFlags,
  ctx: CommandContext,
  line: (p: P) => string,
): Promise<(p: P) => void> {
  const progress = await createProgress<P>(
    ctx,
    { line },
    flags.json === true ? { json: true } : { everyMs: ctx.stderrIsTTY ? 1000 : 5000 },
  );
  return progress.update;
}

const MB = 1024 * 1024;

export function defineSnapshot(program: Command, run: Runner): void {
  const snapshot = program
    .command('snapshot')
    .description(
      'read every chosen shadow of the fleet and store it as gzip JSON lines plus a manifest, in a directory or S3',
    )
    .option('--endpoint <url>', 'data plane endpoint (or SHADOWFLEET_ENDPOINT)')
    .option('--region <region>', 'signing region (or AWS_REGION)')
    .option(
      '--things <file|->',
      'targets: one thing name a line, CSV with a thingName column, or JSON lines; - for stdin',
    );
  addSelectionFlags(snapshot)
    .option('--out <path|s3://bucket/prefix/>', 'destination: a directory, or an S3 prefix')
    .option(
      '--accounts <file>',
      'a plan of accounts (YAML or JSON): a snapshot of each at once, under <out>/<account name>/',
    )
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (path-style addressing)')
    .option('--s3-region <region>', 'region of the bucket (default: AWS_REGION)')
    .option('--shadows <list>', 'which shadows: classic,named (default), classic, named, or name globs like config*')
    .option('--sse <AES256|aws:kms>', 'server-side encryption of the S3 objects')
    .option('--sse-kms-key-id <id>', 'KMS key for --sse aws:kms')
    .option('--storage-class <class>', 'S3 storage class of the data object (e.g. STANDARD_IA)')
    .option('--part-size-mb <n>', 'multipart part size in MiB (>= 5; default 8): memory used by the upload')
    .option('--overwrite', 'replace a snapshot already at --out')
    .option('--gzip-level <n>', 'gzip level 1-9 (default 6)')
    .option(
      '--max-failures <n>',
      'abort, writing no snapshot, once more than n things could not be read (default: never)',
    )
    .option('--rate <n|off>', 'shadow requests per second (account quota); off = no limit')
    .option('--workers <n>', 'worker threads (default 1; each reads ~10,000 shadows/s)')
    .option('--json', 'one JSON result on stdout, JSON progress events (NDJSON) on stderr')
    .action(
      run<SnapshotFlags>(async (flags, ctx) => {
        const lib = await loadLibrary();
        if (flags.out === undefined)
          throw new lib.InvalidArgumentError('--out: required (a directory or s3://bucket/prefix/)');
        if (flags.accounts !== undefined) {
          checkAccountsFlags(flags, lib.InvalidArgumentError);
          return runSnapshotAccountsCommand(
            flags.accounts,
            snapshotJobOptions(flags, flags.out, ctx, lib),
            flags,
            ctx,
            lib,
          );
        }
        const selection = selectionFromFlags(flags);
        if ((flags.things === undefined) === (selection === undefined))
          throw new lib.InvalidArgumentError(
            'give exactly one of --things FILE|-, --thing-group, --query and --all-things (or --accounts FILE)',
          );
        const options: SnapshotOptions = {
          ...snapshotJobOptions(flags, flags.out, ctx, lib),
          endpoint: requiredEndpoint(flags.endpoint),
        };
        if (flags.things !== undefined) options.things = flags.things;
        else if (selection !== undefined && 'allThings' in selection) options.allThings = true;
        else if (selection !== undefined) options.things = selection;
        if (flags.region !== undefined) options.region = flags.region;
        const controlEndpoint = controlEndpointFromFlags(flags);
        if (controlEndpoint !== undefined) options.controlEndpoint = controlEndpoint;
        options.onProgress = await progressLine(
          flags,
          ctx,
          (p) =>
            `snapshot: ${p.things} things, ${p.records} shadows, ${p.recordsPerSecond.toFixed(0)} shadows/s, ${p.failed} failed, ${p.throttles} throttled`,
        );
        const result = await lib.runSnapshot(options);
        for (const w of result.warnings) ctx.err(`shadowfleet: warning: ${w}`);
        ctx.out(flags.json ? JSON.stringify(result) : formatSnapshotResult(result));
        return result.failed > 0 ? EXIT.FAILED : EXIT.OK;
      }),
    );
}

/** A snapshot's options from the flags, without the account's (endpoint, region, targets): the same for one account or a plan's. */
function snapshotJobOptions(flags: SnapshotFlags, out: string, ctx: CommandContext, lib: Lib): SnapshotOptions {
  const options: SnapshotOptions = { out, signal: ctx.signal };
  if (flags.shadows !== undefined) options.shadows = flags.shadows;
  if (flags.overwrite) options.overwrite = true;
  const s3: NonNullable<SnapshotOptions['s3']> = s3Of(flags);
  if (flags.sse !== undefined) s3.sse = flags.sse as 'AES256';
  if (flags.sseKmsKeyId !== undefined) s3.kmsKeyId = flags.sseKmsKeyId;
  if (flags.storageClass !== undefined) s3.storageClass = flags.storageClass;
  const part = positiveIntFlag('--part-size-mb', flags.partSizeMb);
  if (part !== undefined) s3.partSizeBytes = part * MB;
  options.s3 = s3;
  // Counts and caps: checked by the snapshot's one schema, naming the flag.
  const checked = checkedFlags(
    [
      ['--max-failures', 'maxFailures', flags.maxFailures],
      ['--workers', 'workers', flags.workers],
    ],
    lib.checkSnapshotOptions,
  );
  if (checked.maxFailures !== undefined) options.maxFailures = checked.maxFailures as number;
  const level = positiveIntFlag('--gzip-level', flags.gzipLevel);
  if (level !== undefined) options.gzipLevel = level;
  const rates = ratesOf(flags);
  if (rates !== undefined) options.rates = rates;
  if (checked.workers !== undefined) options.workers = checked.workers as number;
  options.placement = placementFrom(flags);
  return options;
}

export function defineRestore(program: Command, run: Runner): void {
  const restore = program
    .command('restore')
    .description(
      'write a snapshot back: only the differences, version-guarded; restoring the snapshot taken before a rollout rolls it back',
    )
    .option('--endpoint <url>', 'data plane endpoint (or SHADOWFLEET_ENDPOINT)')
    .option('--region <region>', 'signing region (or AWS_REGION)')
    .option('--from <path|s3://bucket/prefix/>', 'the snapshot to restore');
  // Restricts the restore to the snapshot's things that the group or query holds now.
  addSelectionFlags(restore, { allThings: false })
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (path-style addressing)')
    .option('--s3-region <region>', 'region of the bucket (default: AWS_REGION)')
    .option('--reported', 'restore reported state too (default: desired only)')
    .option('--shadows <list>', 'restore only these shadows: classic, named, or name globs')
    .option('--dry-run', 'read and diff only: report what would be written')
    .option('--yes', 'confirm a restore of more shadows than the blast-radius cap')
    .option('--max-things <n>', 'blast-radius cap: more shadows than this needs --yes (default 1000)')
    .option('--rate <n|off>', 'shadow requests per second (account quota); off = no limit')
    .option('--workers <n>', 'worker threads (default: the core count)')
    .option('--json', 'one JSON result on stdout, JSON progress events (NDJSON) on stderr')
    .action(
      run<RestoreFlags>(async (flags, ctx) => {
        const lib = await loadLibrary();
        if (flags.from === undefined)
          throw new lib.InvalidArgumentError('--from: required (a snapshot directory or s3://bucket/prefix/)');
        const options: RestoreOptions = {
          endpoint: requiredEndpoint(flags.endpoint),
          from: flags.from,
          signal: ctx.signal,
          s3: s3Of(flags),
        };
        if (flags.region !== undefined) options.region = flags.region;
        if (flags.reported) options.reported = true;
        if (flags.shadows !== undefined) options.shadows = flags.shadows;
        const selection = selectionFromFlags(flags);
        if (selection !== undefined) options.things = selection;
        const controlEndpoint = controlEndpointFromFlags(flags);
        if (controlEndpoint !== undefined) options.controlEndpoint = controlEndpoint;
        if (flags.dryRun) options.dryRun = true;
        if (flags.yes) options.yes = true;
        // Counts and caps: checked by the restore's one schema, naming the flag.
        const checked = checkedFlags(
          [
            ['--max-things', 'safety.maxThings', flags.maxThings],
            ['--workers', 'workers', flags.workers],
          ],
          lib.checkRestoreOptions,
        );
        if (checked.safety !== undefined) options.safety = checked.safety as { maxThings: number };
        const rates = ratesOf(flags);
        if (rates !== undefined) options.rates = rates;
        if (checked.workers !== undefined) options.workers = checked.workers as number;
        options.onProgress = await progressLine(
          flags,
          ctx,
          (p) => `restore: ${p.done}/${p.total} shadows, ${p.written} written, ${p.failed} failed`,
        );
        options.placement = placementFrom(flags);
        const result = await lib.runRestore(options);
        ctx.out(flags.json ? JSON.stringify(result) : formatRestoreResult(result));
        if (result.interrupted) return EXIT.INTERRUPTED;
        return result.failed > 0 ? EXIT.FAILED : EXIT.OK;
      }),
    );
}

export function formatRestoreResult(r: RestoreResult): string {
  const lines = [
    `${r.dryRun ? 'dry run of a restore' : 'restored'} from ${r.from}${r.interrupted ? ' (interrupted)' : ''}`,
    `  shadows      ${r.total}`,
    r.dryRun ? `  would write  ${r.wouldWrite}` : `  written      ${r.written}`,
    `  unchanged    ${r.unchanged}`,
    `  failed       ${r.failed}`,
    `  outcomes     ${
      Object.entries(r.byOutcome)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
    `  time         ${(r.durationMs / 1000).toFixed(1)} s, ${r.requests} requests, ${r.throttles} throttled, ${r.bytesSent} bytes ${r.dryRun ? 'would be sent' : 'sent'}`,
  ];
  for (const f of r.failures.slice(0, 10))
    lines.push(`  ${f.outcome}: ${f.thing}${f.shadow === null ? '' : ` "${f.shadow}"`}: ${f.message}`);
  return lines.join('\n');
}

export function defineDiff(program: Command, run: Runner): void {
  const diff = program
    .command('diff')
    .description(
      'compare two snapshots, or a snapshot with the live fleet (--live): added, removed and changed shadows by key path',
    )
    // One variadic argument: the runner turns an absent optional argument into the text "undefined".
    .argument(
      '<snapshots...>',
      'A (the "before" snapshot: a directory or s3://bucket/prefix/) and B (the "after" one; omit with --live)',
    )
    .option('--live', 'compare <a> with the live fleet at --endpoint')
    .option('--endpoint <url>', 'data plane endpoint for --live (or SHADOWFLEET_ENDPOINT)')
    .option('--region <region>', 'signing region (or AWS_REGION)');
  // With --live: which things to read (a group, a query, all) as B: new things show as added, things of <a>
  // outside the selection as removed; default: the things of <a>.
  addSelectionFlags(diff)
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (path-style addressing)')
    .option('--s3-region <region>', 'region of the bucket (default: AWS_REGION)')
    .option('--max-changes <n>', 'changes listed in the output (default 1000; all are counted)')
    .option('--exit-code', 'exit with 1 when there are differences')
    .option('--rate <n|off>', 'with --live: shadow requests per second; off = no limit')
    .option('--workers <n>', 'with --live: worker threads')
    .option('--json', 'one JSON result on stdout')
    .action(
      run<DiffFlags>(async (flags, ctx, args) => {
        const lib = await loadLibrary();
        const [a, b] = args;
        if (a === undefined || args.length > 2)
          throw new lib.InvalidArgumentError('diff: give one or two snapshots (diff A B, or diff A --live)');
        if ((b === undefined) !== (flags.live === true))
          throw new lib.InvalidArgumentError('diff: give a second snapshot or --live, not both');
        const options: DiffOptions = { a, s3: s3Of(flags), signal: ctx.signal };
        if (b !== undefined) options.b = b;
        if (!flags.live && (selectionFromFlags(flags) !== undefined || flags.controlEndpoint !== undefined))
          throw new lib.InvalidArgumentError(
            'diff: --thing-group, --query, --all-things and --control-endpoint only with --live',
          );
        if (flags.live) {
          options.live = true;
          options.endpoint = requiredEndpoint(flags.endpoint);
          if (flags.region !== undefined) options.region = flags.region;
          const selection = selectionFromFlags(flags);
          if (selection !== undefined && 'allThings' in selection) options.allThings = true;
          else if (selection !== undefined) options.things = selection;
          const controlEndpoint = controlEndpointFromFlags(flags);
          if (controlEndpoint !== undefined) options.controlEndpoint = controlEndpoint;
          const rates = ratesOf(flags);
          if (rates !== undefined) options.rates = rates;
          const workers = positiveIntFlag('--workers', flags.workers);
          if (workers !== undefined) options.workers = workers;
        }
        const maxChanges = wholeNumberFlag('--max-changes', flags.maxChanges);
        if (maxChanges !== undefined) options.maxChanges = maxChanges;
        let lastProgress = 0;
        options.onProgress = (p) => {
          const now = Date.now();
          if (now - lastProgress < 5000) return;
          lastProgress = now;
          ctx.err(flags.json ? JSON.stringify({ type: 'progress', ...p }) : `diff ${p.phase}: ${p.records} records`);
        };
        options.placement = placementFrom(flags);
        const result = await lib.runDiff(options);
        ctx.out(flags.json ? JSON.stringify(result) : formatDiffResult(result));
        const s = result.summary;
        // A live read that failed is a failure of the diff, whatever the differences.
        if (result.unreadable.total > 0) return EXIT.FAILED;
        return flags.exitCode && s.added + s.removed + s.changed > 0 ? EXIT.FAILED : EXIT.OK;
      }),
    );
}

function describeChange(c: ShadowChange): string {
  const shadow = c.shadow === null ? '' : ` "${c.shadow}"`;
  const sign = c.change === 'added' ? '+' : c.change === 'removed' ? '-' : '~';
  const versions = c.change === 'changed' ? ` (v${c.versionA} -> v${c.versionB})` : '';
  const head = `${sign} ${c.thing}${shadow}${versions}`;
  if (c.change !== 'changed') return head;
  return [head, ...c.paths.map((p) => `    ${p.op === 'added' ? '+' : p.op === 'removed' ? '-' : '~'} ${p.path}`)].join(
    '\n',
  );
}

export function formatDiffResult(r: DiffResult): string {
  const s = r.summary;
  const lines = r.changes.map(describeChange);
  if (r.truncated > 0) lines.push(`... and ${r.truncated} more changes (--max-changes)`);
  if (r.unreadable.total > 0) {
    const things = new Set(r.unreadable.items.map((f) => f.thing)).size;
    lines.push(
      `could not read ${things} things of the live fleet (${r.unreadable.total} failed reads; not compared, not counted as removed):`,
    );
    for (const f of r.unreadable.items.slice(0, 10))
      lines.push(
        `  ! ${f.thing}${f.shadow === undefined ? '' : f.shadow === null ? ' (classic)' : ` "${f.shadow}"`}: ${f.message}`,
      );
    if (r.unreadable.items.length > 10) lines.push(`  ... and ${r.unreadable.total - 10} more`);
  }
  lines.push(
    `${r.a} -> ${r.b}: ${s.added} added, ${s.removed} removed, ${s.changed} changed, ${s.unchanged} unchanged${s.unreadable > 0 ? `, ${s.unreadable} unreadable` : ''} shadows; ${s.thingsChanged} things changed (${s.shadowsA} -> ${s.shadowsB} shadows)`,
  );
  return lines.join('\n');
}
