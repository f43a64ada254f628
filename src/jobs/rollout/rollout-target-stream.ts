/**
 * A rollout's targets as one stream: the named shadow filled in, duplicates and things
 * finished by an earlier run skipped, the extra columns kept for retry passes, and the safety
 * caps (blast radius, deletes) checked on a peek before the first write.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '../../errors.js';
import { countTargets, openTargets, type RolloutTargets } from '../../engine/open-targets.js';
import type { ControlPlaneAccess } from '../../engine/target-selection.js';
import { itemKey, type TargetItem } from '../../engine/task-types.js';
import { RolloutKeySet } from './rollout-key-set.js';

export interface RolloutCaps {
  /** Peek this many targets before the first write (0: none). */
  peek: number;
  /** More than this many targets needs `yes` (undefined: no cap). */
  maxThings: number | undefined;
  /** A static change deleting keys on more than this many things needs `allowDeletes` (undefined: no cap). */
  maxDeletes: number | undefined;
}

/** Yields the items of `source`, first the ones already taken by a peek. */
async function* chain<T>(head: T[], rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield* head;
  for (;;) {
    const n = await rest.next();
    if (n.done) return;
    yield n.value;
  }
}

export class RolloutTargetStream {
  duplicates = 0;
  invalidCount = 0;
  readonly invalidLines: string[] = [];
  /** The extra columns of targets in flight (and of transient failures awaiting another pass). */
  readonly dataByKey = new Map<string, Record<string, string>>();
  /** Targets in the file, when it can be counted. */
  total: number | undefined;
  #source: AsyncIterable<TargetItem> | undefined;

  /** The stream after the caps were checked. */
  get source(): AsyncIterable<TargetItem> {
    return this.#source!;
  }

  /** `access`: where a selection (thing group, query, all things) is listed from. */
  static async open(
    targets: RolloutTargets,
    shadowName: string | undefined,
    finished: Pick<ReadonlySet<string>, 'has'>,
    caps: RolloutCaps,
    access?: ControlPlaneAccess,
  ): Promise<RolloutTargetStream> {
    const s = new RolloutTargetStream();
    // Counted beside the run, not before it: the total only feeds progress events and ETAs.
    void countTargets(targets).then(
      (n) => (s.total = n),
      () => undefined,
    );
    const opened = await openTargets(
      targets,
      (p) => {
        s.invalidCount += 1;
        if (s.invalidLines.length < 100) s.invalidLines.push(`${p.file}:${p.line}: ${p.message}`);
      },
      access,
    );
    const seen = new RolloutKeySet();
    const stream = (async function* (): AsyncGenerator<TargetItem> {
      for await (const raw of opened) {
        const item: TargetItem =
          raw.shadowName === undefined && shadowName !== undefined ? { ...raw, shadowName } : raw;
        const key = itemKey(item);
        if (!seen.add(key)) {
          s.duplicates += 1;
          continue;
        }
        if (finished.has(key)) continue;
        if (item.data !== undefined) s.dataByKey.set(key, item.data);
        yield item;
      }
    })();
    s.#source = await checkCaps(stream, caps);
    return s;
  }
}

async function checkCaps(targets: AsyncGenerator<TargetItem>, caps: RolloutCaps): Promise<AsyncIterable<TargetItem>> {
  const head: TargetItem[] = [];
  for (let i = 0; i < caps.peek; i++) {
    const n = await targets.next();
    if (n.done) break;
    head.push(n.value);
  }
  if (caps.maxThings !== undefined && head.length > caps.maxThings) {
    await targets.return(undefined);
    throw new InvalidArgumentError(
      `rollout targets more than ${caps.maxThings} things (the blast-radius cap, safety.maxThings): confirm with --yes (yes: true), or try --dry-run first`,
    );
  }
  if (caps.maxDeletes !== undefined && head.length > caps.maxDeletes) {
    await targets.return(undefined);
    throw new InvalidArgumentError(
      `the change deletes keys (null in desired) on more than ${caps.maxDeletes} things (safety.maxDeletes): confirm with --allow-deletes (allowDeletes: true)`,
    );
  }
  return chain(head, targets);
}

/** Files up to this size are counted before the run starts (a few ms), to size the thread pool. */
const SMALL_TARGET_FILE_BYTES = 64 * 1024;

/** The number of targets when it is known cheaply before the run: an array, or a small file (counted). */
export async function knownTargetCount(targets: RolloutTargets): Promise<number | undefined> {
  if (Array.isArray(targets)) return targets.length;
  if (typeof targets === 'string' && targets !== '-' && !/^s3:\/\//i.test(targets)) {
    const st = await stat(targets).catch(() => undefined);
    if (st?.isFile() && st.size <= SMALL_TARGET_FILE_BYTES) return countTargets(targets).catch(() => undefined);
  }
  return undefined;
}

/**
 * Worker threads for a run over `count` targets: one thread per batch, up to the core count;
 * undefined (the engine's default) when the count is not known. A small rollout then starts
 * one thread, not one per core: each thread loads the client and the handlers, which on a
 * small machine competes with the process's own start-up.
 */
export function workersForTargets(count: number | undefined, batchSize: number): number | undefined {
  if (count === undefined) return undefined;
  return Math.max(1, Math.min(availableParallelism(), Math.ceil(count / batchSize)));
}
