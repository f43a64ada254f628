/**
 * Rollout targets as a stream of items, from a file, `-` (stdin), a snapshot (a directory or
 * `s3://bucket/prefix/` holding one: its things), a Readable, an iterable, or a selection (a
 * thing group, a fleet indexing query, every thing: see target-selection.ts), never held whole.
 * Files are parsed by the engine's `readTargets` (plain names, CSV with a thingName column, or
 * JSON lines); bad lines are reported to `onInvalid` and skipped.
 */
import { access, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import type { TargetItem } from './task-types.js';
import { readTargets, type TargetProblem } from './targets.js';
import { SnapshotReader } from '../sinks/snapshot-reader.js';
import { isTargetSelection, openSelection, type ControlPlaneAccess, type TargetSelection } from './target-selection.js';

export type RolloutTargets =
  | string
  | Readable
  | AsyncIterable<TargetItem | string>
  | Iterable<TargetItem | string>
  | TargetSelection;

function isReadable(v: unknown): v is Readable {
  return typeof (v as Readable).pipe === 'function' && typeof (v as Readable).read === 'function';
}

/** A directory or an s3:// URL names a snapshot; anything else is a things file (or `-`). */
async function isSnapshotLocation(target: string): Promise<boolean> {
  if (/^s3:\/\//i.test(target)) return true;
  try {
    return (await stat(target)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The things of a snapshot, once each, in snapshot order. A thing's shadows are written together,
 * so consecutive records are compared; the reader checks the data against the manifest's
 * checksum as it streams, so a damaged snapshot stops the run with the file and line named.
 */
async function* snapshotThings(location: string): AsyncGenerator<TargetItem> {
  const reader = await SnapshotReader.open(location);
  try {
    let last: string | undefined;
    for await (const record of reader.records()) {
      if (record.thing === last) continue;
      last = record.thing;
      yield { thingName: record.thing };
    }
  } finally {
    reader.close();
  }
}

/** Opens targets as a stream of items; a selection needs `control` (where the control plane is). */
export async function openTargets(
  targets: RolloutTargets,
  onInvalid?: (p: TargetProblem) => void,
  control?: ControlPlaneAccess,
): Promise<AsyncIterable<TargetItem>> {
  if (isTargetSelection(targets)) {
    if (control === undefined)
      throw new ConfigError('targets: a thing group, query or all-things selection needs the endpoint of the fleet');
    return openSelection(targets, control);
  }
  if (typeof targets === 'string' && (await isSnapshotLocation(targets))) {
    // Open now so that a missing or incomplete snapshot fails before the run starts.
    const things = snapshotThings(targets);
    const first = await things.next();
    return (async function* () {
      if (first.done !== true) yield first.value;
      yield* things;
    })();
  }
  if (typeof targets === 'string') {
    if (targets !== '-') {
      try {
        await access(targets);
      } catch (err) {
        throw new ConfigError(
          `${targets}: cannot read the things file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
          { cause: err },
        );
      }
    }
    return readTargets(onInvalid === undefined ? { path: targets } : { path: targets, onInvalid });
  }
  if (isReadable(targets))
    return readTargets(
      onInvalid === undefined ? { path: '-', input: targets } : { path: '-', input: targets, onInvalid },
    );
  const iterable = targets as AsyncIterable<TargetItem | string> | Iterable<TargetItem | string>;
  return (async function* () {
    for await (const t of iterable) yield typeof t === 'string' ? { thingName: t } : t;
  })();
}

/** Counts the targets of a file in one streaming pass, for progress totals; the length of an array; else undefined. */
export async function countTargets(targets: RolloutTargets): Promise<number | undefined> {
  if (Array.isArray(targets)) return targets.length;
  if (isTargetSelection(targets)) return undefined; // counting would read the selection twice
  if (typeof targets !== 'string' || targets === '-') return undefined;
  if (await isSnapshotLocation(targets)) {
    const reader = await SnapshotReader.open(targets);
    reader.close();
    return reader.manifest.things;
  }
  let n = 0;
  for await (const _ of await openTargets(targets, () => {})) n += 1;
  return n;
}
