/**
 * `sync`: mirrors shadows from a source (a data plane or a snapshot) to a destination data
 * plane, sending only differences, version-guarded, once or pass after pass (`--watch`).
 *
 * A SyncSession holds the two sides open between passes: the destination's JobRun (its
 * client, credentials, rate gates and workers) runs the `sync` task; a live source has its own
 * JobRun reading with `snapshot-read` tasks, so each side has its own endpoint, region,
 * credentials and rate. A pass streams the source thing by thing; the version watermark
 * (sync-watermark.ts) sends only things whose source shadows moved, appeared or went away, so
 * a pass over an unchanged source writes nothing and reads nothing on the destination.
 *
 * With `delete`, what the source no longer has is deleted on the destination: shadows of a
 * synced thing the source lacks, things the source had and lost, and (for a selection of all
 * things) things the destination has and the source never had.
 *
 * The journal appends one line per thing sent, with the source versions it brought over; a
 * resumed sync loads them into the watermark and sends only what moved since.
 */
import { ConfigError, InvalidArgumentError } from '../../errors.js';
import { readJournal, Journal } from '../../engine/journal.js';
import { jobClientConfig, JobRun, type JobRunOptions } from '../../engine/job-run.js';
import type { JobPlacement } from '../../engine/job-placement.js';
import type { OutcomeCounts } from '../../engine/item-outcome.js';
import { OutcomeTally } from '../../engine/outcome-tally.js';
import type { ItemResult, TargetItem } from '../../engine/task-types.js';
import type { SnapshotReader } from '../../sinks/snapshot-reader.js';
import type { SyncDetail, SyncItemData, SyncTaskConfig } from '../../../workers/handlers/sync.js';
import type { FleetSelection } from '../fleet/fleet-file.js';
import { selectThings } from '../fleet/select-things.js';
import { parseShadowFilter, type ShadowFilter } from '../../shadow/shadow-filter.js';
import { liveSourceThings, openSnapshotSource, snapshotSourceThings, type SourceThing } from './sync-source.js';
import { syncSections } from '../../shadow/sync-update.js';
import { SyncWatermark } from './sync-watermark.js';
import { resolveSide, type SyncSide, type SyncSideOptions } from './sync-side.js';

export type { SyncSideOptions } from './sync-side.js';

export interface SyncOptions {
  /** The source: a data plane (`endpoint`...) or a snapshot (`snapshot`: a directory or s3://bucket/prefix/). */
  from: SyncSideOptions & { snapshot?: string };
  /** The destination data plane. */
  to: SyncSideOptions;
  /** Sections to copy. Default `both`. */
  sections?: 'desired' | 'reported' | 'both';
  /** Which shadows (as snapshot --shadows). Default `classic,named`. */
  shadows?: string | ShadowFilter;
  /** Which things of a live source. Default: all things. */
  select?: FleetSelection;
  /** Delete on the destination what the source no longer has. Default false. */
  delete?: boolean;
  /** Read and diff only; nothing is written. */
  dryRun?: boolean;
  /** Journal file: one line per thing sent; with `resume`, the versions already brought over are skipped. */
  journal?: string;
  resume?: boolean;
  /** Things per batch. Default 100. */
  batchSize?: number;
  /** Things at once per destination batch. Default 64. */
  concurrency?: number;
  /** Read-diff-write attempts per shadow on 409. Default 5. */
  maxAttempts?: number;
  /** Failures kept per pass report (all are counted). Default 100. */
  maxFailuresListed?: number;
  signal?: AbortSignal;
  /**
   * Where both sides' batches run (e.g. queuePlacement of shadowfleet/queue: one run id for the
   * source's reads and the destination's writes). Default: this process's thread pools.
   */
  placement?: JobPlacement;
}

export interface SyncFailure {
  thing: string;
  side: 'source' | 'destination';
  code: string;
  message: string;
}

/** The report of one pass. */
export interface SyncPassResult {
  pass: number;
  dryRun: boolean;
  /** Things read from the source. */
  sourceThings: number;
  /** Things whose source shadows had not moved since the last pass: not sent. */
  skipped: number;
  /** Things sent to the destination (moved, new, gone, or destination-only with delete). */
  sent: number;
  /** Shadows written (updates sent). */
  written: number;
  /** Shadows deleted. */
  deleted: number;
  /** Things sent that needed no write. */
  unchanged: number;
  /** Things a dry run would change. */
  wouldWrite: number;
  /** Things that failed (source read or destination write). */
  failed: number;
  failures: SyncFailure[];
  byOutcome: OutcomeCounts;
  requests: number;
  throttles: number;
  bytesSent: number;
  /** Bytes a whole-document copy would have sent. */
  wholeBytes: number;
  durationMs: number;
  interrupted: boolean;
}

export const DEFAULT_SYNC_OPTIONS = Object.freeze({
  sections: 'both' as const,
  batchSize: 100,
  concurrency: 64,
  maxFailuresListed: 100,
});

const OK_OUTCOMES = new Set(['written', 'rebased', 'unchanged']);

function positive(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0))
    throw new InvalidArgumentError(`${name}: expected a positive integer`);
}

function runOptions(side: SyncSide, o: SyncOptions): JobRunOptions {
  const ro: JobRunOptions = {
    client: jobClientConfig(side.client),
    batchSize: o.batchSize ?? DEFAULT_SYNC_OPTIONS.batchSize,
  };
  if (side.rates !== undefined) ro.rates = side.rates;
  if (side.workers !== undefined) ro.workers = side.workers;
  if (o.signal !== undefined) ro.signal = o.signal;
  if (o.placement !== undefined) ro.placement = o.placement;
  return ro;
}

export class SyncSession {
  readonly #o: SyncOptions;
  readonly #config: SyncTaskConfig;
  readonly #filter: ShadowFilter;
  readonly #to: SyncSide;
  readonly #from: SyncSide | undefined;
  readonly #dest: JobRun;
  readonly #source: JobRun | undefined;
  readonly #journal: Journal | undefined;
  readonly #watermark: SyncWatermark;
  #passes = 0;

  private constructor(
    o: SyncOptions,
    config: SyncTaskConfig,
    to: SyncSide,
    from: SyncSide | undefined,
    watermark: SyncWatermark,
    journal: Journal | undefined,
  ) {
    this.#o = o;
    this.#config = config;
    this.#filter = config.filter;
    this.#to = to;
    this.#from = from;
    this.#watermark = watermark;
    this.#journal = journal;
    this.#dest = new JobRun(runOptions(to, o));
    this.#source = from === undefined ? undefined : new JobRun(runOptions(from, o));
  }

  /** Validates the options, resolves both sides (credentials, profiles) and loads a journal to resume; no request is sent yet. */
  static async open(o: SyncOptions): Promise<SyncSession> {
    if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('sync: expected an options object');
    if (typeof o.from !== 'object' || o.from === null)
      throw new InvalidArgumentError('from: required (a source endpoint or snapshot)');
    if (typeof o.to !== 'object' || o.to === null)
      throw new InvalidArgumentError('to: required (the destination endpoint)');
    if (o.from.snapshot !== undefined && o.from.endpoint !== undefined)
      throw new InvalidArgumentError('from: give an endpoint or a snapshot, not both');
    if (o.from.snapshot !== undefined && o.select !== undefined)
      throw new InvalidArgumentError(
        'select: a snapshot source syncs the things it holds; a selection is for a live source',
      );
    const sections = o.sections ?? DEFAULT_SYNC_OPTIONS.sections;
    if (!['desired', 'reported', 'both'].includes(sections))
      throw new InvalidArgumentError(`sections: expected desired, reported or both, got ${JSON.stringify(sections)}`);
    positive('batchSize', o.batchSize);
    positive('concurrency', o.concurrency);
    positive('maxAttempts', o.maxAttempts);
    if (o.resume === true && o.journal === undefined) throw new InvalidArgumentError('resume: needs journal');
    const filter =
      o.shadows === undefined
        ? parseShadowFilter('classic,named')
        : typeof o.shadows === 'object'
          ? o.shadows
          : parseShadowFilter(o.shadows);
    const to = await resolveSide(o.to, 'to');
    const from = o.from.snapshot === undefined ? await resolveSide(o.from, 'from') : undefined;
    if (from !== undefined && from.client.endpoint === to.client.endpoint && o.from.region === o.to.region) {
      throw new InvalidArgumentError(
        `from, to: the source and the destination are the same data plane (${to.client.endpoint})`,
      );
    }
    const config: SyncTaskConfig = {
      sections: syncSections(sections),
      deleteMissing: o.delete === true,
      filter,
      dryRun: o.dryRun === true,
      concurrency: o.concurrency ?? DEFAULT_SYNC_OPTIONS.concurrency,
    };
    if (o.maxAttempts !== undefined) config.maxAttempts = o.maxAttempts;
    const watermark = new SyncWatermark();
    let journal: Journal | undefined;
    if (o.journal !== undefined) {
      const spec = {
        from: o.from.snapshot ?? from?.client.endpoint,
        to: to.client.endpoint,
        sections,
        shadows: filter,
        delete: o.delete === true,
        dryRun: o.dryRun === true,
      };
      if (o.resume === true) await loadWatermark(o.journal, watermark);
      journal = await Journal.open(o.journal, { kind: 'sync', spec, resume: o.resume === true });
    }
    return new SyncSession(o, config, to, from, watermark, journal);
  }

  /** Shadows held by the watermark (brought over and not moved since). */
  get watermarkSize(): number {
    return this.#watermark.size;
  }

  /** One pass: reads the source, sends what moved, reports. */
  async pass(): Promise<SyncPassResult> {
    this.#passes += 1;
    const started = Date.now();
    const tally = new OutcomeTally();
    const res: SyncPassResult = {
      pass: this.#passes,
      dryRun: this.#config.dryRun,
      sourceThings: 0,
      skipped: 0,
      sent: 0,
      written: 0,
      deleted: 0,
      unchanged: 0,
      wouldWrite: 0,
      failed: 0,
      failures: [],
      byOutcome: {},
      requests: 0,
      throttles: 0,
      bytesSent: 0,
      wholeBytes: 0,
      durationMs: 0,
      interrupted: false,
    };
    const maxListed = this.#o.maxFailuresListed ?? DEFAULT_SYNC_OPTIONS.maxFailuresListed;
    const fail = (f: SyncFailure): void => {
      res.failed += 1;
      if (res.failures.length < maxListed) res.failures.push(f);
    };
    const versions = new Map<string, Array<{ shadow: string | null; version: number }>>();
    const gone = new Set<string>();
    let reader: SnapshotReader | undefined;
    let sourceDone: Promise<void> = Promise.resolve();
    let stopSource = (): void => {};
    let things: AsyncIterable<SourceThing>;
    if (this.#o.from.snapshot !== undefined) {
      reader = await openSnapshotSource(this.#o.from.snapshot);
      things = snapshotSourceThings(reader, this.#filter);
    } else {
      const names = selectThings(this.#o.select ?? { kind: 'all' }, this.#from!.select);
      ({ things, done: sourceDone, stop: stopSource } = liveSourceThings(this.#source!, this.#filter, names));
    }
    try {
      const targets = this.#targets(things, res, versions, gone, fail);
      await this.#dest.run<SyncTaskConfig>('sync', this.#config, targets, (r) => {
        tally.add(r);
        this.#onResult(r, versions, gone, res, fail);
      });
      if (this.#dest.stopped) stopSource();
    } catch (err) {
      stopSource();
      throw err;
    } finally {
      await sourceDone.catch(() => {});
      reader?.close();
    }
    await this.#journal?.flush();
    res.byOutcome = { ...tally.byOutcome };
    res.unchanged = tally.count('unchanged');
    res.wouldWrite = tally.count('would-write');
    res.requests = tally.requests;
    res.throttles = tally.throttles;
    res.bytesSent = tally.bytesSent;
    res.durationMs = Date.now() - started;
    res.interrupted = this.#dest.interrupted;
    return res;
  }

  /** The destination's targets of a pass: moved source things, then (with delete) the things gone from the source. */
  async *#targets(
    things: AsyncIterable<SourceThing>,
    res: SyncPassResult,
    versions: Map<string, Array<{ shadow: string | null; version: number }>>,
    gone: Set<string>,
    fail: (f: SyncFailure) => void,
  ): AsyncGenerator<TargetItem> {
    const wm = this.#watermark;
    const del = this.#config.deleteMissing;
    const seenNames =
      del && (this.#o.from.snapshot !== undefined || (this.#o.select ?? { kind: 'all' }).kind === 'all')
        ? new Set<string>()
        : undefined;
    wm.beginPass();
    for await (const t of things) {
      res.sourceThings += 1;
      seenNames?.add(t.thing);
      if (this.#dest.stopped) return;
      if (t.failed !== undefined) {
        wm.seen(t.thing);
        // A read cut short by this pass's interrupt is not a failure of the source: the thing is
        // simply not done. An abort nothing here asked for is a failure (as a failed rate gate is).
        if (t.failed.code === 'SHADOW_ERR_ABORTED' && this.#cutShort()) continue;
        fail({ thing: t.thing, side: 'source', code: t.failed.code, message: t.failed.message });
        continue;
      }
      const v = t.shadows;
      if (!wm.observe(t.thing, v)) {
        res.skipped += 1;
        continue;
      }
      versions.set(t.thing, v);
      res.sent += 1;
      yield { thingName: t.thing, data: { records: t.records } satisfies SyncItemData };
    }
    const missing = wm.missingThings();
    if (!del) {
      for (const thing of missing) wm.forget(thing);
      return;
    }
    for (const thing of missing) {
      gone.add(thing);
      versions.set(thing, []);
      res.sent += 1;
      yield { thingName: thing, data: { records: '' } };
    }
    if (seenNames === undefined) return;
    // The destination's own things the source does not have (a selection of all things only).
    for await (const thing of selectThings({ kind: 'all' }, this.#to.select)) {
      if (seenNames.has(thing) || gone.has(thing)) continue;
      gone.add(thing);
      versions.set(thing, []);
      res.sent += 1;
      yield { thingName: thing, data: { records: '' } };
    }
  }

  #onResult(
    r: ItemResult,
    versions: Map<string, Array<{ shadow: string | null; version: number }>>,
    gone: Set<string>,
    res: SyncPassResult,
    fail: (f: SyncFailure) => void,
  ): void {
    const v = versions.get(r.thingName) ?? [];
    versions.delete(r.thingName);
    const d = r.detail as SyncDetail | undefined;
    res.written += d?.written ?? 0;
    res.deleted += d?.deleted ?? 0;
    res.wholeBytes += r.wholeBytes ?? 0;
    const ok = OK_OUTCOMES.has(r.outcome);
    // A thing gone from the source (or only on the destination) is forgotten once its shadows are deleted.
    if (ok && !this.#config.dryRun && !gone.has(r.thingName)) this.#watermark.record(r.thingName, v);
    else this.#watermark.forget(r.thingName);
    // A thing cut short by this pass's interrupt is not done (the next pass or a resume sends it),
    // not failed; aborted while the pass went on, it failed (as a failed rate gate, RateGateError).
    const interrupted = r.error?.code === 'SHADOW_ERR_ABORTED' && this.#cutShort();
    if (!ok && r.outcome !== 'would-write' && !interrupted)
      fail({
        thing: r.thingName,
        side: 'destination',
        code: r.error?.awsErrorType ?? r.error?.code ?? r.outcome,
        message: r.error?.message ?? r.outcome,
      });
    if (this.#journal !== undefined && !this.#config.dryRun)
      this.#journal.append({ ...r, detail: { ...(d ?? {}), versions: v } });
  }

  /**
   * True once this pass was cut short: interrupted (the signal), or either side's run stopped.
   * Only then does an item aborted (SHADOW_ERR_ABORTED) count as not done rather than failed: an
   * abort nothing here asked for would otherwise leave the thing unwritten in a pass that reports
   * no failure. (A worker whose rate gate failed reports RateGateError, a failure in any case.)
   */
  #cutShort(): boolean {
    return (
      this.#dest.interrupted ||
      this.#dest.stopped ||
      this.#source?.interrupted === true ||
      this.#source?.stopped === true
    );
  }

  /** Closes both runs and the journal. */
  async close(): Promise<void> {
    try {
      await this.#journal?.close();
    } finally {
      await Promise.all([this.#dest.close(), this.#source?.close()]);
    }
  }
}

/** Loads the source versions a journal says were brought over into the watermark. */
async function loadWatermark(path: string, watermark: SyncWatermark): Promise<void> {
  try {
    await readJournal(path, (r) => {
      const v = (r.detail as { versions?: Array<{ shadow: string | null; version: number }> } | undefined)?.versions;
      if (OK_OUTCOMES.has(r.outcome) && Array.isArray(v)) watermark.record(r.thingName, v);
      else watermark.forget(r.thingName);
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ConfigError(`${path}: cannot read the sync journal (${(err as Error).message})`, { cause: err });
  }
}

/** One sync pass on a fresh session. */
export async function runSync(o: SyncOptions): Promise<SyncPassResult> {
  const session = await SyncSession.open(o);
  try {
    return await session.pass();
  } finally {
    await session.close();
  }
}
