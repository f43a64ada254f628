/**
 * `runSnapshot`: reads every chosen shadow of the targeted things through the engine (the same
 * coordinator, worker threads and rate gates as a rollout) and streams them as gzip JSON lines
 * to a local directory or S3, the manifest last. See snapshot-format.ts for the format.
 *
 * Order of work: the destination is checked first (an unwritable destination fails before a
 * single read); then targets stream from a file/stdin, or from ListThings of the IoT control
 * plane with `allThings`; results are written as they arrive, with backpressure from the
 * destination back to the target source, so memory stays flat whatever the fleet size.
 * An interrupted or failed snapshot is aborted: nothing is left that looks like a snapshot.
 */
import { AbortError, ConfigError, InvalidArgumentError, SnapshotError } from '../../errors.js';
import type { RunStats } from '../../engine/coordinator.js';
import { jobClientConfig, runJob, type JobDefinition, type JobRun, type JobRunOptions } from '../../engine/job-run.js';
import type { JobPlacement } from '../../engine/job-placement.js';
import type { ItemResult, TargetItem } from '../../engine/task-types.js';
import type { RateGateOptions } from '../../engine/rate-gate.js';
import { createSnapshotSink } from '../../sinks/create-snapshot-sink.js';
import { SnapshotWriter } from '../../sinks/snapshot-writer.js';
import type { S3SinkOptions } from '../../sinks/s3-sink.js';
import type { SnapshotSink } from '../../sinks/snapshot-sink.js';
import { VERSION } from '../../version.js';
import { parseDataEndpoint } from '../../client/resolve-data-endpoint.js';
import {
  credentialSourceProvider,
  hasCredentialSource,
  type CredentialSourceOptions,
  type CredentialsProvider,
} from '../../client/credential-source.js';
import { z } from 'zod';
import {
  checkOptions,
  nonNegativeIntField,
  positiveField,
  positiveIntField,
  type OptionSource,
} from '../options/option-schema.js';
import { openTargets, type RolloutTargets } from '../../engine/open-targets.js';
import type { ControlPlaneAccess } from '../../engine/target-selection.js';
import {
  MANIFEST_FAILURE_LIMIT,
  SNAPSHOT_DATA_FILE,
  SNAPSHOT_FORMAT,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotFailure,
  type SnapshotManifest,
} from '../../sinks/snapshot-format.js';
import type { SnapshotReadConfig, SnapshotReadDetail } from '../../../workers/handlers/snapshot-read.js';
import { formatShadowFilter, parseShadowFilter, type ShadowFilter } from '../../shadow/shadow-filter.js';

export * from '../../sinks/snapshot-format.js';
export {
  toSnapshotRecord,
  type SnapshotReadConfig,
  type SnapshotReadDetail,
} from '../../../workers/handlers/snapshot-read.js';
export { diffShadowPaths, type PathChange } from '../diff/snapshot-diff-paths.js';

export type SnapshotCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** S3 settings of a snapshot destination (or source). */
export type SnapshotS3Options = Omit<S3SinkOptions, 'bucket' | 'prefix' | 'location' | 'overwrite'>;

/**
 * `profile`, `roleArn` (with `externalId`, `sessionName`): the account's credentials, resolved
 * by each worker (thread or queue process) itself; no keys travel with the batches. The
 * control-plane calls of a selection or of `allThings` use the same source.
 */
export interface SnapshotOptions extends CredentialSourceOptions {
  /** Data plane endpoint (an AWS ATS endpoint or the emulator's URL). Else SHADOWFLEET_ENDPOINT. */
  endpoint?: string;
  /** Else AWS_REGION, else us-east-1. */
  region?: string;
  credentials?: SnapshotCredentials;
  /** `PATH` (a directory) or `s3://bucket/prefix/`. */
  out: string;
  /**
   * Targets: a file (names, CSV or JSON lines), '-' for stdin, a Readable, an iterable of
   * names/items, or a selection (`{ thingGroup, recursive? }`, `{ query, index? }`), listed page
   * by page from the control plane (`controlEndpoint`).
   */
  things?: RolloutTargets;
  /** List every thing of the account through ListThings instead. */
  allThings?: boolean;
  /**
   * ListThings endpoint. Default: the IoT control plane of the region for an AWS data endpoint
   * (`*.iot.<region>.amazonaws.com`), else the data endpoint itself (the emulator serves
   * `GET /things` on its port).
   */
  controlEndpoint?: string;
  /** ListThings requests per second. Default 10. */
  listThingsRps?: number;
  /** Which shadows: `classic,named` (default), `classic`, `named`, name globs, or a ShadowFilter. */
  shadows?: string | ShadowFilter;
  /** S3 settings (endpoint override, SSE, storage class, part size...). */
  s3?: SnapshotS3Options;
  /** Local destinations: minimum free bytes checked before reading. */
  minFreeBytes?: number;
  /** Replace a snapshot already at `out`. Default false. */
  overwrite?: boolean;
  /** gzip level 1-9. Default 6. */
  gzipLevel?: number;
  /**
   * Worker threads. Default 1: a snapshot thread reads ~9,800 shadows/s from the emulator on a
   * 2-core machine (2.4x the default account quota of 4,000/s), and each more thread costs
   * ~50 MB of RSS without reading faster there. Raise it for high-latency endpoints.
   */
  workers?: number;
  /** Things per worker batch. Default 100. */
  batchSize?: number;
  /** Rate gates, as for a rollout; 'off' for an emulator without quotas. */
  rates?: RateGateOptions | 'off';
  /** Things read at once per worker batch. Default 64. */
  concurrency?: number;
  /** HTTP attempts per request (429/5xx/network) in the client. Default 6. */
  requestAttempts?: number;
  /** Abort (no snapshot written) once more than this many things failed. Default: never. */
  maxFailures?: number;
  signal?: AbortSignal;
  /** Where the job's batches run (e.g. queuePlacement of shadowfleet/queue). Default: this process's thread pool. */
  placement?: JobPlacement;
  onProgress?: (p: SnapshotProgress) => void;
  /** ms between onProgress calls. Default 500. */
  progressIntervalMs?: number;
}

export interface SnapshotProgress {
  /** Things finished. */
  things: number;
  /** Records (shadows) written. */
  records: number;
  failed: number;
  throttles: number;
  thingsPerSecond: number;
  recordsPerSecond: number;
  elapsedMs: number;
  final?: boolean;
}

export interface SnapshotResult {
  /** Where the snapshot is. */
  location: string;
  manifest: SnapshotManifest;
  things: number;
  records: number;
  /** Things (or shadows) that could not be read; listed in the manifest. */
  failed: number;
  durationMs: number;
  recordsPerSecond: number;
  requests: number;
  throttles: number;
  /** Non-fatal problems (e.g. a write-check object that could not be deleted). */
  warnings: string[];
}

export const DEFAULT_SNAPSHOT_OPTIONS = Object.freeze({
  listThingsRps: 10,
  requestAttempts: 6,
  progressIntervalMs: 500,
  concurrency: 64,
  workers: 1,
});

const AWS_DATA_HOST = /\.iot\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** The ListThings endpoint for a data endpoint (see SnapshotOptions.controlEndpoint). */
export function controlEndpointFor(dataEndpoint: string): string | undefined {
  const host = new URL(dataEndpoint).hostname;
  return AWS_DATA_HOST.test(host) ? undefined : dataEndpoint;
}

function resolveEndpoint(endpoint: string | undefined, option = 'endpoint'): string {
  const e = endpoint ?? process.env.SHADOWFLEET_ENDPOINT;
  if (e === undefined || e === '')
    throw new ConfigError(
      `${option}: required (the data plane endpoint URL, or SHADOWFLEET_ENDPOINT); shadowfleet does not guess an AWS account`,
    );
  try {
    new URL(e);
  } catch {
    throw new InvalidArgumentError(`${option}: "${e}" is not a URL`);
  }
  // Credentials in the URL are refused: the endpoint goes into the manifest and the output.
  parseDataEndpoint(e, option);
  return e;
}

/**
 * Every thing of the account from ListThings (IoT control plane), paginated, at most `rps`
 * pages per second. Things stream out page by page as the coordinator asks for them.
 */
export async function* listAllThings(options: {
  endpoint?: string;
  region: string;
  credentials?: SnapshotCredentials | CredentialsProvider;
  rps?: number;
  signal?: AbortSignal;
}): AsyncGenerator<TargetItem> {
  // The same control-plane client as the group and query target sources; loaded when a run lists the fleet.
  const { IotControlClient } = await import('../../client/iot-control-client.js');
  const client = new IotControlClient({
    region: options.region,
    retry: { maxAttempts: 6 },
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  });
  const minGapMs = 1000 / (options.rps ?? DEFAULT_SNAPSHOT_OPTIONS.listThingsRps);
  let last = 0;
  let token: string | undefined;
  try {
    do {
      const wait = last + minGapMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (options.signal?.aborted) return;
      last = Date.now();
      let page: Awaited<ReturnType<typeof client.listThings>>;
      try {
        page = await client.listThings(
          { maxResults: 250, ...(token ? { nextToken: token } : {}) },
          options.signal ? { signal: options.signal } : {},
        );
      } catch (err) {
        const e = err as { name?: string; message?: string; awsErrorType?: string; awsMessage?: string };
        const what =
          e.awsErrorType !== undefined
            ? `${e.awsErrorType}: ${e.awsMessage ?? e.message}`
            : `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
        throw new ConfigError(
          `ListThings failed (${what}); check the control endpoint and the iot:ListThings permission`,
          { cause: err },
        );
      }
      for (const t of page.items) if (t.thingName) yield { thingName: t.thingName };
      token = page.nextToken;
    } while (token);
  } finally {
    await client.close();
  }
}

/** The snapshot's rates, counts and caps, one definition each (the one positive check, the one message template). */
const snapshotOptionsSchema = z.object({
  listThingsRps: positiveField().optional(),
  workers: positiveIntField().optional(),
  batchSize: positiveIntField().optional(),
  concurrency: positiveIntField().optional(),
  requestAttempts: positiveIntField().optional(),
  maxFailures: nonNegativeIntField().optional(),
});

/** Checks snapshot options' rates, counts and caps; `source` names where a field came from (a flag), nothing for a library call. */
export function checkSnapshotOptions(options: unknown, source?: OptionSource): void {
  checkOptions(snapshotOptionsSchema, options, source);
}

/** Takes a snapshot. Throws ConfigError when the destination is unwritable (before any read). */
export async function runSnapshot(options: SnapshotOptions): Promise<SnapshotResult> {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('snapshot: expected an options object');
  if (typeof options.out !== 'string' || options.out === '')
    throw new InvalidArgumentError('out: required (a directory or s3://bucket/prefix/)');
  const hasThings = options.things !== undefined && options.things !== null && options.things !== '';
  if (hasThings === (options.allThings === true))
    throw new InvalidArgumentError(
      'snapshot: give exactly one of things (a file, - for stdin, or names) and allThings',
    );
  const endpoint = resolveEndpoint(options.endpoint);
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const filter = typeof options.shadows === 'object' ? options.shadows : parseShadowFilter(options.shadows);
  checkSnapshotOptions(options);

  const sinkOptions: Parameters<typeof createSnapshotSink>[1] = { ...(options.s3 ?? {}) };
  if (options.overwrite !== undefined) sinkOptions.overwrite = options.overwrite;
  if (options.minFreeBytes !== undefined) sinkOptions.minFreeBytes = options.minFreeBytes;
  if (options.s3?.client) sinkOptions.s3Client = options.s3.client;
  const sink: SnapshotSink = createSnapshotSink(options.out, sinkOptions);
  try {
    await sink.check();
  } catch (err) {
    await sink.abort(err).catch(() => undefined);
    throw err;
  }
  const writer = new SnapshotWriter(sink, options.gzipLevel === undefined ? {} : { gzipLevel: options.gzipLevel });

  const ro: JobRunOptions = {
    client: jobClientConfig({
      endpoint,
      region,
      credentials: options.credentials,
      profile: options.profile,
      roleArn: options.roleArn,
      externalId: options.externalId,
      sessionName: options.sessionName,
      requestAttempts: options.requestAttempts ?? DEFAULT_SNAPSHOT_OPTIONS.requestAttempts,
    }),
    workers: options.workers ?? DEFAULT_SNAPSHOT_OPTIONS.workers,
  };
  if (options.batchSize !== undefined) ro.batchSize = options.batchSize;
  if (options.rates !== undefined) ro.rates = options.rates;
  if (options.signal !== undefined) ro.signal = options.signal;
  if (options.placement !== undefined) ro.placement = options.placement;
  const job = new SnapshotJob(options, endpoint, region, filter, writer, sink);
  const onProgress = options.onProgress;
  if (onProgress !== undefined) {
    ro.progressIntervalMs = options.progressIntervalMs ?? DEFAULT_SNAPSHOT_OPTIONS.progressIntervalMs;
    ro.onProgress = (run, final) => onProgress(job.progress(run, final));
  }
  try {
    await writer.open();
    return await runJob(ro, job);
  } catch (err) {
    await writer.abort(err).catch(() => undefined);
    throw err;
  }
}

/** What a snapshot reads (targets or ListThings), computes (the `snapshot-read` task), writes (records to the sink) and reports (the manifest). */
class SnapshotJob implements JobDefinition<SnapshotReadConfig, SnapshotResult> {
  readonly kind = 'snapshot-read' as const;
  readonly config: SnapshotReadConfig;
  readonly #o: SnapshotOptions;
  readonly #endpoint: string;
  readonly #region: string;
  readonly #filter: ShadowFilter;
  readonly #writer: SnapshotWriter;
  readonly #sink: SnapshotSink;
  readonly #failures: SnapshotFailure[] = [];
  readonly #startedAt = new Date();
  #failedTotal = 0;
  #failedThings = 0;
  #records = 0;
  #tooManyFailures = false;

  constructor(
    o: SnapshotOptions,
    endpoint: string,
    region: string,
    filter: ShadowFilter,
    writer: SnapshotWriter,
    sink: SnapshotSink,
  ) {
    this.#o = o;
    this.#endpoint = endpoint;
    this.#region = region;
    this.#filter = filter;
    this.#writer = writer;
    this.#sink = sink;
    this.config = { filter, concurrency: o.concurrency ?? DEFAULT_SNAPSHOT_OPTIONS.concurrency };
  }

  progress(run: JobRun, final: boolean): SnapshotProgress {
    const t = run.tally;
    const elapsedMs = Date.now() - this.#startedAt.getTime();
    const secs = Math.max(elapsedMs, 1) / 1000;
    const p: SnapshotProgress = {
      things: t.done,
      records: this.#records,
      failed: this.#failedThings,
      throttles: t.throttles,
      thingsPerSecond: t.done / secs,
      recordsPerSecond: this.#records / secs,
      elapsedMs,
    };
    if (final) p.final = true;
    return p;
  }

  /** The control plane's credentials: the given keys, else the profile or role, else the default chain. */
  #controlCredentials(): SnapshotCredentials | CredentialsProvider | undefined {
    const o = this.#o;
    if (o.credentials !== undefined) return o.credentials;
    return hasCredentialSource(o) ? credentialSourceProvider(o, this.#region) : undefined;
  }

  async targets(): Promise<AsyncIterable<TargetItem>> {
    const o = this.#o;
    const credentials = this.#controlCredentials();
    if (!o.allThings) {
      const control: ControlPlaneAccess = { endpoint: this.#endpoint, region: this.#region };
      if (o.controlEndpoint !== undefined) control.controlEndpoint = o.controlEndpoint;
      if (credentials !== undefined) control.credentials = credentials;
      if (o.signal !== undefined) control.signal = o.signal;
      return openTargets(o.things!, undefined, control);
    }
    const list: Parameters<typeof listAllThings>[0] = { region: this.#region };
    const controlEndpoint = o.controlEndpoint ?? controlEndpointFor(this.#endpoint);
    if (controlEndpoint !== undefined) list.endpoint = controlEndpoint;
    if (credentials !== undefined) list.credentials = credentials;
    if (o.listThingsRps !== undefined) list.rps = o.listThingsRps;
    if (o.signal !== undefined) list.signal = o.signal;
    return listAllThings(list);
  }

  async onResult(r: ItemResult, run: JobRun): Promise<void> {
    const detail = r.detail as SnapshotReadDetail | undefined;
    if (r.payload) {
      this.#records += detail?.records ?? countLines(r.payload);
      await this.#writer.write(r.payload);
    }
    if (r.outcome !== 'failed' && r.outcome !== 'partial') return;
    this.#failedThings += 1;
    const list = detail?.failed ?? (r.error ? [{ shadow: r.shadowName ?? null, error: r.error }] : []);
    for (const f of list) {
      this.#failedTotal += 1;
      if (this.#failures.length < MANIFEST_FAILURE_LIMIT) {
        const item: SnapshotFailure = {
          thing: r.thingName,
          code: f.error.awsErrorType ?? f.error.code,
          message: f.error.message,
        };
        if (!(f.shadow === null && f.error.operation === 'ListNamedShadowsForThing')) item.shadow = f.shadow;
        this.#failures.push(item);
      }
    }
    const max = this.#o.maxFailures;
    if (max !== undefined && this.#failedThings > max && !this.#tooManyFailures) {
      this.#tooManyFailures = true;
      run.abort(`more than ${max} things failed`);
    }
  }

  async report(run: JobRun, stats: RunStats): Promise<SnapshotResult> {
    const o = this.#o;
    const t = run.tally;
    const failures = this.#failures;
    if (this.#tooManyFailures)
      throw new SnapshotError(
        `snapshot aborted: more than ${o.maxFailures} things could not be read (first: ${failures[0]?.thing ?? '?'}: ${failures[0]?.message ?? '?'})`,
      );
    if (stats.aborted || o.signal?.aborted)
      throw new AbortError(
        `snapshot interrupted after ${t.done} things; nothing was written to ${this.#sink.location}`,
      );
    // --overwrite replaces a good snapshot only with a complete one: with unreadable things the old one is kept.
    if (o.overwrite === true && this.#failedTotal > 0) {
      throw new SnapshotError(
        `snapshot not replaced: ${this.#failedThings} things could not be read (first: ${failures[0]?.thing ?? '?'}: ${failures[0]?.message ?? '?'}); the snapshot in ${this.#sink.location} was kept`,
      );
    }
    const manifest: SnapshotManifest = {
      format: SNAPSHOT_FORMAT,
      formatVersion: SNAPSHOT_FORMAT_VERSION,
      toolVersion: VERSION,
      endpoint: this.#endpoint,
      region: this.#region,
      startedAt: this.#startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      shadows: formatShadowFilter(this.#filter),
      things: t.done,
      records: this.#records,
      counts: { ...t.byOutcome },
      failures: { total: this.#failedTotal, items: failures },
      data: { file: SNAPSHOT_DATA_FILE, compression: 'gzip', bytes: 0, sha256: '', sorted: false },
    };
    const final = await this.#writer.commit(manifest);
    const durationMs = Date.now() - this.#startedAt.getTime();
    run.progress(true);
    return {
      location: this.#sink.location,
      manifest: final,
      things: t.done,
      records: this.#records,
      failed: this.#failedThings,
      durationMs,
      recordsPerSecond: this.#records / (Math.max(durationMs, 1) / 1000),
      requests: t.requests,
      throttles: t.throttles,
      warnings: [...this.#sink.warnings],
    };
  }
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n += 1;
  return n;
}
