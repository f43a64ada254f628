import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { Coordinator } from '../../src/engine/coordinator.js';
import { PoolBatchRunner } from '../../src/engine/pool-batch-runner.js';
import { workerFile } from '../../src/engine/worker-file.js';
import type { RolloutTaskConfig } from '../../src/engine/task-types.js';

describe('the worker pool', () => {
  let emulator: Emulator;
  let proxy: Server;
  let proxyUrl: string;
  const sockets: Socket[] = [];
  let connections = 0;
  /** The client sockets into the relay, in order, and those not closed yet. */
  const downs: Socket[] = [];
  const open = new Set<Socket>();

  /** Waits for `check` to hold; fails naming `what` after `ms` instead of hanging. */
  async function waitUntil(check: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: 'off' });
    // A TCP relay in front of the emulator, to count the connections the workers open.
    proxy = createServer((down) => {
      connections += 1;
      downs.push(down);
      open.add(down);
      down.once('close', () => open.delete(down));
      const up = connect(emulator.port, '127.0.0.1');
      sockets.push(down, up);
      down.pipe(up).pipe(down);
      down.on('error', () => up.destroy());
      up.on('error', () => down.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const addr = proxy.address() as { port: number };
    proxyUrl = `http://127.0.0.1:${addr.port}`;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => proxy?.close(r));
    await emulator?.close();
  });

  test('is built with atomics disabled, from the TypeScript worker file under tsx', async () => {
    const coord = new Coordinator({
      client: { endpoint: emulator.url, region: 'us-east-1' },
      workers: 1,
      rates: 'off',
    });
    try {
      expect(coord.poolOptions.atomics).toBe('disabled');
      expect(coord.poolOptions.filename).toBe(fileURLToPath(workerFile('task-worker').filename));
      expect(coord.poolOptions.filename).toMatch(/workers\/task-worker\.ts$/);
      expect(coord.poolOptions.execArgv).toEqual(['--import', import.meta.resolve('tsx')]);
      expect(coord.poolOptions.execArgv?.[1]).toMatch(/^file:.*node_modules\/tsx\//);
    } finally {
      await coord.close();
    }
  });

  test('a worker keeps its keep-alive socket across two tasks and the second task still completes', async () => {
    let pool: PoolBatchRunner | undefined;
    const coord = new Coordinator({
      client: { endpoint: proxyUrl, region: 'us-east-1', connections: 1 },
      workers: 1,
      tasksPerWorker: 1,
      rates: 'off',
      runner: (context) => (pool = new PoolBatchRunner(context)),
    });
    const before = connections;
    try {
      // Both tasks on the thread: the warm-up's batches run on the main thread's own client.
      await (pool as PoolBatchRunner).warmedUp();
      const one = await coord.run<RolloutTaskConfig>(
        'rollout',
        { desired: { v: 1 }, concurrency: 1 },
        [{ thingName: 'ka-1' }],
        () => undefined,
      );
      expect(one.byOutcome).toEqual({ written: 1 });
      expect(connections - before).toBe(1);
      // Idle between tasks: a worker parked in Atomics.wait would not service the socket now.
      await new Promise((r) => setTimeout(r, 300));
      const two = await coord.run<RolloutTaskConfig>(
        'rollout',
        { desired: { v: 2 }, concurrency: 1 },
        [{ thingName: 'ka-2' }],
        () => undefined,
      );
      expect(two.byOutcome).toEqual({ written: 1 });
      expect(connections - before).toBe(1); // the same socket served both tasks
      expect(emulator.store.get('ka-2')?.state.desired).toEqual({ v: 2 });
    } finally {
      await coord.close();
    }
  });

  test("a batch run during the warm-up uses the main thread's client, whose socket is closed once a thread is up", async () => {
    let pool: PoolBatchRunner | undefined;
    const coord = new Coordinator({
      client: { endpoint: proxyUrl, region: 'us-east-1', connections: 1 },
      workers: 1,
      tasksPerWorker: 1,
      rates: 'off',
      runner: (context) => (pool = new PoolBatchRunner(context)),
    });
    const before = connections;
    try {
      // Run at once: no thread can have answered yet (its reply needs a turn of the event loop).
      const one = await coord.run<RolloutTaskConfig>(
        'rollout',
        { desired: { v: 1 }, concurrency: 1 },
        [{ thingName: 'wu-1' }],
        () => undefined,
      );
      expect(one.byOutcome).toEqual({ written: 1 });
      expect(connections - before).toBe(1);
      await (pool as PoolBatchRunner).warmedUp();
      // The warm-up's client is closed with it: its socket does not stay open beside the thread's.
      const warmUpSocket = downs[before] as Socket;
      await waitUntil(() => !open.has(warmUpSocket), "the warm-up client's socket to close");
      const two = await coord.run<RolloutTaskConfig>(
        'rollout',
        { desired: { v: 2 }, concurrency: 1 },
        [{ thingName: 'wu-2' }],
        () => undefined,
      );
      expect(two.byOutcome).toEqual({ written: 1 });
      expect(connections - before).toBe(2); // one per client: the warm-up's, then the thread's
      expect(downs.slice(before).filter((d) => open.has(d))).toHaveLength(1); // the thread's, kept alive
      expect(emulator.store.get('wu-2')?.state.desired).toEqual({ v: 2 });
    } finally {
      await coord.close();
    }
  });

  test('a task of an unknown kind fails its items as data, not the run', async () => {
    const coord = new Coordinator({
      client: { endpoint: emulator.url, region: 'us-east-1' },
      workers: 1,
      rates: 'off',
    });
    try {
      const stats = await coord.run(
        'no-such-kind' as never,
        {},
        [{ thingName: 'x-1' }, { thingName: 'x-2' }],
        () => undefined,
      );
      expect(stats.byOutcome).toEqual({ failed: 2 });
      expect(stats.batchFailures).toBe(1);
      expect(stats.byError).toEqual({ WorkerError: 2 });
    } finally {
      await coord.close();
    }
  });

  test('options are validated once with messages naming the option', () => {
    expect(() => new Coordinator({ client: { endpoint: '', region: 'us-east-1' } })).toThrow(
      'client.endpoint must be a non-empty string',
    );
    expect(() => new Coordinator({ client: { endpoint: emulator.url, region: 'us-east-1' }, batchSize: 0 })).toThrow(
      'batchSize: expected a positive integer, got 0',
    );
    expect(
      () => new Coordinator({ client: { endpoint: emulator.url, region: 'us-east-1' }, rates: { accountRps: 0 } }),
    ).toThrow("rates.accountRps: expected a positive number or 'off', got 0");
  });

  test('targets are pulled only as batches finish: never more than batchSize x maxBatchesInFlight ahead', async () => {
    const coord = new Coordinator({
      client: { endpoint: emulator.url, region: 'us-east-1' },
      workers: 1,
      batchSize: 5,
      maxBatchesInFlight: 2,
      rates: 'off',
    });
    let pulled = 0;
    let done = 0;
    let maxAhead = 0;
    async function* source() {
      for (let i = 0; i < 60; i++) {
        pulled += 1;
        maxAhead = Math.max(maxAhead, pulled - done);
        yield { thingName: `bp-${i}` };
      }
    }
    try {
      const stats = await coord.run<RolloutTaskConfig>('rollout', { desired: { a: 1 }, dryRun: true }, source(), () => {
        done += 1;
      });
      expect(stats.done).toBe(60);
      expect(maxAhead).toBeLessThanOrEqual(5 * 2 + 1);
    } finally {
      await coord.close();
    }
  });

  test('a source that fails mid-stream drains the batches in flight, then the run rejects with its error', async () => {
    const coord = new Coordinator({
      client: { endpoint: emulator.url, region: 'us-east-1' },
      workers: 1,
      batchSize: 4,
      rates: 'off',
    });
    let results = 0;
    async function* source() {
      for (let i = 0; i < 8; i++) yield { thingName: `sf-${i}` };
      throw new Error('targets.txt:9: bad thing name');
    }
    try {
      await expect(
        coord.run<RolloutTaskConfig>(
          'rollout',
          { desired: { a: 1 }, dryRun: true },
          source(),
          () => void (results += 1),
        ),
      ).rejects.toThrow('targets.txt:9');
      expect(results).toBe(8);
    } finally {
      await coord.close();
    }
  });

  test('a failing result handler aborts the run, which drains and rejects with that error', async () => {
    const coord = new Coordinator({
      client: { endpoint: emulator.url, region: 'us-east-1' },
      workers: 1,
      batchSize: 4,
      rates: 'off',
    });
    try {
      const items = Array.from({ length: 40 }, (_, i) => ({ thingName: `rh-${i}` }));
      await expect(
        coord.run<RolloutTaskConfig>('rollout', { desired: { a: 1 }, dryRun: true }, items, () => {
          throw new Error('disk full');
        }),
      ).rejects.toThrow('disk full');
      expect(coord.aborted).toBe(true);
      expect(coord.stats().done).toBe(coord.stats().read);
      expect(coord.stats().read).toBeLessThan(40);
    } finally {
      await coord.close();
    }
  });
});
