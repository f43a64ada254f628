import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { connectRedis, RedisCallCounter } from '../../../src/engine/queue/redis-connection.js';
import { gateAccountKey, RedisRateGate, type RedisRateGateOptions } from '../../../src/engine/queue/redis-rate-gate.js';
import { deleteKeys, openRedis, REDIS_URL, uniquePrefix } from './redis-fixture.js';

const OP = 'UpdateThingShadow' as const;
const ACCOUNT = 'http://127.0.0.1:8443';

let admin: Redis;
const cleanup: Array<() => Promise<void>> = [];
beforeAll(async () => {
  admin = await openRedis();
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
afterAll(() => admin?.disconnect());

/** A gate on its own connection (as another process would have). */
async function gate(
  prefix: string,
  options: Partial<RedisRateGateOptions> = {},
): Promise<{ gate: RedisRateGate; counter: RedisCallCounter }> {
  const counter = new RedisCallCounter();
  const redis = await connectRedis(REDIS_URL, { counter });
  const g = new RedisRateGate({ redis, redisUrl: REDIS_URL, account: ACCOUNT, prefix, accountRps: 100, ...options });
  cleanup.push(async () => {
    await g.close();
    redis.disconnect();
    await deleteKeys(admin, prefix);
  });
  return { gate: g, counter };
}

/** Takes batches from `g` with `loops` takers until `until()` holds. */
async function drain(g: RedisRateGate, loops: number, until: () => boolean): Promise<void> {
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (!until()) await g.take(OP, g.batchSize(OP));
    }),
  );
}

describe('RedisRateGate', () => {
  it('keys one limiter per account host and operation', async () => {
    const prefix = uniquePrefix('gate-key');
    const { gate: g } = await gate(prefix);
    expect(gateAccountKey('https://ABC-ats.iot.us-east-1.amazonaws.com/')).toBe('abc-ats.iot.us-east-1.amazonaws.com');
    expect(g.limiterId(OP)).toBe(`${prefix}:gate:127.0.0.1:8443:UpdateThingShadow`);
    await g.take(OP, 1);
    expect(await admin.exists(`b_${g.limiterId(OP)}_settings`)).toBe(1);
  });

  it('gives two gates on separate connections one shared bucket: together they get the rate once, not twice', async () => {
    const prefix = uniquePrefix('gate-share');
    const a = await gate(prefix);
    const b = await gate(prefix);
    const rate = 100;
    const started = Date.now();
    // Wait for a state, not a time: both gates have been served and 30 bursts went out (about 3 s at the
    // shared rate; two separate buckets would get there in half the time, over the bound below).
    const enough = (): boolean =>
      a.gate.stats().granted > 0 &&
      b.gate.stats().granted > 0 &&
      a.gate.stats().granted + b.gate.stats().granted >= 300;
    await Promise.all([drain(a.gate, 4, enough), drain(b.gate, 4, enough)]);
    const elapsedS = (Date.now() - started) / 1000;
    const total = a.gate.stats().granted + b.gate.stats().granted;
    // One bucket: the initial burst (10) + the rate over the window + one refill and the takes in flight at the end.
    const bound = 10 + rate * elapsedS + 5 + 8 * a.gate.batchSize(OP);
    expect(total).toBeLessThanOrEqual(bound);
    expect(a.gate.stats().granted).toBeGreaterThan(0);
    expect(b.gate.stats().granted).toBeGreaterThan(0);
  });

  it('hands permits out in weighted batches: fewer Redis calls than permits', async () => {
    const prefix = uniquePrefix('gate-calls');
    const { gate: g, counter } = await gate(prefix, { accountRps: 1000 });
    expect(g.batchSize(OP)).toBe(50);
    await g.take(OP, 1); // the limiter is set up (init, register, subscribe) before counting
    const before = counter.calls;
    const granted0 = g.stats().granted;
    await drain(g, 4, () => g.stats().granted - granted0 >= 500);
    const permits = g.stats().granted - granted0;
    const calls = counter.calls - before;
    expect(calls).toBeLessThan(permits / 5);
  });

  it('slows the shared rate on a 429 and every gate on the account sees it; a burst of 429s is one decrease', async () => {
    const prefix = uniquePrefix('gate-aimd');
    let t = 1_000_000;
    const now = (): number => t;
    const a = await gate(prefix, { accountRps: 1000, now, decreaseCooldownMs: 1000, increaseShare: 0.05 });
    const b = await gate(prefix, { accountRps: 1000, now });
    await a.gate.take(OP, 1);
    expect(await b.gate.sharedRate(OP)).toBe(1000);
    a.gate.throttled(OP);
    a.gate.throttled(OP);
    // The decision is asynchronous: wait for the shared rate to move.
    while ((await b.gate.sharedRate(OP)) === 1000) await new Promise((r) => setTimeout(r, 10));
    expect(await b.gate.sharedRate(OP)).toBe(700);
    // The gate that decided applies it to the shared limiter right after: wait for that state.
    const amount = async (): Promise<number> =>
      Number(await admin.hget(`b_${a.gate.limiterId(OP)}_settings`, 'reservoirIncreaseAmount'));
    while ((await amount()) === 1000 * 0.05) await new Promise((r) => setTimeout(r, 10));
    expect(await amount()).toBeCloseTo(700 * 0.05, 6);
    // Another 429 inside the cooldown, from the other gate: no second decrease.
    b.gate.throttled(OP);
    await b.gate.sync();
    expect(await a.gate.sharedRate(OP)).toBe(700);
    expect(await admin.hget(`${a.gate.limiterId(OP)}:aimd`, 'decreases')).toBe('1');
    // Recovery: 5% of the ceiling per second after the cooldown, applied to the shared limiter.
    t += 3000;
    await a.gate.sync();
    expect(await b.gate.sharedRate(OP)).toBeCloseTo(800, 6);
    const after = await admin.hgetall(`b_${a.gate.limiterId(OP)}_settings`);
    expect(Number(after.reservoirIncreaseAmount)).toBeCloseTo(800 * 0.05, 6);
  });

  it("lets a gate started with another rate set the account's shared rate (the job started last wins)", async () => {
    const prefix = uniquePrefix('gate-ceiling');
    const a = await gate(prefix, { accountRps: 1000 });
    await a.gate.take(OP, 1);
    const b = await gate(prefix, { accountRps: 400 });
    await b.gate.take(OP, 1);
    expect(await a.gate.sharedRate(OP)).toBe(400);
    const settings = await admin.hgetall(`b_${a.gate.limiterId(OP)}_settings`);
    expect(Number(settings.reservoirIncreaseAmount)).toBeCloseTo(400 * 0.05, 6);
    expect(Number(settings.reservoir)).toBeLessThanOrEqual(40);
  });

  it("still grants a gate's larger permit batches after another gate set a lower rate (the burst keeps the largest batch)", async () => {
    const prefix = uniquePrefix('gate-maxbatch');
    const a = await gate(prefix, { accountRps: 400 });
    expect(a.gate.batchSize(OP)).toBe(20);
    await a.gate.take(OP, 1);
    const b = await gate(prefix, { accountRps: 40 });
    expect(b.gate.batchSize(OP)).toBe(2);
    await b.gate.take(OP, 1);
    expect(await a.gate.sharedRate(OP)).toBe(40);
    // With the burst at the lower rate's own size (4), a take of 20 could never be granted.
    expect(await a.gate.take(OP, 20)).toBe(20);
    expect(Number(await admin.hget(`b_${a.gate.limiterId(OP)}_settings`, 'reservoirIncreaseMaximum'))).toBe(20);
  });

  /** Collects the gate's warnings; `first` rejects with the first one (a take that would retry for ever fails at once). */
  function warnings(): { list: string[]; onWarning: (m: string) => void; first: Promise<never> } {
    const list: string[] = [];
    let fail: (m: string) => void = () => undefined;
    const first = new Promise<never>((_, reject) => {
      fail = (m) => reject(new Error(m));
    });
    first.catch(() => undefined);
    const onWarning = (m: string): void => {
      list.push(m);
      fail(m);
    };
    return { list, first, onWarning };
  }

  it('keeps granting after Redis dropped its client registration (bottleneck re-registers it, on Redis 7 too)', async () => {
    const prefix = uniquePrefix('gate-client');
    const w = warnings();
    const { gate: g } = await gate(prefix, { onWarning: w.onWarning });
    await g.take(OP, 1);
    const id = g.limiterId(OP);
    // What bottleneck's process_tick does to a client not seen for clientTimeout (10 s).
    await admin.del(
      `b_${id}_client_last_seen`,
      `b_${id}_client_running`,
      `b_${id}_client_num_queued`,
      `b_${id}_client_last_registered`,
    );
    const granted0 = g.stats().granted;
    await Promise.race([drain(g, 2, () => g.stats().granted - granted0 >= 30), w.first]);
    expect(w.list).toEqual([]);
    expect(await admin.zcard(`b_${id}_client_last_seen`)).toBe(1);
  });

  it("re-creates a lost bucket empty at the account's shared rate, not at the rate the gate started with", async () => {
    const prefix = uniquePrefix('gate-settings');
    const w = warnings();
    const a = await gate(prefix, { accountRps: 1000, onWarning: w.onWarning });
    await a.gate.take(OP, 1);
    // Another job sets the account's rate to 100/s and applies it; `a` sees it but did not apply it itself.
    const b = await gate(prefix, { accountRps: 100 });
    await b.gate.take(OP, 1);
    expect(await a.gate.sharedRate(OP)).toBe(100);
    const id = a.gate.limiterId(OP);
    await admin.del(`b_${id}_settings`); // expired or deleted while the job runs
    const granted0 = a.gate.stats().granted;
    const started = Date.now();
    await Promise.race([drain(a.gate, 2, () => a.gate.stats().granted - granted0 >= 200), w.first]);
    const elapsedS = (Date.now() - started) / 1000;
    const granted = a.gate.stats().granted - granted0;
    // The permits `a` had left (< one chunk), the shared rate over the window, the last chunk and one refill.
    const k = a.gate.batchSize(OP);
    expect(granted).toBeLessThanOrEqual(k + 100 * elapsedS + k + 5);
    expect(w.list).toEqual([]);
    const settings = await admin.hgetall(`b_${id}_settings`);
    expect(Number(settings.reservoirIncreaseAmount)).toBeCloseTo(100 * 0.05, 6);
    expect(Number(settings.reservoirIncreaseMaximum)).toBe(k);
  });

  it('fails fast with an error naming the URL when Redis is unreachable', async () => {
    const url = 'redis://127.0.0.1:1';
    const err = await connectRedis(url, { connectTimeoutMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('Redis at redis://127.0.0.1:1 is unreachable');
  });
});
