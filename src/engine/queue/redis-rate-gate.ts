/**
 * The account-quota gate shared through Redis: one bottleneck limiter per (account endpoint,
 * operation) in bottleneck's Redis clustering (ioredis), so every process on every host, and
 * every job on the same account, draws from one bucket.
 *
 * What is kept where:
 * - the bucket (bottleneck's settings hash `b_<id>_settings`): `reservoir` is the token count;
 *   bottleneck's own Lua refills it by `reservoirIncreaseAmount` every `reservoirIncreaseInterval`
 *   up to `reservoirIncreaseMaximum` (the burst). The refill runs inside Redis from the shared
 *   `lastReservoirIncrease` and advances it by whole intervals, so the long-run rate is exact
 *   whichever process ticks (bottleneck's local-datastore refill loses time; this one does not);
 * - the AIMD state (`<prefix>:gate:<account>:<op>:aimd`, a hash): the configured ceiling, the
 *   current shared rate, the last decrease. A 429 in any process lowers the shared rate once
 *   per cooldown (a Lua script decides atomically), and the process that changed it applies
 *   it to the shared limiter with `updateSettings`; recovery is applied the same way by a
 *   once-a-second sync in every process, which also keeps each process's view current;
 * - nothing else: permits already taken are cached in the process that took them.
 * A process dropped from the limiter (not seen for bottleneck's clientTimeout, 10 s) registers
 * again, and lost settings (expired or deleted keys) are re-created, by bottleneck's own recovery
 * (on Redis 7 through bottleneck-redis7.ts); a re-created bucket starts empty at the shared rate.
 *
 * Permits go out in weighted chunks (`schedule({ weight: k })`): a chunk costs three scripts
 * (submit, register, free) for k permits, never a Redis round trip per request. Chunks are
 * fetched ahead of the demand waiting in this process: every take waiting (a caller may ask
 * for one permit per request) counts, and as many chunks as cover it are queued in the shared
 * limiter at once (at most `aheadSeconds` of the rate), so a process keeps enough permits on
 * the way whatever a chunk's latency on a busy host (Little's law: permits on the way = rate x
 * latency; one or two chunks on the way held three busy workers to 13-73% of the rate).
 * Chunks are queued only for takes waiting, so nothing is fetched speculatively: a chunk's
 * permits go to the takes waiting when it is granted, and the few left over (less than a
 * chunk) serve the next takes. Waiting chunks are woken by bottleneck's heartbeat and by
 * the capacity each chunk's free() publishes.
 * Clocks: bottleneck stamps its scripts with each process's Date.now(), so hosts sharing a
 * gate need synchronised clocks (NTP), as bottleneck's README says.
 * A gate that starts with another configured rate than the account's shared ceiling sets it
 * (the job started last wins), as `setRate` (a ramp) does; gates of the same rate join it as is.
 */
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { AbortError, ConfigError, InvalidArgumentError } from '../../errors.js';
import type { OperationName } from '../../client/index.js';
import {
  resolveRateGateOptions,
  type OperationGateStats,
  type RateGate,
  type RateGateOptions,
  type RateGateStats,
  type ResolvedRateGateOptions,
} from '../rate-gate.js';
import { recoverBottleneckSentinels } from './bottleneck-redis7.js';
import { redactRedisUrl } from './redis-connection.js';

export interface RedisRateGateOptions extends RateGateOptions {
  /** A connected client (see connectRedis); the gate duplicates it for bottleneck's pub/sub. */
  redis: Redis;
  /** The Redis URL, for messages. */
  redisUrl: string;
  /** The account's data endpoint (a URL or host): the limiters are keyed by its host. */
  account: string;
  /** Key prefix. Default 'shadowfleet'. */
  prefix?: string;
  /** How often the shared AIMD rate is synced (recovery applied, other processes' decreases seen). Default 1000 ms. */
  syncIntervalMs?: number;
  /** Refill period of the shared bucket (bottleneck's reservoirIncreaseInterval). Default 50 ms. */
  refillIntervalMs?: number;
  /**
   * How often each process ticks the shared limiter while it has takes waiting (bottleneck's
   * heartbeat: one Redis call each). Default 100 ms (two refills per tick when all wait; the
   * burst holds two refills, so none is lost).
   */
  heartbeatIntervalMs?: number;
  /** Told about passing errors (reconnects, failed heartbeats); the gate fails only when Redis is gone for good. */
  onWarning?: (message: string) => void;
  /** Idle limiters' keys expire after this long. Default 1 hour. */
  keyTtlMs?: number;
  /** At most this many seconds of the rate are queued in chunks per operation in this process. Default 0.5. */
  aheadSeconds?: number;
}

export const DEFAULT_REDIS_RATE_GATE_OPTIONS = Object.freeze({
  prefix: 'shadowfleet',
  refillIntervalMs: 50,
  heartbeatIntervalMs: 100,
  syncIntervalMs: 1000,
  keyTtlMs: 3_600_000,
  aheadSeconds: 0.5,
});

interface SharedLimiter {
  limiter: Bottleneck;
  aimdKey: string;
  ceiling: number;
  /** This process's view of the shared current rate. */
  rate: number;
  /** The largest permit batch of the gates taking permits on the account (the burst's floor). */
  maxBatch: number;
  /** Takes waiting in this process, first come first served. */
  waiting: Array<{ want: number; resolve: (n: number) => void; reject: (e: unknown) => void }>;
  /** Permits the waiting takes ask for together. */
  wanted: number;
  /** Chunks queued in the shared limiter, not yet granted. */
  queued: number;
  /** Granted permits not yet handed out (less than a chunk once the takes waiting are served). */
  pool: number;
  lastTakeAt: number;
  granted: number;
  throttles: number;
  decreases: number;
  /** A decrease request in flight (a burst of 429s sends one). */
  deciding: boolean;
}

// KEYS[1] = aimd hash, KEYS[2] = active gates' batches (gate -> "batch:lastSeen").
// ARGV = mode ('init'|'set'|'throttle'|'sync'), now, ceiling, factor, cooldown, increaseShare, minShare, batch (0 = idle), gate id.
// `maxBatch` is the largest permit batch of the gates taking permits in the last 5 s: the burst
// never drops below it, or a gate with larger batches than the one that set a lower rate would
// wait for ever; idle gates (a finished job's) drop out, so their batches no longer widen the burst.
// 'init' with another ceiling than the stored one sets it (the job started last wins), as 'set' does.
// Returns { rate, ceiling, apply (1 = this caller must updateSettings), decreased (1|0) }.
const AIMD_LUA = `
local h = KEYS[1]
local mode = ARGV[1]
local now = tonumber(ARGV[2])
local s = redis.call('hmget', h, 'ceiling', 'rate', 'lastDecrease', 'lastUpdate', 'applied')
local c, r, ld, lu, applied = tonumber(s[1]), tonumber(s[2]), tonumber(s[3]), tonumber(s[4]), tonumber(s[5])
local batch = tonumber(ARGV[8]) or 0
local bk = KEYS[2]
if batch > 0 then redis.call('hset', bk, ARGV[9], batch .. ':' .. now) end
local mb = 1
local all = redis.call('hgetall', bk)
for i = 1, #all, 2 do
  local b, seen = string.match(all[i + 1], '([^:]+):([^:]+)')
  if tonumber(seen) < now - 5000 then redis.call('hdel', bk, all[i]) elseif tonumber(b) > mb then mb = tonumber(b) end
end
redis.call('pexpire', bk, 3600000)
local raised = 0
if mb ~= (tonumber(redis.call('hget', h, 'maxBatch')) or 0) then
  raised = 1
  redis.call('hset', h, 'maxBatch', tostring(mb))
end
local asked = tonumber(ARGV[3])
if c == nil or mode == 'set' or (mode == 'init' and c ~= asked) then
  redis.call('hset', h, 'ceiling', tostring(asked), 'rate', tostring(asked), 'lastDecrease', '-1e15', 'lastUpdate', tostring(now), 'applied', tostring(asked))
  return { tostring(asked), tostring(asked), 1, 0, tostring(mb) }
end
local f, cool, inc, minShare = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local from = math.max(lu, ld + cool)
if now > from and r < c then r = math.min(c, r + c * inc * (now - from) / 1000) end
if now > lu then lu = now end
local decreased = 0
if mode == 'throttle' and now - ld >= cool then
  r = math.max(c * minShare, r * f)
  ld = now
  decreased = 1
  redis.call('hincrby', h, 'decreases', 1)
end
local apply = raised
if decreased == 1 or math.abs(r - applied) >= c * 0.01 or (r == c and applied ~= c) then
  apply = 1
  applied = r
end
redis.call('hset', h, 'rate', tostring(r), 'lastDecrease', tostring(ld), 'lastUpdate', tostring(lu), 'applied', tostring(applied))
return { tostring(r), tostring(c), apply, decreased, tostring(mb) }
`;

type AimdReply = [string, string, number, number, string];
type AimdRedis = Redis & { shadowfleetAimd(key: string, batches: string, ...args: string[]): Promise<AimdReply> };

/**
 * The default permit chunk through Redis: rps / 20 within 1..100 (50 at 1,000/s, 100 from
 * 2,000/s). A chunk costs three scripts (and the takes that lose a race for the bucket one
 * more each), so chunks larger than in process (rps / 100) keep Redis calls per request low;
 * chunks are fetched ahead of the takes waiting, so their size does not hold a process back.
 * The burst (0.1 s of the rate, at least two refills) is never below two chunks up to 2,000/s.
 */
export function redisPermitBatch(rps: number): number {
  return Math.max(1, Math.min(100, Math.round(rps / 20)));
}

/** The limiter key of an account: the endpoint's host (and port), lower case. */
export function gateAccountKey(account: string): string {
  if (typeof account !== 'string' || account === '')
    throw new InvalidArgumentError('account must be a non-empty endpoint URL or host');
  try {
    return new URL(account.includes('://') ? account : `https://${account}`).host.toLowerCase();
  } catch {
    throw new InvalidArgumentError(`account must be an endpoint URL or host, got ${JSON.stringify(account)}`);
  }
}

export class RedisRateGate implements RateGate {
  #o: ResolvedRateGateOptions;
  #redis: AimdRedis;
  #url: string;
  #prefix: string;
  #account: string;
  #refillMs: number;
  #heartbeatMs: number;
  #keyTtlMs: number;
  #aheadSeconds: number;
  #connection: Bottleneck.IORedisConnection;
  #limiters = new Map<OperationName, SharedLimiter>();
  #timer: NodeJS.Timeout;
  #failure: Error | undefined;
  #closed = false;
  #onWarning: ((message: string) => void) | undefined;

  constructor(options: RedisRateGateOptions) {
    if (typeof options !== 'object' || options === null || !(options.redis instanceof Redis))
      throw new InvalidArgumentError('RedisRateGateOptions.redis must be an ioredis client (see connectRedis)');
    this.#o = resolveRateGateOptions(options);
    this.#url = options.redisUrl;
    this.#account = gateAccountKey(options.account);
    this.#prefix = options.prefix ?? DEFAULT_REDIS_RATE_GATE_OPTIONS.prefix;
    this.#refillMs = options.refillIntervalMs ?? DEFAULT_REDIS_RATE_GATE_OPTIONS.refillIntervalMs;
    this.#heartbeatMs =
      options.heartbeatIntervalMs ?? Math.max(this.#refillMs, DEFAULT_REDIS_RATE_GATE_OPTIONS.heartbeatIntervalMs);
    this.#keyTtlMs = options.keyTtlMs ?? DEFAULT_REDIS_RATE_GATE_OPTIONS.keyTtlMs;
    this.#aheadSeconds = options.aheadSeconds ?? DEFAULT_REDIS_RATE_GATE_OPTIONS.aheadSeconds;
    const syncMs = options.syncIntervalMs ?? DEFAULT_REDIS_RATE_GATE_OPTIONS.syncIntervalMs;
    this.#redis = options.redis as AimdRedis;
    this.#onWarning = options.onWarning;
    if (typeof this.#redis.shadowfleetAimd !== 'function')
      this.#redis.defineCommand('shadowfleetAimd', { numberOfKeys: 2, lua: AIMD_LUA });
    this.#connection = new Bottleneck.IORedisConnection({ client: options.redis, Redis });
    // bottleneck's recovery from a dropped client or lost settings, on Redis 7 too; lost settings come back as #reinitSettings says.
    recoverBottleneckSentinels(this.#connection, { initSettings: (id) => this.#reinitSettings(id) });
    // A connection error is not the end: ioredis reconnects (bounded, see connectRedis); the gate
    // fails only when the connection has ended for good.
    this.#connection.on('error', (err: Error) => this.#warn(err));
    // The subscriber is a duplicate of the client, lazyConnect included: connect it.
    const { subscriber } = this.#connection as unknown as { subscriber: Redis };
    subscriber.on('error', () => undefined);
    if (subscriber.status === 'wait') void subscriber.connect().catch((err: unknown) => this.#warn(err as Error));
    options.redis.once('end', () => this.#fail(this.#lastError ?? new Error('connection closed')));
    this.#timer = setInterval(() => void this.sync().catch((err: unknown) => this.#warn(err as Error)), syncMs);
    this.#timer.unref();
  }

  get options(): Readonly<ResolvedRateGateOptions> {
    return this.#o;
  }

  /** The bottleneck limiter id of `op` on this account (its keys are `b_<id>_*`). */
  limiterId(op: OperationName): string {
    return `${this.#prefix}:gate:${this.#account}:${op}`;
  }

  batchSize(op: OperationName): number {
    const rps = this.#o.rates[op];
    if (rps === undefined) return 0;
    return this.#o.permitBatch ?? redisPermitBatch(rps);
  }

  async take(op: OperationName, want: number): Promise<number> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new AbortError('rate gate closed');
    const s = await this.#limiter(op);
    if (s === undefined) return want;
    s.lastTakeAt = this.#o.now();
    const n = Math.max(1, Math.min(want, this.batchSize(op)));
    if (s.pool >= n && s.waiting.length === 0) {
      s.pool -= n;
      s.granted += n;
      return n;
    }
    return new Promise<number>((resolve, reject) => {
      s.waiting.push({ want: n, resolve, reject });
      s.wanted += n;
      this.#fetchAhead(op, s);
    });
  }

  /** Queues chunks in the shared limiter until they (and the pool) cover the takes waiting. */
  #fetchAhead(op: OperationName, s: SharedLimiter): void {
    const k = this.batchSize(op);
    const rps = this.#o.rates[op] ?? 0;
    const most = Math.max(2, Math.ceil((rps * this.#aheadSeconds) / k));
    while (s.queued < most && s.pool + s.queued * k < s.wanted) {
      s.queued += 1;
      // A chunk never weighs more than one batch: a weight above the burst could never be granted.
      this.#failFast(s.limiter.schedule({ weight: k }, async () => k)).then(
        (got) => {
          s.queued -= 1;
          s.pool += got;
          this.#serve(s);
          this.#fetchAhead(op, s);
        },
        (err: unknown) => {
          s.queued -= 1;
          if (this.#failure === undefined && !this.#closed) {
            // A passing error (a command lost in a reconnect): reported, and the chunk asked for again.
            this.#warn(err as Error);
            setTimeout(() => this.#fetchAhead(op, s), this.#refillMs).unref();
            return;
          }
          s.wanted = 0;
          // Closed by its owner (the run stopped): the takes are aborted; else the gate failed.
          const reason = this.#failure ?? (this.#closed ? new AbortError('rate gate closed', { cause: err }) : err);
          for (const w of s.waiting.splice(0)) w.reject(reason);
        },
      );
    }
  }

  /** Hands pooled permits to the takes waiting, first come first served, each its whole want. */
  #serve(s: SharedLimiter): void {
    for (let w = s.waiting[0]; w !== undefined && s.pool >= w.want; w = s.waiting[0]) {
      s.waiting.shift();
      s.pool -= w.want;
      s.wanted -= w.want;
      s.granted += w.want;
      w.resolve(w.want);
    }
    s.lastTakeAt = this.#o.now();
  }

  throttled(op: OperationName): void {
    const s = this.#limiters.get(op);
    if (s === undefined) return;
    s.throttles += 1;
    if (s.deciding) return;
    s.deciding = true;
    void this.#aimd(op, s, 'throttle')
      .catch((err: unknown) => this.#warn(err as Error))
      .finally(() => {
        s.deciding = false;
      });
  }

  setRate(op: OperationName, rps: number): void {
    if (this.#o.rates[op] === undefined) return;
    this.#o.rates[op] = rps;
    void this.#limiter(op)
      .then((s) => (s === undefined ? undefined : this.#aimd(op, s, 'set', rps)))
      .catch((err: unknown) => this.#warn(err as Error));
  }

  /** The shared rate of `op` as Redis holds it now (recovery applied). */
  async sharedRate(op: OperationName): Promise<number | undefined> {
    const s = await this.#limiter(op);
    if (s === undefined) return undefined;
    await this.#aimd(op, s, 'sync');
    return s.rate;
  }

  /** Applies recovery and picks up other processes' decreases (the timer calls this). */
  async sync(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#limiters].map(([op, s]) => this.#aimd(op, s, 'sync')));
  }

  stats(): RateGateStats {
    const operations: Partial<Record<OperationName, OperationGateStats>> = {};
    let granted = 0;
    let throttles = 0;
    for (const [op, s] of this.#limiters) {
      operations[op] = {
        configuredRps: s.ceiling,
        currentRps: s.rate,
        granted: s.granted,
        throttles: s.throttles,
        decreases: s.decreases,
      };
      granted += s.granted;
      throttles += s.throttles;
    }
    return { operations, granted, throttles };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.all(
      [...this.#limiters.values()].map((s) => s.limiter.stop({ dropWaitingJobs: true }).catch(() => undefined)),
    );
    // stop() leaves bottleneck's heartbeat running; disconnect() on a shared connection clears
    // it and unsubscribes the limiter (the connection itself stays).
    for (const s of this.#limiters.values()) {
      try {
        await s.limiter.disconnect(false);
      } catch {
        // already gone with the connection
      }
    }
    // The client belongs to the caller; only bottleneck's subscriber connection is ours.
    const { subscriber } = this.#connection as unknown as { subscriber: Redis };
    subscriber.disconnect();
  }

  /**
   * The burst: at least the largest permit batch of any gate on the account and `burstSeconds` of the rate, and at least two
   * refills, so a refill that finds the bucket not yet drained does not drop what it adds
   * (with one refill of room, 1,000/s measured ~830/s granted).
   */
  #capacity(rps: number, maxBatch: number): number {
    return Math.max(maxBatch, Math.ceil(rps * this.#o.burstSeconds), Math.ceil((2 * rps * this.#refillMs) / 1000));
  }

  #settings(rps: number, maxBatch: number): Bottleneck.ConstructorOptions {
    const cap = this.#capacity(rps, maxBatch);
    return {
      reservoirIncreaseInterval: this.#refillMs,
      reservoirIncreaseAmount: (rps * this.#refillMs) / 1000,
      reservoirIncreaseMaximum: cap,
    };
  }

  /**
   * The settings of a bucket bottleneck re-creates after losing it (SETTINGS_KEY_NOT_FOUND: the
   * keys expired or were deleted while in use). bottleneck would use the options this limiter was
   * made with and this process's last updateSettings: another rate than the account's now when
   * another process applied a ramp, an AIMD decrease or a later job's rate, and a full bucket.
   * The bucket comes back at this process's view of the shared rate and batch floor instead, and
   * empty: the permits the lost bucket handed out lately are unknown, and a full burst on top of
   * them could go over the quota. The view is synced and applied right after (it may be up to
   * `syncIntervalMs` old). The first init of a limiter (not made yet) keeps bottleneck's own settings.
   */
  #reinitSettings(id: string): Record<string, number> | undefined {
    for (const [op, s] of this.#limiters) {
      if (this.limiterId(op) !== id) continue;
      const rps = s.rate;
      setImmediate(
        () => void this.#aimd(op, s, 'sync', undefined, true).catch((err: unknown) => this.#warn(err as Error)),
      );
      return {
        reservoir: 0,
        reservoirIncreaseInterval: this.#refillMs,
        reservoirIncreaseAmount: (rps * this.#refillMs) / 1000,
        reservoirIncreaseMaximum: this.#capacity(rps, s.maxBatch),
      };
    }
    return undefined;
  }

  #pending = new Map<OperationName, Promise<SharedLimiter>>();

  /** The shared limiter of `op`, made on first use (an op never used costs no heartbeats). */
  async #limiter(op: OperationName): Promise<SharedLimiter | undefined> {
    const rps = this.#o.rates[op];
    if (rps === undefined) return undefined;
    const ready = this.#limiters.get(op);
    if (ready !== undefined) return ready;
    let p = this.#pending.get(op);
    if (p === undefined) {
      p = this.#makeLimiter(op, rps);
      this.#pending.set(op, p);
      // A failed set-up is tried again by the next take, not remembered.
      p.catch(() => this.#pending.delete(op));
    }
    return p;
  }

  async #makeLimiter(op: OperationName, rps: number): Promise<SharedLimiter> {
    const id = this.limiterId(op);
    const aimdKey = `${id}:aimd`;
    const reply = await this.#redis.shadowfleetAimd(
      aimdKey,
      `${aimdKey}:batches`,
      'init',
      String(this.#o.now()),
      String(rps),
      ...this.#aimdArgs(op, true),
    );
    const shared = Number(reply[0]);
    const ceiling = Number(reply[1]);
    const maxBatch = Number(reply[4]);
    const options = {
      id,
      datastore: 'ioredis',
      connection: this.#connection,
      clearDatastore: false,
      maxConcurrent: null,
      minTime: 0,
      // Starts full: one burst at once, then the refill rate rules. Kept by the first limiter only.
      reservoir: this.#capacity(shared, maxBatch),
      ...this.#settings(shared, maxBatch),
      timeout: this.#keyTtlMs,
      // Wakes waiting takes when the bucket refills (bottleneck's default is 5 s).
      heartbeatInterval: this.#heartbeatMs,
    } as Bottleneck.ConstructorOptions;
    const limiter = new Bottleneck(options);
    limiter.on('error', (err: Error) => this.#warn(err));
    await this.#failFast(limiter.ready());
    const s: SharedLimiter = {
      limiter,
      aimdKey,
      ceiling,
      rate: shared,
      maxBatch,
      granted: 0,
      throttles: 0,
      decreases: 0,
      deciding: false,
      waiting: [],
      wanted: 0,
      queued: 0,
      pool: 0,
      lastTakeAt: this.#o.now(),
    };
    // A gate that made the AIMD record sets the limiter too (another job may have left other settings).
    // This gate set the rate: the shared limiter follows, and keeps at most the new rate's own burst.
    if (Number(reply[2]) === 1) await this.#apply(s, this.#capacity(shared, 1));
    this.#limiters.set(op, s);
    this.#pending.delete(op);
    return s;
  }

  /** `active`: this gate takes permits for `op` now (a take pending or done in the last seconds). */
  #aimdArgs(op: OperationName, active: boolean): string[] {
    const o = this.#o;
    return [
      String(o.decreaseFactor),
      String(o.decreaseCooldownMs),
      String(o.increaseShare),
      String(o.minShare),
      String(active ? this.batchSize(op) : 0),
      this.#gateId,
    ];
  }

  readonly #gateId = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

  /** `force`: apply the shared settings even when no change calls for it (a re-created bucket). */
  async #aimd(
    op: OperationName,
    s: SharedLimiter,
    mode: 'throttle' | 'sync' | 'set',
    rps?: number,
    force = false,
  ): Promise<void> {
    const active = s.waiting.length > 0 || s.queued > 0 || this.#o.now() - s.lastTakeAt < 3000;
    const reply = await this.#redis.shadowfleetAimd(
      s.aimdKey,
      `${s.aimdKey}:batches`,
      mode,
      String(this.#o.now()),
      String(rps ?? s.ceiling),
      ...this.#aimdArgs(op, active),
    );
    const before = s.rate;
    s.rate = Number(reply[0]);
    s.ceiling = Number(reply[1]);
    s.maxBatch = Number(reply[4]);
    if (Number(reply[3]) === 1) s.decreases += 1;
    if (Number(reply[2]) !== 1 && !force) return;
    // A new rate keeps at most its own burst in the bucket; a smaller batch floor at most the new capacity.
    await this.#apply(s, s.rate === before ? this.#capacity(s.rate, s.maxBatch) : this.#capacity(s.rate, 1));
  }

  /**
   * Applies this process's view of the shared rate and batch floor to the shared limiter, and
   * trims the bucket to `most` permits. The burst's floor (the largest chunk of the gates
   * taking permits) lets the bucket fill up to a large chunk at a low rate; a bucket left full
   * by an earlier job at a higher rate or with larger chunks must not be handed out as one
   * burst at the new rate (measured: 100 permits at once at 10/s, four times the rate over 3 s).
   */
  async #apply(s: SharedLimiter, most: number): Promise<void> {
    const settings = this.#settings(s.rate, s.maxBatch);
    const level = (await s.limiter.currentReservoir()) ?? 0;
    if (level > most) Object.assign(settings, { reservoir: most });
    await s.limiter.updateSettings(settings);
  }

  #lastError: Error | undefined;

  /** A passing error (a reconnect, a failed heartbeat): reported, not fatal. */
  #warn(err: Error): void {
    this.#lastError = err;
    this.#onWarning?.(`shared rate gate on ${redactRedisUrl(this.#url)}: ${err?.message ?? String(err)}`);
  }

  #fail(err: Error): void {
    if (this.#closed || this.#failure !== undefined) return;
    this.#failure = new ConfigError(
      `Redis at ${redactRedisUrl(this.#url)} failed under the shared rate gate: ${err?.message ?? String(err)}`,
      { cause: err },
    );
    for (const reject of this.#waiters.splice(0)) reject(this.#failure);
  }

  #waiters: Array<(e: Error) => void> = [];

  /** `p`, or the gate's failure as soon as Redis fails (a take never hangs on a dead Redis). */
  #failFast<T>(p: Promise<T>): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      const onFail = (e: Error): void => reject(e);
      this.#waiters.push(onFail);
      const forget = (): void => {
        const i = this.#waiters.indexOf(onFail);
        if (i !== -1) this.#waiters.splice(i, 1);
      };
      p.then(
        (v) => {
          forget();
          resolve(v);
        },
        (e: unknown) => {
          forget();
          reject(e);
        },
      );
    });
  }
}
