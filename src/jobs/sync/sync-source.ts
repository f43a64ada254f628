/**
 * Where a sync reads: the source's shadows, one thing at a time with all its shadows.
 *
 * - A snapshot (a directory or s3://bucket/prefix/): its records, checked against the manifest
 *   before the first is used; a thing's records are consecutive in a snapshot.
 * - A data plane: a run of `snapshot-read` tasks on the source's own JobRun (its client,
 *   credentials and rate gates), over the selected things; each result hands its records to
 *   the destination's run through a bounded channel, so reading and writing overlap and a slow
 *   destination slows the reads down.
 */
import { SnapshotReader } from '../../sinks/snapshot-reader.js';
import { encodeRecord } from '../../sinks/snapshot-format.js';
import { IterableBatchSource, type BatchSource } from '../../engine/batch-source.js';
import type { JobRun } from '../../engine/job-run.js';
import type { TargetItem } from '../../engine/task-types.js';
import type { SnapshotReadConfig } from '../../../workers/handlers/snapshot-read.js';
import { shadowNameMatcher, type ShadowFilter } from '../../shadow/shadow-filter.js';
import { AsyncChannel } from './async-channel.js';

/** One source thing: its shadows' versions and records (within the filter), or `failed` when they could not be read. */
export interface SourceThing {
  thing: string;
  shadows: Array<{ shadow: string | null; version: number }>;
  /** The shadows as snapshot record lines (what the worker parses, exact numbers kept). */
  records: string;
  /** The read failed (in whole or in part): the thing is neither sent nor taken as gone. */
  failed?: { code: string; message: string };
}

/**
 * The shadow names and versions of snapshot record lines. Only they are needed on this thread
 * (the worker parses the records, with exact numbers), so only each line's head is parsed:
 * encodeRecord writes `thing`, `shadow` and `version` before `state`, and `,"state":` cannot
 * occur inside a JSON string (its quote would be escaped), so its first occurrence ends the head.
 * A line of another shape is parsed whole.
 */
export function recordVersions(text: string): SourceThing['shadows'] {
  const out: SourceThing['shadows'] = [];
  let start = 0;
  let at = -1;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) {
      if (at !== -2 && at < start) at = text.indexOf(',"state":', start);
      if (at === -1) at = -2; // no more heads in the text: parse the rest whole
      const head = at >= start && at < end ? `${text.slice(start, at)}}` : text.slice(start, end);
      const v = JSON.parse(head) as { shadow: string | null; version: number };
      out.push({ shadow: v.shadow, version: v.version });
    }
    start = end + 1;
  }
  return out;
}

/** The things of an opened snapshot, with the records that pass the filter. */
export async function* snapshotSourceThings(reader: SnapshotReader, filter: ShadowFilter): AsyncGenerator<SourceThing> {
  const matches = shadowNameMatcher(filter);
  let current: SourceThing | undefined;
  for await (const r of reader.records()) {
    if (current !== undefined && current.thing !== r.thing) {
      yield current;
      current = undefined;
    }
    current ??= { thing: r.thing, shadows: [], records: '' };
    if (r.shadow === null ? filter.classic : matches(r.shadow)) {
      current.shadows.push({ shadow: r.shadow, version: r.version });
      current.records += encodeRecord({ ...r, metadata: {} }); // state only, as a live source's
    }
  }
  if (current !== undefined) yield current;
}

/** Opens a snapshot source; its data is checked against the manifest before anything is read. */
export async function openSnapshotSource(location: string): Promise<SnapshotReader> {
  const reader = await SnapshotReader.open(location);
  try {
    await reader.verify();
  } catch (err) {
    reader.close();
    throw err;
  }
  return reader;
}

/**
 * Things per source batch. A batch hands its results over when its last thing is read, so the
 * destination waits for the first batches and, at the end, drains the last ones alone: smaller
 * source batches than the run's 100 keep both sides busy, which matters where each side is held
 * to its account quota (the same things/s on both: a destination that waited never catches up).
 * Not smaller: the source run keeps 2 batches per worker reading, and behind a high latency the
 * things in flight (50 per worker thread at 25) are what bound the reads.
 */
export const SOURCE_BATCH = 50;

/** Batches of at most `cap` targets, whatever the run's batch size. */
class CappedBatchSource implements BatchSource {
  readonly #inner: IterableBatchSource;
  readonly #cap: number;

  constructor(items: AsyncIterable<TargetItem>, cap: number) {
    this.#inner = new IterableBatchSource(items);
    this.#cap = cap;
  }

  nextBatch(max: number): Promise<TargetItem[] | undefined> {
    return this.#inner.nextBatch(Math.min(max, this.#cap));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/**
 * The things of a live source read on `run` (the source's JobRun), streamed. The read pass
 * runs while the caller iterates; its error (if any) ends the iteration. `done` settles when
 * the read pass has ended (await it before the next pass on the same run); `stop` ends it early.
 */
export function liveSourceThings(
  run: JobRun,
  filter: ShadowFilter,
  things: AsyncIterable<string>,
  capacity = 512,
): { things: AsyncIterable<SourceThing>; done: Promise<void>; stop: () => void } {
  const channel = new AsyncChannel<SourceThing>(capacity);
  const targets = new CappedBatchSource(
    (async function* () {
      for await (const thingName of things) yield { thingName };
    })(),
    SOURCE_BATCH,
  );
  // The destination copies state only: records without their per-leaf metadata (most of a
  // record's bytes) are lighter to build, to hand between threads and to parse.
  const config: SnapshotReadConfig = { filter, metadata: false };
  const done = run
    .run<SnapshotReadConfig>('snapshot-read', config, targets, async (r) => {
      const shadows = r.payload === undefined ? [] : recordVersions(r.payload);
      const t: SourceThing = { thing: r.thingName, shadows, records: r.payload ?? '' };
      if (r.outcome === 'failed' || r.outcome === 'partial')
        t.failed = {
          code: r.error?.awsErrorType ?? r.error?.code ?? 'failed',
          message: r.error?.message ?? 'the source read failed',
        };
      await channel.push(t);
    })
    .then(
      () => channel.close(),
      (err: unknown) => channel.fail(err),
    );
  // The consumer stopped early (interrupt, failure): no more reads, and results still in flight
  // are dropped instead of waiting on a full channel.
  const stop = (): void => {
    run.drain('the destination run stopped');
    channel.abandon();
  };
  return { things: channel, done, stop };
}
