import { InvalidArgumentError } from '../errors.js';
import { requirePositive } from '../options/check-positive.js';
import { stringifyJson } from './json-text.js';
import type { JsonObject } from './types.js';

/** Limits of one shadow document. */
export interface ShadowLimits {
  /** Merged desired + reported, compact JSON bytes, metadata excluded. AWS: 8192. */
  maxStateBytes: number;
  /**
   * Nesting depth counting the section object (`desired`/`reported`) as level 1. AWS's
   * message says "maximum is 6"; newer third-party summaries say 8 (UNCONFIRMED), hence
   * configurable.
   */
  maxDepth: number;
  /** clientToken, UTF-8 bytes. AWS: 64. */
  maxClientTokenBytes: number;
}

export const DEFAULT_SHADOW_LIMITS: Readonly<ShadowLimits> = Object.freeze({
  maxStateBytes: 8192,
  maxDepth: 6,
  maxClientTokenBytes: 64,
});

/** Fills and validates a partial limits object; messages name the option. */
export function resolveShadowLimits(
  partial: Partial<ShadowLimits> | undefined,
  prefix = 'limits',
): Readonly<ShadowLimits> {
  if (partial === undefined) return DEFAULT_SHADOW_LIMITS;
  if (typeof partial !== 'object' || partial === null) {
    throw new InvalidArgumentError(`${prefix} must be an object`);
  }
  const out = { ...DEFAULT_SHADOW_LIMITS };
  for (const key of Object.keys(DEFAULT_SHADOW_LIMITS) as (keyof ShadowLimits)[]) {
    const v = partial[key];
    if (v === undefined) continue;
    out[key] = requirePositive(`${prefix}.${key}`, v);
  }
  return Object.freeze(out);
}

/**
 * The size AWS checks against the 8 KB limit: the compact JSON of the merged desired plus the
 * merged reported section, in UTF-8 bytes (the sum of the serialized sections, as AWS's own
 * local shadow service counts it; metadata is not counted).
 */
export function stateSize(desired?: JsonObject, reported?: JsonObject): number {
  let n = 0;
  if (desired !== undefined) n += Buffer.byteLength(stringifyJson(desired));
  if (reported !== undefined) n += Buffer.byteLength(stringifyJson(reported));
  return n;
}

/** Same as stateSize for sections already serialized (the store keeps them as strings). */
export function serializedStateSize(desired: string | undefined, reported: string | undefined): number {
  let n = 0;
  if (desired !== undefined) n += Buffer.byteLength(desired);
  if (reported !== undefined) n += Buffer.byteLength(reported);
  return n;
}
