import { NetworkError, ServiceError, TimeoutError } from '../errors.js';

export interface RetryPolicyOptions {
  /** Total attempts including the first (1 = never retry). */
  maxAttempts: number;
  /** Backoff base: attempt n waits up to `baseDelayMs * 2^(n-1)`. */
  baseDelayMs: number;
  /** Cap on our own backoff and on a server Retry-After hint. */
  maxDelayMs: number;
  /** Uniform [0, 1) source for the full jitter; injected by tests. */
  random?: () => number;
}

/**
 * The retry policy, pure: given the attempt that just failed (1-based) and its error, returns the
 * delay in ms before the next attempt, or `undefined` to stop.
 *
 * - 429, 500, 502, 503, 504 (ServiceError.retryable), network resets and timeouts are retried;
 *   400, 401, 403, 404, 409, 413, 415 and unknown errors are not.
 * - A server hint (`retryAfterMs` from Retry-After / x-amz-retry-after) is obeyed without jitter,
 *   capped at `maxDelayMs`.
 * - Otherwise capped exponential backoff with full jitter: `random() * min(max, base * 2^(n-1))`.
 */
export function retryDelay(attempt: number, error: unknown, opts: RetryPolicyOptions): number | undefined {
  if (!(attempt >= 1) || attempt >= opts.maxAttempts) return undefined;
  if (error instanceof ServiceError) {
    if (!error.retryable) return undefined;
    const hint = error.retryAfterMs;
    if (hint !== undefined && Number.isFinite(hint) && hint >= 0) return Math.min(hint, opts.maxDelayMs);
  } else if (!(error instanceof NetworkError) && !(error instanceof TimeoutError)) {
    return undefined;
  }
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
  const random = opts.random ?? Math.random;
  return Math.floor(random() * ceiling);
}

/**
 * Reads a server retry hint in ms: `x-amz-retry-after` (milliseconds) wins over `Retry-After`
 * (delta-seconds or an HTTP date). Malformed or negative values give `undefined`, so the caller
 * falls back to its own backoff.
 */
export function parseRetryAfter(
  retryAfter: string | undefined,
  amzRetryAfter: string | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (amzRetryAfter !== undefined) {
    const t = amzRetryAfter.trim();
    if (/^\d+$/.test(t)) return Number(t);
  }
  if (retryAfter === undefined) return undefined;
  const v = retryAfter.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
