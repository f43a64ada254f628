/**
 * Lets bottleneck (2.19.5) recover from its own Lua sentinels on Redis 7.
 *
 * bottleneck's scripts end with `redis.error_reply('UNKNOWN_CLIENT')` (this process was not seen
 * for `clientTimeout`, 10 s: a busy host, a long GC, a paused process) and
 * `redis.error_reply('SETTINGS_KEY_NOT_FOUND')` (the limiter's keys expired or were deleted), and
 * RedisDatastore.runScript recovers (re-registers the client, re-runs init) only when
 * `e.message === "UNKNOWN_CLIENT"` / `"SETTINGS_KEY_NOT_FOUND"`. Redis 7 prefixes `ERR ` to an
 * error reply without an error code, so the message is `ERR UNKNOWN_CLIENT`, the recovery never
 * runs, and every later call of that limiter fails (SGrondin/bottleneck issues #212, #205, #219;
 * the fixes, PRs #215 and #222, are not merged). `OVERWEIGHT:` is matched the same way.
 *
 * The fix sits at bottleneck's seam with the connection: `__scriptArgs__` hands each script its
 * callback, and the wrapped callback gives bottleneck the sentinel as Redis 6 did (without the
 * `ERR ` prefix). Nothing else changes; on Redis 6, and with a bottleneck that strips the prefix
 * itself, the messages are already the bare sentinels, so the wrapper changes nothing there.
 */
import type Bottleneck from 'bottleneck';

/** bottleneck's own sentinels, as Redis 7 words them. */
const PREFIXED_SENTINEL = /^ERR (UNKNOWN_CLIENT|SETTINGS_KEY_NOT_FOUND|OVERWEIGHT:[^\s]*)$/;

type ScriptCallback = (err: Error | null | undefined, replies?: unknown) => void;

interface ScriptSeam {
  __scriptArgs__(name: string, id: string, args: unknown[], cb: ScriptCallback): unknown[];
}

export interface SentinelRecoveryOptions {
  /**
   * Settings that replace the limiter's own in bottleneck's `init` (called with the limiter id
   * for every init; `undefined` keeps bottleneck's). bottleneck re-creates lost settings from
   * the options the limiter was made with and its own last `updateSettings`, which may be stale
   * when other processes changed the shared settings since.
   */
  initSettings?: (id: string) => Record<string, number> | undefined;
}

/** bottleneck's sentinel without Redis 7's `ERR ` prefix; other errors as they are. */
export function bareSentinel(err: Error): Error {
  const m = PREFIXED_SENTINEL.exec(err.message);
  if (m !== null) err.message = m[1] as string;
  return err;
}

/** Wraps the connection's script arguments (see above); call once, before any limiter uses it. */
export function recoverBottleneckSentinels(
  connection: Bottleneck.IORedisConnection,
  options: SentinelRecoveryOptions = {},
): void {
  const seam = connection as unknown as ScriptSeam;
  const own = seam.__scriptArgs__;
  if (typeof own !== 'function') throw new Error('bottleneck connection has no __scriptArgs__ (another version?)');
  seam.__scriptArgs__ = (name, id, args, cb) => {
    const settings = name === 'init' ? options.initSettings?.(id) : undefined;
    return own.call(seam, name, id, settings === undefined ? args : withInitSettings(args, settings), (err, replies) =>
      cb(err == null ? err : bareSentinel(err), replies),
    );
  };
}

/**
 * init's arguments are `now, clientId, clear, version` then the settings as key, value pairs
 * (RedisDatastore.prepareInitSettings); the given keys' values are replaced (or added).
 */
function withInitSettings(args: unknown[], settings: Record<string, number>): unknown[] {
  const out = [...args];
  const left = new Map(Object.entries(settings));
  for (let i = 4; i + 1 < out.length; i += 2) {
    const key = String(out[i]);
    const value = left.get(key);
    if (value === undefined) continue;
    out[i + 1] = String(value);
    left.delete(key);
  }
  for (const [key, value] of left) out.push(key, String(value));
  return out;
}
