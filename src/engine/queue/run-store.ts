/**
 * Run records in Redis: what `status`, `attach` and `cancel` read and write from any host.
 *
 * What is kept where:
 * - Redis (this record): the run's identity (kind, spec identity, submitter), its state, how
 *   many batches and things were queued, and counts of what workers reported (each batch counted
 *   once even when a stalled batch runs twice), per worker too. The queue beside it holds the
 *   batches not yet collected, with their results once done.
 * - The submitting process's journal: every per-thing result it has collected (the exact
 *   report is built from it; the Redis counts are for following a run from elsewhere).
 * This machine's Redis keeps nothing on disk: a Redis restart loses queued batches and these
 * records. That is a documented limit; a resumed run (the journal) redoes what was lost, and
 * version guards and clientTokens make the repeat safe.
 */
import type { Redis } from 'ioredis';
import type { ItemResult } from '../task-types.js';
import type { QueueNames } from './queue-names.js';

export type RunState = 'running' | 'done' | 'failed' | 'cancelled';

export interface RunRecordInit {
  kind: string;
  /** What identifies the job's spec (e.g. the journal's spec hash). */
  identity?: string;
  /** Free-form JSON about the job (e.g. the command line), for status. */
  detail?: unknown;
}

export interface WorkerThroughput {
  worker: string;
  items: number;
  batches: number;
  busyMs: number;
  /** Things per second between this worker's first and last reported batch. */
  itemsPerSecond: number;
  lastSeenAt: number;
}

export interface RunStatus {
  id: string;
  kind: string;
  identity: string | undefined;
  detail: unknown;
  state: RunState;
  createdAt: number;
  updatedAt: number;
  submitter: string;
  /** When the submitter last showed it is alive (every sweep, about once a second). */
  submitterSeenAt: number;
  /** Batches and things put on the queue so far. */
  batches: number;
  items: number;
  /** True once every target has been queued. */
  sourceDone: boolean;
  /** Things reported by workers (each batch once). */
  done: number;
  failed: number;
  requests: number;
  throttles: number;
  byOutcome: Record<string, number>;
  workers: WorkerThroughput[];
}

// KEYS: run, counted, workers. ARGV: seq, worker, now, busyMs, items, failed, requests, throttles, ttl (s), then outcome/count pairs.
// One script per batch: the counts and the expiry of the keys it writes (one Redis call).
const RECORD_LUA = `
local first = redis.call('hsetnx', KEYS[2], ARGV[1], 1)
redis.call('expire', KEYS[2], ARGV[9])
if first == 0 then return 0 end
local w = ARGV[2]
redis.call('hincrby', KEYS[1], 'done', ARGV[5])
redis.call('hincrby', KEYS[1], 'failed', ARGV[6])
redis.call('hincrby', KEYS[1], 'requests', ARGV[7])
redis.call('hincrby', KEYS[1], 'throttles', ARGV[8])
redis.call('hset', KEYS[1], 'updatedAt', ARGV[3])
for i = 10, #ARGV, 2 do redis.call('hincrby', KEYS[1], 'outcome:' .. ARGV[i], ARGV[i + 1]) end
redis.call('hincrby', KEYS[3], w .. '|items', ARGV[5])
redis.call('hincrby', KEYS[3], w .. '|batches', 1)
redis.call('hincrby', KEYS[3], w .. '|busyMs', ARGV[4])
redis.call('hsetnx', KEYS[3], w .. '|first', tonumber(ARGV[3]) - tonumber(ARGV[4]))
redis.call('hset', KEYS[3], w .. '|last', ARGV[3])
redis.call('expire', KEYS[3], ARGV[9])
return 1
`;

type RecordRedis = Redis & {
  shadowfleetRecordBatch(k1: string, k2: string, k3: string, ...args: string[]): Promise<number>;
};

/** Run records keep for a week after their last change. */
const RECORD_TTL_S = 7 * 24 * 3600;

export class RunStore {
  readonly names: QueueNames;
  #redis: RecordRedis;

  constructor(redis: Redis, names: QueueNames) {
    this.names = names;
    this.#redis = redis as RecordRedis;
    if (typeof this.#redis.shadowfleetRecordBatch !== 'function')
      this.#redis.defineCommand('shadowfleetRecordBatch', { numberOfKeys: 3, lua: RECORD_LUA });
  }

  async create(runId: string, init: RunRecordInit, submitter: string, now = Date.now()): Promise<void> {
    const key = this.names.run(runId);
    await this.#redis
      .multi()
      .hset(key, {
        id: runId,
        kind: init.kind,
        identity: init.identity ?? '',
        detail: JSON.stringify(init.detail ?? null),
        state: 'running',
        createdAt: now,
        updatedAt: now,
        submitter,
        batches: 0,
        items: 0,
        sourceDone: 0,
        done: 0,
        failed: 0,
        requests: 0,
        throttles: 0,
      })
      .expire(key, RECORD_TTL_S)
      .zadd(this.names.runs(), now, runId)
      .exec();
  }

  async exists(runId: string): Promise<boolean> {
    return (await this.#redis.exists(this.names.run(runId))) === 1;
  }

  /** Reserves the next batch number and counts its things; returns the batch's seq. */
  async nextBatch(runId: string, items: number): Promise<number> {
    const key = this.names.run(runId);
    const r = await this.#redis
      .multi()
      .hincrby(key, 'batches', 1)
      .hincrby(key, 'items', items)
      .expire(key, RECORD_TTL_S)
      .exec();
    return Number(r?.[0]?.[1]) - 1;
  }

  async setSubmitter(runId: string, submitter: string): Promise<void> {
    const now = Date.now();
    await this.#redis.hset(this.names.run(runId), 'submitter', submitter, 'updatedAt', now, 'submitterSeenAt', now);
  }

  async markSourceDone(runId: string): Promise<void> {
    await this.#redis.hset(this.names.run(runId), 'sourceDone', 1);
  }

  async setState(runId: string, state: RunState): Promise<void> {
    await this.#redis.hset(this.names.run(runId), 'state', state, 'updatedAt', Date.now());
  }

  async state(runId: string): Promise<RunState | undefined> {
    const s = await this.#redis.hget(this.names.run(runId), 'state');
    return s === null ? undefined : (s as RunState);
  }

  /** Counts a finished batch once (a batch taken again after a stall is not counted twice). */
  async recordBatch(
    runId: string,
    seq: number,
    worker: string,
    results: ItemResult[],
    busyMs: number,
    now = Date.now(),
  ): Promise<boolean> {
    let failed = 0;
    let requests = 0;
    let throttles = 0;
    const outcomes = new Map<string, number>();
    for (const r of results) {
      if (r.error !== undefined) failed += 1;
      requests += r.requests;
      throttles += r.throttles;
      outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    }
    const args = [
      String(seq),
      worker,
      String(now),
      String(Math.round(busyMs)),
      String(results.length),
      String(failed),
      String(requests),
      String(throttles),
      String(RECORD_TTL_S),
    ];
    for (const [o, n] of outcomes) args.push(o, String(n));
    const n = await this.#redis.shadowfleetRecordBatch(
      this.names.run(runId),
      this.names.runCounted(runId),
      this.names.runWorkers(runId),
      ...args,
    );
    return n === 1;
  }

  async status(runId: string): Promise<RunStatus | undefined> {
    const [rec, workers] = await Promise.all([
      this.#redis.hgetall(this.names.run(runId)),
      this.#redis.hgetall(this.names.runWorkers(runId)),
    ]);
    if (rec.id === undefined) return undefined;
    const byOutcome: Record<string, number> = {};
    for (const [k, v] of Object.entries(rec)) if (k.startsWith('outcome:')) byOutcome[k.slice(8)] = Number(v);
    const ws = new Map<string, Record<string, number>>();
    for (const [k, v] of Object.entries(workers)) {
      const i = k.lastIndexOf('|');
      const w = k.slice(0, i);
      const m = ws.get(w) ?? {};
      m[k.slice(i + 1)] = Number(v);
      ws.set(w, m);
    }
    const list: WorkerThroughput[] = [...ws].map(([worker, m]) => {
      const span = Math.max(1, (m.last ?? 0) - (m.first ?? 0));
      return {
        worker,
        items: m.items ?? 0,
        batches: m.batches ?? 0,
        busyMs: m.busyMs ?? 0,
        itemsPerSecond: ((m.items ?? 0) * 1000) / span,
        lastSeenAt: m.last ?? 0,
      };
    });
    list.sort((a, b) => a.worker.localeCompare(b.worker));
    let detail: unknown = null;
    try {
      detail = JSON.parse(rec.detail ?? 'null');
    } catch {
      detail = rec.detail;
    }
    return {
      id: rec.id,
      kind: rec.kind ?? '',
      identity: rec.identity === '' || rec.identity === undefined ? undefined : rec.identity,
      detail,
      state: (rec.state ?? 'running') as RunState,
      createdAt: Number(rec.createdAt),
      updatedAt: Number(rec.updatedAt),
      submitter: rec.submitter ?? '',
      submitterSeenAt: Number(rec.submitterSeenAt ?? rec.createdAt),
      batches: Number(rec.batches ?? 0),
      items: Number(rec.items ?? 0),
      sourceDone: rec.sourceDone === '1',
      done: Number(rec.done ?? 0),
      failed: Number(rec.failed ?? 0),
      requests: Number(rec.requests ?? 0),
      throttles: Number(rec.throttles ?? 0),
      byOutcome,
      workers: list,
    };
  }

  /** Run ids, newest first. */
  async list(limit = 20): Promise<string[]> {
    return this.#redis.zrevrange(this.names.runs(), 0, limit - 1);
  }

  /** Tells workers and followers that `runId` is cancelled. */
  async publishCancel(runId: string): Promise<void> {
    await this.setState(runId, 'cancelled');
    await this.#redis.publish(this.names.control(), `cancel ${runId}`);
  }

  /** Deletes the run's records (after its submitter has everything). */
  async forget(runId: string): Promise<void> {
    await this.#redis.multi().del(this.names.runCounted(runId)).exec();
  }
}
