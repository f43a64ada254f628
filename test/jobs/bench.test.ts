import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ConfigError, InvalidArgumentError } from '../../src/errors.js';
import {
  loadBenchScenario,
  operationCycle,
  parseBenchScenario,
  resolveBenchOptions,
  runBench,
} from '../../src/jobs/bench/bench.js';

let emulator: Emulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({ quotas: 'off' });
  dir = await mkdtemp(join(tmpdir(), 'shadowfleet-bench-'));
});

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('runBench against the emulator', () => {
  it('runs a counted mix, accounts for every operation and writes the report page', async () => {
    const before = emulator.stats().totals.requests;
    const report = join(dir, 'bench.html');
    const r = await runBench({
      endpoint: emulator.url,
      operations: { get: 4, update: 3, list: 1, publish: 1, delete: 1 },
      things: 20,
      prefix: 'load-',
      documentBytes: [300, 1500],
      count: 400,
      concurrency: 8,
      workers: 1,
      report,
    });
    expect(r.emulator).toBe(false);
    expect(r.operations).toBe(400);
    expect(r.ok + r.failed + (r.byOutcome['not-found'] ?? 0) + (r.byOutcome.throttled ?? 0)).toBe(400);
    expect(r.failed).toBe(0);
    // The mix is followed exactly: 400 operations of weights 4:3:1:1:1.
    expect(Object.fromEntries(Object.entries(r.byOperation).map(([op, s]) => [op, s!.count]))).toEqual({
      get: 160,
      update: 120,
      delete: 40,
      list: 40,
      publish: 40,
    });
    expect(r.latency.count).toBe(400);
    expect(r.latency.p50).toBeGreaterThan(0);
    expect(r.latency.p50).toBeLessThanOrEqual(r.latency.p99);
    expect(r.latency.p99).toBeLessThanOrEqual(r.latency.max);
    // Updates send 300 and 1500 byte documents in turn; publishes the same sizes.
    expect(r.byOperation.update!.bytesSent).toBe(60 * 300 + 60 * 1500);
    expect(r.byOperation.get!.bytesReceived).toBeGreaterThan(0);
    expect(r.requests).toBeGreaterThanOrEqual(400);
    expect(r.throttles).toBe(0);
    // Each ok shadow operation is billed per started KB of the larger of request and response.
    expect(r.billedOperations).toBeGreaterThanOrEqual(r.ok - r.byOperation.publish!.ok);
    expect(r.billedMessages).toBe(40);
    expect(r.estimatedCostUsd).toBeCloseTo((r.billedOperations * 1.25 + r.billedMessages * 1.0) / 1e6, 10);
    expect(r.timeline.length).toBeGreaterThan(0);
    expect(r.prepare).toEqual({ operations: 20, failed: 0, durationMs: expect.any(Number) });
    // The emulator saw the prepare writes and the measured operations, retries aside.
    expect(emulator.stats().totals.requests - before).toBe(20 + r.requests);
    // The page carries the charts of a benchmark.
    expect(r.report).toBe(report);
    const html = await readFile(report, 'utf8');
    for (const chart of ['rate', 'latency', 'outcomes']) expect(html).toContain(`data-chart="${chart}"`);
    expect(html).toContain('By operation');
  });

  it('touches only the prefixed things and deletes their shadows with cleanup', async () => {
    await fetch(`${emulator.url}/things/keep-me/shadow`, {
      method: 'POST',
      body: JSON.stringify({ state: { desired: { x: 1 } } }),
    });
    const r = await runBench({
      endpoint: emulator.url,
      operations: { update: 1, get: 1 },
      things: 10,
      prefix: 'tmp-',
      count: 60,
      concurrency: 4,
      workers: 1,
      cleanup: true,
    });
    expect(r.operations).toBe(60);
    expect(r.cleanup).toEqual({ deleted: 10, notFound: 0, failed: 0, durationMs: expect.any(Number) });
    for (let i = 0; i < 10; i++) expect(emulator.store.get(`tmp-${i}`)).toBeUndefined();
    expect(emulator.store.get('keep-me')).toBeDefined();
  });

  it('counts throttles and reports them by AWS name when the account quota is exceeded', async () => {
    const tight = await startEmulator({ quotas: { accountRps: 20 } });
    try {
      const r = await runBench({
        endpoint: tight.url,
        operations: { get: 1 },
        things: 50,
        count: 150,
        concurrency: 16,
        workers: 1,
        rate: 'off',
        prepare: false,
        requestAttempts: 1,
      });
      expect(r.operations).toBe(150);
      expect(r.throttles).toBeGreaterThan(0);
      expect(r.errors.ThrottlingException).toBe(r.byOutcome.throttled);
      expect(r.throttles).toBe(r.byOutcome.throttled);
      expect(r.timeline.some((p) => p.throttles > 0)).toBe(true);
    } finally {
      await tight.close();
    }
  });
});

describe('runBench over a duration', () => {
  it('measures only after the warm-up and charts whole seconds', async () => {
    const r = await runBench({
      endpoint: emulator.url,
      operations: { get: 1 },
      things: 10,
      durationMs: 1200,
      warmupMs: 300,
      concurrency: 2,
      workers: 1,
      rate: 50,
    });
    expect(r.warmup?.operations).toBeGreaterThan(0);
    expect(r.durationMs).toBeGreaterThanOrEqual(1200);
    expect(r.operations).toBeGreaterThan(0);
    // about 50 ops/s by the rate gate; charted per second with no sliver at the end. The drain
    // after the deadline lasts longer on a loaded machine, so the count of points follows the
    // measured duration: at most one per whole second, a last part under half a second folded in.
    expect(r.timeline.length).toBeGreaterThanOrEqual(1);
    expect(r.timeline.length).toBeLessThanOrEqual(Math.max(1, Math.round(r.durationMs / 1000)));
    if (r.timeline.length > 1) expect(r.timeline.at(-1)!.t - r.timeline.at(-2)!.t).toBeGreaterThanOrEqual(0.5);
    expect(r.opsPerSecond).toBeLessThan(80);
  });
});

describe('bench options and scenarios', () => {
  it('builds an operation cycle that follows the weights exactly', () => {
    const cycle = operationCycle({ get: 60, update: 30, delete: 0, list: 5, publish: 5 }, 100);
    const counts: Record<string, number> = {};
    for (const op of cycle) counts[op] = (counts[op] ?? 0) + 1;
    expect(counts).toEqual({ get: 60, update: 30, list: 5, publish: 5 });
    // interleaved, not in runs
    expect(cycle.slice(0, 4)).toContain('update');
  });

  it('reads a YAML scenario into options', async () => {
    const file = join(dir, 'load.yaml');
    await writeFile(
      file,
      'operations: { get: 3, update: 1 }\nthings: 500\nprefix: fleet-a-\nshadow: config\ndocumentBytes: [256, 1024]\nrate: 800\nduration: 1m30s\nworkers: 2\ncleanup: true\npricing: { perMillion: 1.5 }\n',
    );
    expect(await loadBenchScenario(file)).toEqual({
      operations: { get: 3, update: 1 },
      things: 500,
      prefix: 'fleet-a-',
      shadowName: 'config',
      documentBytes: [256, 1024],
      rate: 800,
      durationMs: 90_000,
      workers: 2,
      cleanup: true,
      pricing: { perMillion: 1.5 },
    });
  });

  it('names the file and every bad field of a scenario', () => {
    expect(() =>
      parseBenchScenario(
        'operations: { get: -1, fetch: 2 }\nthings: 0\ndocumentBytes: 9000\nduration: soon\n',
        'load.yaml',
      ),
    ).toThrow(
      /load\.yaml: operations\.get: expected a weight >= 0\nload\.yaml: operations\.fetch: unknown field\nload\.yaml: things: expected a positive integer, got 0\nload\.yaml: documentBytes: expected a document size in bytes from 64 to 8000/,
    );
    expect(() => parseBenchScenario('duration: soon\n', 'x.json')).toThrow(
      'x.json: duration: expected a duration like 30s or 2m',
    );
    expect(() => parseBenchScenario('operations: { get: 0 }\n', 'x.yaml')).toThrow(
      'x.yaml: operations: expected at least one operation with a weight above 0',
    );
    expect(() => parseBenchScenario('things: [1\n', 'bad.yaml')).toThrow(/^bad\.yaml:/);
  });

  it('words a bad count or rate the same in a scenario file and in the options, the file named in front', () => {
    expect(() => parseBenchScenario('things: 0\n', 'load.yaml')).toThrow(
      new ConfigError('load.yaml: things: expected a positive integer, got 0'),
    );
    expect(() => resolveBenchOptions({ things: 0 })).toThrow(
      new InvalidArgumentError('things: expected a positive integer, got 0'),
    );
    expect(() => parseBenchScenario('rate: -5\n', 'load.yaml')).toThrow(
      'load.yaml: rate: expected a rate in operations per second, got -5',
    );
    expect(() => resolveBenchOptions({ workers: 1.5, concurrency: 0 })).toThrow(
      'concurrency: expected a positive integer, got 0\nworkers: expected a positive integer, got 1.5',
    );
  });

  it('refuses bad options with messages that name the option', () => {
    expect(() => resolveBenchOptions({ things: 0 })).toThrow('things: expected a positive integer, got 0');
    expect(() => resolveBenchOptions({ prefix: 'a b' })).toThrow('prefix: expected 1-100 characters');
    expect(() => resolveBenchOptions({ rate: -5 })).toThrow('rate: expected a rate in operations per second, got -5');
    expect(() => resolveBenchOptions({ documentBytes: [10] })).toThrow(
      'documentBytes: expected sizes in bytes from 64 to 8000',
    );
    expect(() => resolveBenchOptions({ operations: { get: 0 } })).toThrow(
      'operations: expected at least one operation with a weight above 0',
    );
    expect(() => resolveBenchOptions({ pricing: { perMillion: -1 } })).toThrow(
      'pricing.perMillion: expected a number >= 0, got -1',
    );
  });

  it('defaults to a 10 second run of half gets and half updates at 64 in flight', () => {
    const o = resolveBenchOptions({});
    expect(o).toMatchObject({
      things: 1000,
      prefix: 'shadowfleet-bench-',
      durationMs: 10_000,
      concurrency: 64,
      documentBytes: [512],
      prepare: true,
      cleanup: false,
    });
    expect(o.operations).toEqual({ get: 50, update: 50, delete: 0, list: 0, publish: 0 });
    expect(o.pricing).toEqual({ perMillion: 1.25, meterBytes: 1024, publishPerMillion: 1.0, publishMeterBytes: 5120 });
    // a count alone runs to the count
    expect(resolveBenchOptions({ count: 10 }).durationMs).toBeUndefined();
  });
});
