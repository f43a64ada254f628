/**
 * `runRestore`: writes a snapshot back through the engine (same coordinator, workers and rate
 * gates as a rollout). Per shadow: read, diff against the snapshot (desired, and reported
 * when asked), send only the difference guarded by the version read (409: re-read), skip the
 * unchanged. Restoring the snapshot taken before a rollout is that rollout's rollback.
 *
 * Before any write the snapshot's data is checked against its manifest (size and SHA-256):
 * a snapshot that is not the one its manifest describes is refused. The rollout's blast-radius
 * cap applies: more shadows than `safety.maxThings` need `yes` (a dry run needs nothing).
 */
import { InvalidArgumentError } from '../../errors.js';
import { z } from 'zod';
import { checkOptions, nonNegativeIntField, positiveIntField, type OptionSource } from '../options/option-schema.js';
import { stringifyJson } from '../../shadow/json-text.js';
import type { OutcomeCounts } from '../../engine/item-outcome.js';
import { jobClientConfig, runJob, type JobDefinition, type JobRunOptions } from '../../engine/job-run.js';
import type { JobPlacement } from '../../engine/job-placement.js';
import type { ItemResult, TargetItem } from '../../engine/task-types.js';
import { openTargets } from '../../engine/open-targets.js';
import { checkTargetSelection, type ControlPlaneAccess, type TargetSelection } from '../../engine/target-selection.js';
import type { RateGateOptions } from '../../engine/rate-gate.js';
import { SnapshotReader, type SnapshotReaderOptions } from '../../sinks/snapshot-reader.js';
import type { S3ClientOptions } from '../../sinks/s3-client.js';
import type { SnapshotCredentials } from '../snapshot/snapshot.js';
import type { RestoreItemData, RestoreTaskConfig } from '../../../workers/handlers/restore.js';
import { parseShadowFilter, shadowNameMatcher, type ShadowFilter } from '../../shadow/shadow-filter.js';

export type { RestoreTaskConfig } from '../../../workers/handlers/restore.js';

export interface RestoreOptions {
  /** Data plane endpoint. Else SHADOWFLEET_ENDPOINT. */
  endpoint?: string;
  region?: string;
  credentials?: SnapshotCredentials;
  /** The snapshot: a directory or s3://bucket/prefix/. */
  from: string;
  /** S3 access for an s3:// snapshot. */
  s3?: S3ClientOptions & { client?: SnapshotReaderOptions['s3Client'] };
  /** Restore `reported` as well as `desired`. Default false (devices own reported). */
  reported?: boolean;
  /** Only these shadows of the snapshot (same syntax as snapshot --shadows). Default: all. */
  shadows?: string | ShadowFilter;
  /**
   * Only the snapshot's things that this selection holds now (a thing group, a fleet indexing
   * query). Its names are listed before the first write and kept as a set (the snapshot is in
   * its own order); the snapshot itself is still streamed.
   */
  things?: TargetSelection;
  /** Control-plane endpoint of `things`; default the data endpoint (emulator) or the region's (AWS). */
  controlEndpoint?: string;
  /** Read and diff only; nothing is written. */
  dryRun?: boolean;
  /** Confirms a restore of more than `safety.maxThings` shadows. */
  yes?: boolean;
  safety?: { maxThings?: number };
  workers?: number;
  batchSize?: number;
  rates?: RateGateOptions | 'off';
  /** Shadows processed at once per worker batch. Default 64. */
  concurrency?: number;
  /** Read-diff-write attempts per shadow on 409. Default 5. */
  maxAttempts?: number;
  /** HTTP attempts per request (429/5xx/network) in the client. Default 6. */
  requestAttempts?: number;
  /** Failures kept in the result (all are counted). Default 100. */
  maxFailuresListed?: number;
  signal?: AbortSignal;
  /** Where the job's batches run (e.g. queuePlacement of shadowfleet/queue). Default: this process's thread pool. */
  placement?: JobPlacement;
  onProgress?: (p: RestoreProgress) => void;
  progressIntervalMs?: number;
}

export interface RestoreProgress {
  done: number;
  total: number;
  written: number;
  failed: number;
  elapsedMs: number;
  final?: boolean;
}

export interface RestoreFailure {
  thing: string;
  shadow: string | null;
  outcome: ItemResult['outcome'];
  code: string;
  message: string;
}

export interface RestoreResult {
  from: string;
  dryRun: boolean;
  /** Shadows considered (records of the snapshot passing the filter). */
  total: number;
  byOutcome: OutcomeCounts;
  /** written + rebased. */
  written: number;
  unchanged: number;
  wouldWrite: number;
  /** failed + conflict. */
  failed: number;
  failures: RestoreFailure[];
  requests: number;
  throttles: number;
  bytesSent: number;
  durationMs: number;
  /** True when a signal stopped the run early (in-flight shadows finished). */
  interrupted: boolean;
}

export const DEFAULT_RESTORE_OPTIONS = Object.freeze({
  maxThings: 1000,
  requestAttempts: 6,
  maxFailuresListed: 100,
  progressIntervalMs: 500,
});

/** The restore's counts and caps, one definition each (the one positive check, the one message template). */
const restoreOptionsSchema = z.object({
  workers: positiveIntField().optional(),
  batchSize: positiveIntField().optional(),
  concurrency: positiveIntField().optional(),
  maxAttempts: positiveIntField().optional(),
  requestAttempts: positiveIntField().optional(),
  safety: z.object({ maxThings: nonNegativeIntField().optional() }, { error: 'expected { maxThings }' }).optional(),
});

/** Checks restore options' counts and caps; `source` names where a field came from (a flag), nothing for a library call. */
export function checkRestoreOptions(options: unknown, source?: OptionSource): void {
  checkOptions(restoreOptionsSchema, options, source);
}

/** Restores a snapshot. */
export async function runRestore(options: RestoreOptions): Promise<RestoreResult> {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('restore: expected an options object');
  if (typeof options.from !== 'string' || options.from === '')
    throw new InvalidArgumentError('from: required (a snapshot directory or s3://bucket/prefix/)');
  const endpoint = options.endpoint ?? process.env.SHADOWFLEET_ENDPOINT;
  if (endpoint === undefined || endpoint === '') {
    throw new InvalidArgumentError(
      'endpoint: required (the data plane endpoint URL, or SHADOWFLEET_ENDPOINT); shadowfleet does not guess an AWS account',
    );
  }
  const filter =
    options.shadows === undefined
      ? undefined
      : typeof options.shadows === 'object'
        ? options.shadows
        : parseShadowFilter(options.shadows);
  checkRestoreOptions(options);
  const maxThings = options.safety?.maxThings ?? DEFAULT_RESTORE_OPTIONS.maxThings;
  const dryRun = options.dryRun === true;

  const readerOptions: SnapshotReaderOptions = { ...(options.s3 ?? {}) };
  if (options.s3?.client) readerOptions.s3Client = options.s3.client;
  const reader = await SnapshotReader.open(options.from, readerOptions);
  try {
    // Refuse a snapshot whose data is not the one the manifest describes, before any write.
    await reader.verify();
    const total = reader.manifest.records;
    if (!dryRun && options.yes !== true && total > maxThings) {
      throw new InvalidArgumentError(
        `restore would write up to ${total} shadows, more than ${maxThings} (the blast-radius cap, safety.maxThings): confirm with --yes (yes: true), or try --dry-run first`,
      );
    }
    const selected = options.things === undefined ? undefined : await selectedNames(options, endpoint);
    const config: RestoreTaskConfig = { reported: options.reported === true, dryRun };
    if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
    if (options.concurrency !== undefined) config.concurrency = options.concurrency;
    return await runJob(
      restoreRunOptions(options, endpoint, total),
      restoreJob(options, config, reader, filter, selected),
    );
  } finally {
    reader.close();
  }
}

/** The names of the things `options.things` selects (listed page by page before the first write). */
async function selectedNames(options: RestoreOptions, endpoint: string): Promise<Set<string>> {
  const control: ControlPlaneAccess = { endpoint };
  if (options.controlEndpoint !== undefined) control.controlEndpoint = options.controlEndpoint;
  if (options.region !== undefined) control.region = options.region;
  if (options.credentials !== undefined) control.credentials = options.credentials;
  if (options.signal !== undefined) control.signal = options.signal;
  const names = new Set<string>();
  for await (const item of await openTargets(checkTargetSelection(options.things, 'things'), undefined, control))
    names.add(item.thingName);
  return names;
}

/** The engine side of a restore: client, gates, pool sizes, signal and progress. */
function restoreRunOptions(options: RestoreOptions, endpoint: string, total: number): JobRunOptions {
  const client = jobClientConfig({
    endpoint,
    region: options.region,
    credentials: options.credentials,
    requestAttempts: options.requestAttempts ?? DEFAULT_RESTORE_OPTIONS.requestAttempts,
  });
  const ro: JobRunOptions = { client };
  if (options.workers !== undefined) ro.workers = options.workers;
  if (options.batchSize !== undefined) ro.batchSize = options.batchSize;
  if (options.rates !== undefined) ro.rates = options.rates;
  if (options.signal !== undefined) ro.signal = options.signal;
  if (options.placement !== undefined) ro.placement = options.placement;
  const onProgress = options.onProgress;
  if (onProgress !== undefined) {
    ro.progressIntervalMs = options.progressIntervalMs ?? DEFAULT_RESTORE_OPTIONS.progressIntervalMs;
    ro.onProgress = (run, final) => {
      const t = run.tally;
      const p: RestoreProgress = {
        done: t.done,
        total,
        written: t.count('written', 'rebased'),
        failed: t.count('failed', 'conflict'),
        elapsedMs: Date.now() - run.startedAt,
      };
      if (final) p.final = true;
      onProgress(p);
    };
  }
  return ro;
}

/** What a restore reads (the snapshot's records through the filter), computes (the `restore` task), writes (nothing: the workers wrote) and reports. */
function restoreJob(
  options: RestoreOptions,
  config: RestoreTaskConfig,
  reader: SnapshotReader,
  filter: ShadowFilter | undefined,
  selected: ReadonlySet<string> | undefined,
): JobDefinition<RestoreTaskConfig, RestoreResult> {
  const failures: RestoreFailure[] = [];
  const maxListed = options.maxFailuresListed ?? DEFAULT_RESTORE_OPTIONS.maxFailuresListed;
  const matches = filter ? shadowNameMatcher(filter) : undefined;
  return {
    kind: 'restore',
    config,
    async *targets() {
      for await (const r of reader.records()) {
        if (selected !== undefined && !selected.has(r.thing)) continue;
        if (filter) {
          if (r.shadow === null ? !filter.classic : !matches!(r.shadow)) continue;
        }
        const data: RestoreItemData = { state: stringifyJson(r.state) }; // text: exact numbers cross threads intact
        const item: TargetItem = { thingName: r.thing, data };
        if (r.shadow !== null) item.shadowName = r.shadow;
        yield item;
      }
    },
    onResult(r) {
      if (r.error !== undefined && failures.length < maxListed) {
        failures.push({
          thing: r.thingName,
          shadow: r.shadowName ?? null,
          outcome: r.outcome,
          code: r.error.awsErrorType ?? r.error.code,
          message: r.error.message,
        });
      }
    },
    report(run, stats) {
      run.progress(true);
      const t = run.tally;
      return {
        from: options.from,
        dryRun: config.dryRun,
        total: t.done,
        byOutcome: { ...t.byOutcome },
        written: t.count('written', 'rebased'),
        unchanged: t.count('unchanged'),
        wouldWrite: t.count('would-write'),
        failed: t.count('failed', 'conflict'),
        failures,
        requests: t.requests,
        throttles: t.throttles,
        bytesSent: t.bytesSent,
        durationMs: Date.now() - run.startedAt,
        interrupted: stats.aborted || options.signal?.aborted === true,
      };
    },
  };
}
