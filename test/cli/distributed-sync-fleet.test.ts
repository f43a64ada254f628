/**
 * sync, plan, apply and drift on the real Redis (127.0.0.1:6379) with two `shadowfleet worker`
 * processes, against emulators on port 0: each command line is one job id on the queue however
 * many JobRuns it opens (sync: the source's reads and the destination's writes), and --detach,
 * status, attach and cancel work on it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { openRedis, REDIS_URL } from '../engine/queue/redis-fixture.js';
import { CliProcesses, type CliProc, deleteGateKeys, deleteQueueKeys, testQueue } from './cli-processes.js';

const QUEUE = testQueue('syncq');

const processes = new CliProcesses();
const ENV = {
  SHADOWFLEET_ENDPOINT: '',
  AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
  AWS_SECRET_ACCESS_KEY: 'local-secret',
  NO_COLOR: '1',
};

function cli(args: string[]): CliProc {
  return processes.start([...args, '--redis', REDIS_URL, '--queue', QUEUE], { cwd: dir, env: ENV });
}

/** Runs a command to its end. */
function run(args: string[]): Promise<CliProc & { code: number | null }> {
  return processes.run([...args, '--redis', REDIS_URL, '--queue', QUEUE], { cwd: dir, env: ENV });
}

/** The job ids a submitter announced on stderr. */
function jobIds(stderr: string): string[] {
  return [...stderr.matchAll(/job (\S+) runs on queue/g)].map((m) => m[1] as string);
}

let source: Emulator;
let dest: Emulator;
let admin: Redis;
let dir: string;
const workers: CliProc[] = [];

/** Every shadow of `from` (classic and named) is in `to` with the same desired and reported state. */
function expectMirrored(from: Emulator, to: Emulator): number {
  let n = 0;
  const { names } = from.store.listThings(0, 100_000);
  for (const thing of names) {
    for (const shadow of [undefined, ...from.store.namedShadows(thing)]) {
      const a = from.store.get(thing, shadow);
      const b = to.store.get(thing, shadow);
      expect(b?.state, `${thing}/${shadow ?? 'classic'}`).toEqual(a?.state);
      n += 1;
    }
  }
  return n;
}

async function runsOnQueue(): Promise<string[]> {
  return admin.zrange(`shadowfleet:${QUEUE}:runs`, 0, -1);
}

beforeAll(async () => {
  admin = await openRedis();
  source = await startEmulator({ port: 0, quotas: 'off' });
  dest = await startEmulator({ port: 0, quotas: 'off' });
  dir = await mkdtemp(join(tmpdir(), 'sf-distributed-sync-'));
  for (let i = 0; i < 240; i++) {
    source.store.update(`m-${i}`, undefined, { state: { desired: { v: i, mode: 'a' }, reported: { v: i - 1 } } });
    if (i % 4 === 0)
      source.store.update(`m-${i}`, 'config', { state: { desired: { level: i % 7 }, reported: { level: 0 } } });
  }
  // The destination already holds some of it, some of it differently.
  for (let i = 0; i < 240; i += 10)
    dest.store.update(`m-${i}`, undefined, { state: { desired: { v: -1, stale: true }, reported: { v: i - 1 } } });
  for (const id of ['w1', 'w2']) {
    const w = cli(['worker', '--id', id, '--lock-ms', '3000', '--concurrency', '2']);
    workers.push(w);
  }
  await Promise.all(workers.map((w) => w.waitErr(/"worker started"/)));
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await Promise.all([source?.close(), dest?.close()]);
  await deleteQueueKeys(admin, QUEUE, [source?.url, dest?.url]);
  admin?.disconnect();
  await rm(dir, { recursive: true, force: true });
});

// Several CLI processes start (tsx compiles each): generous timeouts for a busy machine.
describe('sync, plan, apply and drift --redis with two worker processes', { timeout: 300_000 }, () => {
  it('syncs two emulators through the queue as one job: equal document for document, then a second sync writes nothing', async () => {
    const before = await runsOnQueue();
    const sync = await run(['sync', '--from', source.url, '--to', dest.url, '--from-rate', '3000', '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    const ids = jobIds(sync.stderr);
    expect(ids).toHaveLength(1);
    const id = ids[0] as string;
    expect((await runsOnQueue()).filter((r) => !before.includes(r))).toEqual([id]);
    const pass = JSON.parse(sync.stdout.trim());
    expect(pass).toMatchObject({ sourceThings: 240, failed: 0 });
    expect(expectMirrored(source, dest)).toBe(300);

    // Both JobRuns' batches (the source's reads, the destination's writes) ran on the workers under the one id.
    const kinds = new Set<string>();
    for (const w of workers)
      for (const line of w.stderr.split('\n')) {
        if (!line.includes('"batch done"')) continue;
        const e = JSON.parse(line) as { job: string; kind: string };
        if (e.job === id) kinds.add(e.kind);
      }
    expect([...kinds].sort()).toEqual(['snapshot-read', 'sync']);
    const status = await run(['status', id, '--json']);
    const s = JSON.parse(status.stdout) as { state: string; done: number; items: number; failed: number };
    expect(s).toMatchObject({ kind: 'sync', state: 'done', failed: 0 });
    expect(s.done).toBe(s.items);
    // 240 things read on the source and 240 things sent to the destination.
    expect(s.items).toBe(480);

    const again = await run(['sync', '--from', source.url, '--to', dest.url, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout.trim())).toMatchObject({ written: 0, failed: 0 });
  });

  it('applies a fleet file on the queue; applying again writes nothing and drift finds nothing', async () => {
    const fleet = join(dir, 'fleet.yaml');
    await writeFile(
      fleet,
      [
        'fleet: { all: true }',
        'rules:',
        '  - name: rate',
        '    desired: { hz: 5 }',
        '  - name: cfg',
        '    shadow: config',
        '    desired: { level: 3 }',
        '',
      ].join('\n'),
    );
    const plan = await run(['plan', fleet, '--endpoint', dest.url, '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(jobIds(plan.stderr)).toHaveLength(1);
    const toWrite = (JSON.parse(plan.stdout) as { toWrite: number }).toWrite;
    expect(toWrite).toBeGreaterThanOrEqual(300);

    const runs = await runsOnQueue();
    const apply = await run(['apply', fleet, '--endpoint', dest.url, '--json']);
    expect(apply.code, apply.stderr).toBe(0);
    const applyIds = jobIds(apply.stderr);
    expect(applyIds).toHaveLength(1);
    expect((await runsOnQueue()).filter((r) => !runs.includes(r))).toEqual(applyIds);
    expect(JSON.parse(apply.stdout)).toMatchObject({ written: toWrite, failed: 0, ok: true });
    expect(dest.store.get('m-8', 'config')?.state.desired).toEqual({ level: 3 });
    expect(dest.store.get('m-9')?.state.desired).toMatchObject({ hz: 5, v: 9 });

    const again = await run(['apply', fleet, '--endpoint', dest.url, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ written: 0, rollouts: [] });
    const drift = await run(['drift', fleet, '--endpoint', dest.url, '--max-lag', '1h', '--json']);
    expect(drift.code, drift.stderr).toBe(0);
    expect(JSON.parse(drift.stdout)).toMatchObject({ driftedCount: 0 });
    expect(jobIds(drift.stderr)).toHaveLength(1);
  });

  it('goes on when a sync submitter is killed, and attach takes it over: each side adopts its own batches', async () => {
    const target = await startEmulator({ port: 0, quotas: 'off' });
    try {
      // A low rate on both sides: the sync takes seconds, so the kill lands mid-run.
      const sub = cli(['sync', '--from', source.url, '--to', target.url, '--from-rate', '40', '--to-rate', '40']);
      const [, id] = await sub.waitErr(/job (\S+) runs on queue/);
      const store = async (): Promise<{ batches: number; state: string }> =>
        JSON.parse((await run(['status', id as string, '--json'])).stdout);
      while ((await store()).batches < 4) await new Promise((r) => setTimeout(r, 100));
      sub.child.kill('SIGKILL');
      await sub.exited;
      const attach = await run(['attach', id as string, '--stale-ms', '2000']);
      expect(attach.code, attach.stderr).toBe(0);
      expect(attach.stderr).toContain(`job ${id}'s submitter is gone; taking the job over`);
      expect(jobIds(attach.stderr)).toEqual([id]);
      expect(expectMirrored(source, target)).toBe(300);
      expect((await store()).state).toBe('done');
    } finally {
      await deleteGateKeys(admin, target.url);
      await target.close();
    }
  });

  it('detaches a watching sync, shows it in status, cancels it, and attach reports the cancel', async () => {
    const detach = await run(['sync', '--from', source.url, '--to', dest.url, '--watch', '1s', '--detach']);
    expect(detach.code, detach.stderr).toBe(0);
    const id = detach.stdout.trim();
    expect(id).toMatch(/^r[a-z0-9]+$/);
    // The detached submitter has started its run once its JobRuns queued a batch.
    for (;;) {
      const s = await run(['status', id, '--json']);
      const st = JSON.parse(s.stdout) as { state: string; batches: number };
      expect(st.state).toBe('running');
      if (st.batches > 0) break;
    }
    const cancel = await run(['cancel', id]);
    expect(cancel.code, cancel.stderr).toBe(0);
    const attach = await run(['attach', id]);
    expect(attach.stdout).toMatch(/state\s+cancelled/);
    expect(attach.code).toBe(130);
  });
});
