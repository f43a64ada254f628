/**
 * Distributed jobs end to end on the real Redis (127.0.0.1:6379): `shadowfleet worker`
 * processes and a `shadowfleet rollout --redis` submitter against one emulator; a worker killed
 * mid-run; the submitter killed and the job taken over by `attach`; two jobs on one account
 * sharing its quota.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { openRedis, REDIS_URL } from '../engine/queue/redis-fixture.js';
import { CliProcesses, type CliProc, deleteQueueKeys, testQueue } from './cli-processes.js';
import { ROOT } from './spawn-cli.js';

const QUEUE = testQueue('cli');

const processes = new CliProcesses();

function cli(args: string[], cwd: string): CliProc {
  return processes.start([...args, '--redis', REDIS_URL, '--queue', QUEUE], { cwd });
}

let emulator: Emulator;
let admin: Redis;
let dir: string;
const workers: CliProc[] = [];

function startWorker(id: string): CliProc {
  const w = cli(['worker', '--id', id, '--lock-ms', '3000', '--concurrency', '2'], ROOT);
  workers.push(w);
  return w;
}

async function targets(name: string, n: number): Promise<string> {
  const file = join(dir, `${name}.txt`);
  await writeFile(file, Array.from({ length: n }, (_, i) => `${name}-${i}`).join('\n') + '\n');
  return file;
}

async function outcomes(file: string): Promise<Map<string, string>> {
  const lines = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { thing: string; outcome: string });
  const m = new Map<string, string>();
  for (const l of lines) {
    expect(m.has(l.thing), `${l.thing} reported twice`).toBe(false);
    m.set(l.thing, l.outcome);
  }
  return m;
}

beforeAll(async () => {
  admin = await openRedis();
  emulator = await startEmulator({ quotas: 'off' });
  dir = await mkdtemp(join(tmpdir(), 'sf-distributed-'));
  for (const id of ['w1', 'w2', 'w3']) startWorker(id);
  await Promise.all(workers.map((w) => w.waitErr(/"worker started"/)));
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await emulator?.close();
  await deleteQueueKeys(admin, QUEUE, [emulator?.url]);
  admin?.disconnect();
  await rm(dir, { recursive: true, force: true });
});

// Several CLI processes start (tsx compiles each): generous timeouts for a busy machine.
describe('shadowfleet rollout --redis with shadowfleet worker processes', { timeout: 240_000 }, () => {
  it('runs a rollout on three worker processes: exit 0, every thing written once, per-worker throughput in status', async () => {
    const things = await targets('three', 300);
    const report = join(dir, 'three.ndjson');
    const sub = cli(
      [
        'rollout',
        '--endpoint',
        emulator.url,
        '--things',
        things,
        '--set',
        '{"fw":"3"}',
        '--journal',
        join(dir, 'three.journal'),
        '--report',
        report,
        '--yes',
      ],
      dir,
    );
    const [, id] = await sub.waitErr(/job (\S+) runs on queue/);
    expect(await sub.exited).toBe(0);
    const m = await outcomes(report);
    expect(m.size).toBe(300);
    // 'unchanged' only when a busy machine let a lock lapse and a batch ran twice (the repeat finds it written).
    expect([...m.values()].every((o) => o === 'written' || o === 'unchanged')).toBe(true);
    const status = cli(['status', id as string, '--json'], dir);
    expect(await status.exited).toBe(0);
    const s = JSON.parse(status.stdout) as { state: string; done: number; workers: Array<{ items: number }> };
    expect(s.state).toBe('done');
    expect(s.done).toBe(300);
    expect(s.workers.reduce((a, w) => a + w.items, 0)).toBe(300);
  });

  it('finishes when a worker is killed mid-batch: its batch is taken again and each thing is reported once', async () => {
    const things = await targets('kill', 120);
    const report = join(dir, 'kill.ndjson');
    // 40 requests/s: batches take seconds, so a worker is surely holding one when killed.
    const sub = cli(
      [
        'rollout',
        '--endpoint',
        emulator.url,
        '--things',
        things,
        '--set',
        '{"fw":"k"}',
        '--rate',
        '40',
        '--batch-size',
        '20',
        '--journal',
        join(dir, 'kill.journal'),
        '--report',
        report,
        '--yes',
      ],
      dir,
    );
    const [, id] = await sub.waitErr(/job (\S+) runs on queue/);
    const live = workers.filter((w) => w.child.exitCode === null);
    const holder = await Promise.race(
      live.map((w) => w.waitErr(new RegExp(`"batch started","batch":"${id}\\.`)).then(() => w)),
    );
    holder.child.kill('SIGKILL');
    await holder.exited;
    startWorker('w4');
    expect(await sub.exited).toBe(0);
    const m = await outcomes(report);
    expect(m.size).toBe(120);
    // A thing the killed worker had written reads back unchanged when its batch runs again.
    expect([...m.values()].every((o) => o === 'written' || o === 'unchanged')).toBe(true);
    const taken = workers.some((w) => new RegExp(`"batch started","batch":"${id}\\.\\d+".*"attempt":2`).test(w.stderr));
    expect(taken).toBe(true);
  });

  it('goes on when the submitter is killed, and attach takes the job over: one exact report', async () => {
    const things = await targets('attach', 200);
    const report = join(dir, 'attach.ndjson');
    const journal = join(dir, 'attach.journal');
    const sub = cli(
      [
        'rollout',
        '--endpoint',
        emulator.url,
        '--things',
        things,
        '--set',
        '{"fw":"a"}',
        '--rate',
        '40',
        '--batch-size',
        '20',
        '--journal',
        journal,
        '--report',
        report,
        '--yes',
      ],
      dir,
    );
    const [, id] = await sub.waitErr(/job (\S+) runs on queue/);
    // Killed once some results are in its journal and more batches are on the queue.
    await sub.waitErr(/rollout write: [1-9]\d*\/200/);
    sub.child.kill('SIGKILL');
    await sub.exited;
    const att = cli(['attach', id as string, '--stale-ms', '3000'], dir);
    await att.waitErr(/taking the job over/);
    expect(await att.exited).toBe(0);
    const m = await outcomes(report);
    expect(m.size).toBe(200);
    expect([...m.values()].every((o) => o === 'written' || o === 'unchanged')).toBe(true);
    const written = [...m.values()].filter((o) => o === 'written').length;
    // Every thing was changed once: adopted batches keep the outcome of their first run.
    expect(written).toBe(200);
  });

  it('detaches: prints the job id at once, the job runs on and attach follows it to its end', async () => {
    const things = await targets('detach', 100);
    const report = join(dir, 'detach.ndjson');
    const sub = cli(
      [
        'rollout',
        '--endpoint',
        emulator.url,
        '--things',
        things,
        '--set',
        '{"fw":"d"}',
        '--journal',
        join(dir, 'detach.journal'),
        '--report',
        report,
        '--yes',
        '--detach',
      ],
      dir,
    );
    expect(await sub.exited).toBe(0);
    const id = sub.stdout.trim();
    expect(id).toMatch(/^[a-z0-9]+$/);
    const att = cli(['attach', id], dir);
    expect(await att.exited).toBe(0);
    expect(att.stdout).toMatch(/state\s+done/);
    expect((await outcomes(report)).size).toBe(100);
  });

  it('refuses an unreachable Redis (naming the URL) and --detach without Redis, with exit 2, before the job starts', async () => {
    const plain = async (extra: string[]): Promise<{ code: unknown; err: string }> => {
      // Not on the queue: without the environment's SHADOWFLEET_REDIS (undefined: not passed on).
      const p = await processes.run(
        ['rollout', '--endpoint', emulator.url, '--things', 'x.txt', '--set', '{}', ...extra],
        { cwd: dir, env: { SHADOWFLEET_REDIS: undefined } },
      );
      return { code: p.code, err: p.stderr };
    };
    const unreachable = await plain(['--redis', 'redis://127.0.0.1:1']);
    expect(unreachable.code).toBe(2);
    expect(unreachable.err).toContain('Redis at redis://127.0.0.1:1 is unreachable');
    const detached = await plain(['--detach']);
    expect(detached.code).toBe(2);
    expect(detached.err).toContain('--detach needs --redis URL');
  });

  it('holds two jobs on one account to one shared quota', async () => {
    // A low rate, so that even a busy machine's three workers would exceed one quota if each
    // process or job had a bucket of its own.
    const rate = 10;
    const [a, b] = await Promise.all([targets('share-a', 120), targets('share-b', 120)]);
    const samples: Array<{ t: number; n: number }> = [];
    const timer = setInterval(
      () => samples.push({ t: performance.now(), n: emulator.stats().operations.UpdateThingShadow.requests }),
      100,
    );
    const j1 = cli(
      [
        'rollout',
        '--endpoint',
        emulator.url,
        '--things',
        a as string,
        '--set',
        '{"fw":"s"}',
        '--rate',
        String(rate),
        '--batch-size',
        '20',
        '--journal',
        join(dir, 'sa.journal'),
        '--report',
        join(dir, 'sa.ndjson'),
        '--yes',
      ],
      dir,
    );
    const j2 = cli(
      [
        'rollout',
        '--endpoint',
        emulator.url,
        '--things',
        b as string,
        '--set',
        '{"fw":"s"}',
        '--rate',
        String(rate),
        '--batch-size',
        '20',
        '--journal',
        join(dir, 'sb.journal'),
        '--report',
        join(dir, 'sb.ndjson'),
        '--yes',
      ],
      dir,
    );
    expect(await j1.exited).toBe(0);
    expect(await j2.exited).toBe(0);
    clearInterval(timer);
    expect((await outcomes(join(dir, 'sa.ndjson'))).size).toBe(120);
    expect((await outcomes(join(dir, 'sb.ndjson'))).size).toBe(120);
    // Every 3 s window: at most the one quota (plus the burst), never one quota per job.
    let max = 0;
    for (let i = 0; i < samples.length; i++) {
      const j = samples.findIndex((s) => s.t >= samples[i]!.t + 3000);
      if (j < 0) break;
      max = Math.max(max, ((samples[j]!.n - samples[i]!.n) * 1000) / (samples[j]!.t - samples[i]!.t));
    }
    expect(max).toBeLessThanOrEqual(rate * 1.25);
  });
});
