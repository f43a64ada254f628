/**
 * `runDiff`: compares two snapshots, or a snapshot with the live fleet, shadow by shadow.
 *
 * Snapshots are not sorted (records are in read order), so a streaming merge is not possible.
 * Memory is bounded instead: when both snapshots hold at most `memoryRecords` records, the
 * first is held in memory as compact strings (about 0.5 KB per shadow, ~50 MB at the default
 * 100,000) and the second is streamed against it; above that, both are first split by key hash
 * into ceil(records / memoryRecords) gzip files in a temporary directory, and compared one bucket
 * at a time. Memory then holds one bucket, whatever the snapshot size.
 *
 * Against the live fleet, the fleet is snapshotted (same engine, same rate gates) into a
 * temporary directory and the two snapshots are compared. Only `desired` and `reported` are
 * compared: versions, metadata and timestamps change on every write and are reported, not diffed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, InvalidArgumentError, SnapshotError } from '../../errors.js';
import { requirePositive } from '../../options/check-positive.js';
import { parseJson, stringifyJson } from '../../shadow/json-text.js';
import type { JsonObject } from '../../shadow/types.js';
import type { TargetSelection } from '../../engine/target-selection.js';
import { SnapshotReader, type SnapshotReaderOptions } from '../../sinks/snapshot-reader.js';
import type { S3ClientOptions } from '../../sinks/s3-client.js';
import { recordKey, type SnapshotFailure, type SnapshotRecord } from '../../sinks/snapshot-format.js';
import { diffShadowPaths, type PathChange } from './snapshot-diff-paths.js';
import { SnapshotPartition } from './snapshot-partition.js';

export interface DiffOptions {
  /** The "before" snapshot: a directory or s3://bucket/prefix/. */
  a: string;
  /** The "after" snapshot. Exactly one of `b` and `live`. */
  b?: string;
  /** Compare `a` with the live fleet at `endpoint`. */
  live?: boolean;
  /** Live mode: data endpoint, region, credentials (as for runSnapshot). */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Live mode: list the whole fleet (things added since `a` show as added). Default: the things of `a`. */
  allThings?: boolean;
  /** Live mode: the things to read, as a selection (a thing group, a fleet indexing query); default: the things of `a`. */
  things?: TargetSelection;
  /** Live mode: control-plane endpoint of `allThings` or `things` (see SnapshotOptions.controlEndpoint). */
  controlEndpoint?: string;
  /** Live mode: worker threads of the engine. */
  workers?: number;
  /** Live mode: rate gates as for runSnapshot ('off' for an emulator without quotas). */
  rates?: import('../snapshot/snapshot.js').SnapshotOptions['rates'];
  /** S3 access for s3:// snapshots. */
  s3?: S3ClientOptions & { client?: SnapshotReaderOptions['s3Client'] };
  /** Changes kept in the result (all of them go to `onChange`). Default 1000. */
  maxChanges?: number;
  /** Key paths listed per changed shadow. Default 100. */
  maxPathsPerShadow?: number;
  /** Records held in memory before the comparison partitions to disk. Default 100,000 (about 50 MB). */
  memoryRecords?: number;
  /** Where partitions and the live snapshot go. Default: the OS temp directory. */
  tempDir?: string;
  onChange?: (change: ShadowChange) => void;
  onProgress?: (event: { phase: 'read-a' | 'read-b' | 'partition' | 'compare' | 'live'; records: number }) => void;
  signal?: AbortSignal;
  /** Live mode: where the live read's batches run (as for runSnapshot). */
  placement?: import('../../engine/job-placement.js').JobPlacement;
}

export const DEFAULT_DIFF_OPTIONS = Object.freeze({ maxChanges: 1000, maxPathsPerShadow: 100, memoryRecords: 100_000 });

export interface ShadowChange {
  thing: string;
  /** Shadow name, null for the classic shadow. */
  shadow: string | null;
  change: 'added' | 'removed' | 'changed';
  versionA?: number;
  versionB?: number;
  /** Changed key paths under state (`desired.x.y`, `reported.z`); capped at maxPathsPerShadow. */
  paths: PathChange[];
}

export interface DiffSummary {
  shadowsA: number;
  shadowsB: number;
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
  /** Distinct things with at least one added, removed or changed shadow. */
  thingsChanged: number;
  /** With live: shadows of A whose thing could not be read live (neither removed nor unchanged: unknown). */
  unreadable: number;
}

export interface DiffResult {
  a: string;
  b: string;
  summary: DiffSummary;
  /** The first maxChanges changes. */
  changes: ShadowChange[];
  /** Changes not kept in `changes`. */
  truncated: number;
  /** True when the comparison was split into on-disk partitions. */
  partitioned: boolean;
  /** With live: the things or shadows that could not be read (a failed read is never a removal). */
  unreadable: { total: number; items: SnapshotFailure[] };
}

interface Held {
  v: number;
  s: string;
}

/** Marks a key of A already matched by B (a duplicate record in B is then ignored). */
const MATCHED: Held = { v: -1, s: '' };

function stateOf(r: SnapshotRecord): { desired?: JsonObject; reported?: JsonObject } {
  const s: { desired?: JsonObject; reported?: JsonObject } = {};
  if (r.state.desired !== undefined) s.desired = r.state.desired;
  if (r.state.reported !== undefined) s.reported = r.state.reported;
  return s;
}

class DiffCollector {
  readonly summary: DiffSummary = {
    shadowsA: 0,
    shadowsB: 0,
    added: 0,
    removed: 0,
    changed: 0,
    unchanged: 0,
    thingsChanged: 0,
    unreadable: 0,
  };
  /** Things (whole) and shadow keys the live read failed on. */
  #unreadableThings = new Set<string>();
  #unreadableKeys = new Set<string>();
  readonly changes: ShadowChange[] = [];
  truncated = 0;
  #things = new Set<string>();
  #thingsOverflow = 0;
  #max: number;
  #maxPaths: number;
  #onChange: ((c: ShadowChange) => void) | undefined;

  constructor(max: number, maxPaths: number, onChange?: (c: ShadowChange) => void) {
    this.#max = max;
    this.#maxPaths = maxPaths;
    this.#onChange = onChange;
  }

  /** Compares one record of B with what A held for its key (undefined: not in A). */
  compare(key: string, held: Held | undefined, b: SnapshotRecord): void {
    const bs = stringifyJson(stateOf(b));
    if (held === undefined) {
      this.#emit({
        thing: b.thing,
        shadow: b.shadow,
        change: 'added',
        versionB: b.version,
        paths: diffShadowPaths({}, parseJson(bs) as JsonObject, '', [], this.#maxPaths),
      });
      return;
    }
    if (held.s === bs) {
      this.summary.unchanged += 1;
      return;
    }
    const before = parseJson(held.s) as JsonObject;
    const paths = diffShadowPaths(before, parseJson(bs) as JsonObject, '', [], this.#maxPaths);
    if (paths.length === 0) {
      // Same content, different key order.
      this.summary.unchanged += 1;
      return;
    }
    this.#emit({ thing: b.thing, shadow: b.shadow, change: 'changed', versionA: held.v, versionB: b.version, paths });
    void key;
  }

  /** Failed live reads: their shadows are counted as unreadable, never as removed. */
  setUnreadable(failures: readonly SnapshotFailure[]): void {
    for (const f of failures) {
      if (f.shadow === undefined) this.#unreadableThings.add(f.thing);
      else this.#unreadableKeys.add(f.shadow === null ? f.thing : `${f.thing}/${f.shadow}`);
    }
  }

  removed(key: string, held: Held): void {
    const slash = key.indexOf('/');
    const thing = slash === -1 ? key : key.slice(0, slash);
    const shadow = slash === -1 ? null : key.slice(slash + 1);
    if (this.#unreadableThings.has(thing) || this.#unreadableKeys.has(key)) {
      this.summary.unreadable += 1;
      return;
    }
    this.#emit({
      thing,
      shadow,
      change: 'removed',
      versionA: held.v,
      paths: diffShadowPaths(parseJson(held.s) as JsonObject, {}, '', [], this.#maxPaths),
    });
  }

  #emit(c: ShadowChange): void {
    this.summary[c.change] += 1;
    // Bounded: past 1M distinct things the count is approximate-high (no false merges of names).
    if (this.#things.size < 1_000_000) {
      if (!this.#things.has(c.thing)) {
        this.#things.add(c.thing);
        this.summary.thingsChanged += 1;
      }
    } else {
      this.#thingsOverflow += 1;
      this.summary.thingsChanged += 1;
    }
    if (this.changes.length < this.#max) this.changes.push(c);
    else this.truncated += 1;
    this.#onChange?.(c);
  }
}

function positiveInt(v: number | undefined, name: string, dflt: number): number {
  const n = v ?? dflt;
  return requirePositive(name, n);
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError('diff aborted');
}

async function compareInMemory(
  a: AsyncIterable<SnapshotRecord>,
  b: AsyncIterable<SnapshotRecord>,
  out: DiffCollector,
  o: DiffOptions,
): Promise<void> {
  const held = new Map<string, Held>();
  let n = 0;
  for await (const r of a) {
    held.set(recordKey(r), { v: r.version, s: stringifyJson(stateOf(r)) });
    out.summary.shadowsA += 1;
    if (++n % 10_000 === 0) {
      checkAbort(o.signal);
      o.onProgress?.({ phase: 'read-a', records: n });
    }
  }
  n = 0;
  for await (const r of b) {
    const key = recordKey(r);
    const h = held.get(key);
    if (h === MATCHED) continue;
    out.summary.shadowsB += 1;
    out.compare(key, h, r);
    held.set(key, MATCHED);
    if (++n % 10_000 === 0) {
      checkAbort(o.signal);
      o.onProgress?.({ phase: 'read-b', records: n });
    }
  }
  for (const [key, h] of held) if (h !== MATCHED) out.removed(key, h);
}

/** Compares two snapshots (or a snapshot and the live fleet). */
export async function runDiff(options: DiffOptions): Promise<DiffResult> {
  if (typeof options?.a !== 'string' || options.a === '')
    throw new InvalidArgumentError('DiffOptions.a must be a snapshot location');
  if ((options.b === undefined) === (options.live !== true))
    throw new InvalidArgumentError('DiffOptions: give exactly one of b (a second snapshot) and live');
  const maxChanges = options.maxChanges ?? DEFAULT_DIFF_OPTIONS.maxChanges;
  if (!Number.isInteger(maxChanges) || maxChanges < 0)
    throw new InvalidArgumentError('DiffOptions.maxChanges must be an integer >= 0');
  const maxPaths = positiveInt(options.maxPathsPerShadow, 'maxPathsPerShadow', DEFAULT_DIFF_OPTIONS.maxPathsPerShadow);
  const memoryRecords = positiveInt(options.memoryRecords, 'memoryRecords', DEFAULT_DIFF_OPTIONS.memoryRecords);
  const readerOptions: SnapshotReaderOptions = { ...(options.s3 ?? {}) };
  if (options.s3?.client) readerOptions.s3Client = options.s3.client;

  let temp: string | undefined;
  const readers: SnapshotReader[] = [];
  try {
    const ra = await SnapshotReader.open(options.a, readerOptions);
    readers.push(ra);
    let bLocation = options.b;
    let unreadable: { total: number; items: SnapshotFailure[] } = { total: 0, items: [] };
    if (options.live) {
      if (!options.endpoint)
        throw new InvalidArgumentError('DiffOptions.endpoint is required with live (or set SHADOWFLEET_ENDPOINT)');
      temp = await mkdtemp(join(options.tempDir ?? tmpdir(), 'shadowfleet-diff-'));
      bLocation = join(temp, 'live');
      const { runSnapshot } = await import('../snapshot/snapshot.js');
      const live: import('../snapshot/snapshot.js').SnapshotOptions = {
        endpoint: options.endpoint,
        out: bLocation,
        shadows: ra.manifest.shadows || 'classic,named',
      };
      if (options.allThings) live.allThings = true;
      else live.things = options.things ?? thingsOf(ra);
      if (options.region !== undefined) live.region = options.region;
      if (options.credentials !== undefined) live.credentials = options.credentials;
      if (options.controlEndpoint !== undefined) live.controlEndpoint = options.controlEndpoint;
      if (options.workers !== undefined) live.workers = options.workers;
      if (options.rates !== undefined) live.rates = options.rates;
      if (options.signal !== undefined) live.signal = options.signal;
      if (options.placement !== undefined) live.placement = options.placement;
      if (options.onProgress) {
        const onProgress = options.onProgress;
        live.onProgress = (p) => onProgress({ phase: 'live', records: p.records });
      }
      const read = await runSnapshot(live);
      unreadable = read.manifest.failures;
      if (unreadable.total > unreadable.items.length) {
        // Not every failure is listed: the unlisted things would look removed. Compare nothing.
        const first = unreadable.items[0];
        throw new SnapshotError(
          `diff --live: ${unreadable.total} things or shadows of ${options.endpoint} could not be read (first: ${first?.thing ?? '?'}: ${first?.message ?? '?'}); nothing was compared`,
        );
      }
    }
    const rb = await SnapshotReader.open(bLocation!, readerOptions);
    readers.push(rb);
    const out = new DiffCollector(maxChanges, maxPaths, options.onChange);
    out.setUnreadable(unreadable.items);
    const biggest = Math.max(ra.manifest.records, rb.manifest.records);
    let partitioned = false;
    if (biggest <= memoryRecords) {
      await compareInMemory(ra.records(), rb.records(), out, options);
    } else {
      partitioned = true;
      temp ??= await mkdtemp(join(options.tempDir ?? tmpdir(), 'shadowfleet-diff-'));
      const buckets = Math.ceil(biggest / memoryRecords);
      const pa = new SnapshotPartition(temp, 'a', buckets);
      const pb = new SnapshotPartition(temp, 'b', buckets);
      let n = 0;
      for (const [reader, part] of [
        [ra, pa],
        [rb, pb],
      ] as const) {
        for await (const r of reader.records()) {
          await part.add(r);
          if (++n % 10_000 === 0) {
            checkAbort(options.signal);
            options.onProgress?.({ phase: 'partition', records: n });
          }
        }
        await part.end();
      }
      for (let i = 0; i < buckets; i++) {
        checkAbort(options.signal);
        await compareInMemory(pa.read(i), pb.read(i), out, options);
        options.onProgress?.({ phase: 'compare', records: out.summary.shadowsB });
      }
    }
    return {
      a: options.a,
      b: options.live ? `live:${options.endpoint}` : options.b!,
      summary: out.summary,
      changes: out.changes,
      truncated: out.truncated,
      partitioned,
      unreadable,
    };
  } finally {
    for (const r of readers) r.close();
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

/** The distinct things of a snapshot, streamed (a thing's records are adjacent in read order). */
async function* thingsOf(reader: SnapshotReader): AsyncGenerator<{ thingName: string }> {
  let last: string | undefined;
  const recent = new Set<string>();
  for await (const r of reader.records()) {
    if (r.thing === last) continue;
    last = r.thing;
    // A small window catches a thing whose records are not adjacent; exact dedupe is not needed
    // for correctness (a thing read twice writes identical records, the diff keeps the last).
    if (recent.has(r.thing)) continue;
    recent.add(r.thing);
    if (recent.size > 4096) recent.delete(recent.values().next().value!);
    yield { thingName: r.thing };
  }
}
