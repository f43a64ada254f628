/**
 * Rollout targets as a stream of items, from a file, `-` (stdin), a Readable or an iterable,
 * never held whole. Files are parsed by the engine's `readTargets` (plain names, CSV with a
 * thingName column, or JSON lines); bad lines are reported to `onInvalid` and skipped.
 */
import { access } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import type { TargetItem } from '../engine/task-types.js';
import { readTargets, type TargetProblem } from '../engine/targets.js';

export type RolloutTargets = string | Readable | AsyncIterable<TargetItem | string> | Iterable<TargetItem | string>;

function isReadable(v: unknown): v is Readable {
  return typeof (v as Readable).pipe === 'function' && typeof (v as Readable).read === 'function';
}

/** Opens targets as a stream of items. */
export async function openTargets(targets: RolloutTargets, onInvalid?: (p: TargetProblem) => void): Promise<AsyncIterable<TargetItem>> {
  if (typeof targets === 'string') {
    if (targets !== '-') {
      try {
        await access(targets);
      } catch (err) {
        throw new ConfigError(`${targets}: cannot read the things file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
      }
    }
    return readTargets(onInvalid === undefined ? { path: targets } : { path: targets, onInvalid });
  }
  if (isReadable(targets)) return readTargets(onInvalid === undefined ? { path: '-', input: targets } : { path: '-', input: targets, onInvalid });
  const iterable = targets as AsyncIterable<TargetItem | string> | Iterable<TargetItem | string>;
  return (async function* () {
    for await (const t of iterable) yield typeof t === 'string' ? { thingName: t } : t;
  })();
}

/** Counts the targets of a file in one streaming pass, for progress totals; the length of an array; else undefined. */
export async function countTargets(targets: RolloutTargets): Promise<number | undefined> {
  if (Array.isArray(targets)) return targets.length;
  if (typeof targets !== 'string' || targets === '-') return undefined;
  let n = 0;
  for await (const _ of await openTargets(targets, () => {})) n += 1;
  return n;
}
