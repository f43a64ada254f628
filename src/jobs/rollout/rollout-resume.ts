/**
 * Resuming a rollout from its journal: a thing is finished by its first non-failed entry
 * (failures are tried again); a journal written for another change is refused.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.js';
import { readJournal, specHash } from '../../engine/journal.js';
import { itemKey, type ItemResult } from '../../engine/task-types.js';
import type { JsonObject } from '../../shadow/index.js';
import { isRolloutFailure } from './rollout-write.js';

/** What identifies a rollout's change in its journal. */
export interface RolloutChange {
  shadowName: string | undefined;
  desired: JsonObject | undefined;
  transform: string | undefined;
  dryRun: boolean;
  /** The condition on the shadow, if any (another condition is another change). */
  where?: string | undefined;
}

/** A hash of the transform module's source (the module file itself), or null when it cannot be read. */
async function transformCodeHash(transform: string): Promise<string | null> {
  try {
    const source = await readFile(transform.startsWith('file:') ? fileURLToPath(transform) : transform);
    return createHash('sha256').update(source).digest('hex');
  } catch {
    return null;
  }
}

/** The journal's identity of a change: a resume with another change is refused. */
export async function rolloutChangeHash(c: RolloutChange): Promise<string> {
  const change: Record<string, unknown> = {
    kind: 'rollout',
    shadow: c.shadowName ?? null,
    desired: c.desired ?? null,
    transform: c.transform ?? null,
    dryRun: c.dryRun,
  };
  // A transform is identified by its code, not only its path: an edited module is another change.
  if (c.transform !== undefined) change.transformCode = await transformCodeHash(c.transform);
  // Only when given: journals of rollouts without a condition keep their identity.
  if (c.where !== undefined) change.where = c.where;
  return specHash(change);
}

/**
 * Reads the finished things of an earlier run from `journal` (when it exists and is not empty),
 * calling `onFinished` once per finished thing; returns their keys.
 */
export async function readFinished(
  journal: string,
  changeHash: string,
  onFinished: (r: ItemResult) => void,
): Promise<Set<string>> {
  const finished = new Set<string>();
  if (
    !(await stat(journal).then(
      (st) => st.size > 0,
      () => false,
    ))
  )
    return finished;
  const { header } = await readJournal(journal, (r) => {
    const key = itemKey(r);
    if (finished.has(key) || isRolloutFailure(r)) return;
    finished.add(key);
    onFinished(r);
  });
  if (header === undefined || header.specHash !== changeHash) {
    throw new ConfigError(
      `${journal}: the journal was written for a different change (shadow, desired, transform or dry run); resume with the same change, or start a new journal`,
    );
  }
  return finished;
}
