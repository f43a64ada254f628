import { jsonEqual } from '../../shadow/compute-delta.js';
import { isPlainObject as isObject } from '../../shadow/merge-state.js';
import type { JsonValue } from '../../shadow/types.js';

/** One changed key path of a shadow, e.g. `desired.config.interval`. */
export interface PathChange {
  path: string;
  op: 'added' | 'removed' | 'changed';
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

function join(prefix: string, key: string): string {
  const part = PLAIN_KEY.test(key) ? key : JSON.stringify(key);
  return prefix === '' ? part : PLAIN_KEY.test(key) ? `${prefix}.${key}` : `${prefix}[${part}]`;
}

/**
 * The key paths where `after` differs from `before`. Objects are compared key by key; arrays
 * and scalars are values (a changed array is one change at its path), as shadows merge them.
 * Bounded by `limit` paths.
 */
export function diffShadowPaths(
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  prefix = '',
  out: PathChange[] = [],
  limit = 1000,
): PathChange[] {
  if (out.length >= limit) return out;
  if (before === undefined && after === undefined) return out;
  if (before === undefined) {
    out.push({ path: prefix, op: 'added' });
    return out;
  }
  if (after === undefined) {
    out.push({ path: prefix, op: 'removed' });
    return out;
  }
  if (isObject(before) && isObject(after)) {
    for (const k of Object.keys(before)) {
      if (out.length >= limit) return out;
      diffShadowPaths(before[k], after[k], join(prefix, k), out, limit);
    }
    for (const k of Object.keys(after)) {
      if (out.length >= limit) return out;
      if (!Object.hasOwn(before, k)) out.push({ path: join(prefix, k), op: 'added' });
    }
    return out;
  }
  if (!jsonEqual(before, after)) out.push({ path: prefix, op: 'changed' });
  return out;
}
