/**
 * `shadowfleet bench` as a command: flags and scenario files become options, and the printed
 * table and JSON carry the run's figures. The command runs against the emulator (in process
 * here, with --endpoint; in its own process without).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import * as lib from '../../src/index.js';
import { benchOptionsFromFlags, formatBenchResult, parseMix } from '../../src/cli/commands/bench.js';

let emulator: Emulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({ quotas: 'off' });
  dir = await mkdtemp(join(tmpdir(), 'shadowfleet-bench-cmd-'));
});

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const signal = new AbortController().signal;

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write: (c, _e, cb) => {
        chunks.push(String(c));
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

describe('bench command options', () => {
  it('reads the operation mix from --mix', () => {
    expect(parseMix('get=60,update=30,list=5,publish=5', lib)).toEqual({ get: 60, update: 30, list: 5, publish: 5 });
    expect(parseMix('get', lib)).toEqual({ get: 1 });
    expect(() => parseMix('fetch=1', lib)).toThrow(
      '--mix: unknown operation "fetch" (expected get, update, delete, list, publish)',
    );
    expect(() => parseMix('get=x', lib)).toThrow('--mix: expected a weight >= 0 for get, got "x"');
  });

  it('lets flags override the fields of a scenario file', async () => {
    const file = join(dir, 'load.yaml');
    await writeFile(file, 'operations: { get: 1 }\nthings: 50\nduration: 20s\nrate: 100\n');
    const o = await benchOptionsFromFlags(
      {
        scenario: file,
        things: '70',
        count: '500',
        rate: 'off',
        prepare: false,
        documentBytes: '128,2048',
        emulatorQuotas: 'off',
      },
      { signal },
      lib,
    );
    expect(o).toMatchObject({
      operations: { get: 1 },
      things: 70,
      count: 500,
      rate: 'off',
      prepare: false,
      documentBytes: [128, 2048],
      emulator: { quotas: 'off' },
    });
    expect(o.durationMs).toBeUndefined();
  });

  it('refuses bad flags with messages that name the flag', async () => {
    await expect(benchOptionsFromFlags({ things: '0', prepare: true }, { signal }, lib)).rejects.toThrow(
      '--things: things: expected a positive integer, got 0',
    );
    await expect(
      benchOptionsFromFlags({ rate: 'fast', workers: '1.5', prepare: true }, { signal }, lib),
    ).rejects.toThrow(
      '--rate: rate: expected a rate in operations per second or \'off\', got "fast"\n--workers: workers: expected a positive integer, got 1.5',
    );
    await expect(benchOptionsFromFlags({ duration: 'soon', prepare: true }, { signal }, lib)).rejects.toThrow(
      '--duration: expected a duration like 30s or 2m, got "soon"',
    );
    await expect(
      benchOptionsFromFlags({ duration: '5s', count: '10', prepare: true }, { signal }, lib),
    ).rejects.toThrow('--duration and --count cannot be used together');
    await expect(benchOptionsFromFlags({ documentBytes: '10', prepare: true }, { signal }, lib)).rejects.toThrow(
      '--document-bytes: expected sizes in bytes from 64 to 8000, got "10"',
    );
    await expect(
      benchOptionsFromFlags(
        { endpoint: 'http://127.0.0.1:1', emulatorFaultRate: '0.1', prepare: true },
        { signal },
        lib,
      ),
    ).rejects.toThrow('--emulator-* options apply only without --endpoint');
  });
});

describe('shadowfleet bench', () => {
  it('prints a table with throughput, latency percentiles, bytes, billed operations and cost', async () => {
    const r = await lib.runBench({
      endpoint: emulator.url,
      count: 120,
      things: 12,
      workers: 1,
      concurrency: 6,
      operations: { get: 1, update: 1 },
    });
    const text = formatBenchResult(r, lib);
    for (const label of [
      'throughput',
      'latency p50 / p90 / p99 / max',
      'throttles',
      'bytes sent / received',
      'billed operations',
      'estimated cost',
    ])
      expect(text).toContain(label);
    expect(text).toMatch(/operations\s+120 /);
    expect(text).toMatch(/^get\s+60\s+60\s+0/m);
    expect(text).toMatch(/^update\s+60\s+60\s+0/m);
  });

  it('runs from the command line with --json and --report', async () => {
    const { main } = await import('../../src/cli/main.js');
    const out = sink();
    const err = sink();
    const report = join(dir, 'cli-report.html');
    const code = await main(
      [
        'bench',
        '--endpoint',
        emulator.url,
        '--count',
        '90',
        '--things',
        '9',
        '--workers',
        '1',
        '--concurrency',
        '3',
        '--mix',
        'get=2,update=1',
        '--json',
        '--report',
        report,
      ],
      { stdout: out.stream, stderr: err.stream },
    );
    expect(code).toBe(0);
    const r = JSON.parse(out.text()) as lib.BenchResult;
    expect(r.operations).toBe(90);
    expect(r.byOperation.get!.count).toBe(60);
    expect(r.byOperation.update!.count).toBe(30);
    expect(r.report).toBe(report);
    expect(await readFile(report, 'utf8')).toContain('data-chart="latency"');
  });

  it('starts the emulator in its own process when no endpoint is given', async () => {
    const r = await lib.runBench({ count: 60, things: 6, workers: 1, concurrency: 3, emulator: { quotas: 'off' } });
    expect(r.emulator).toBe(true);
    expect(r.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(r.operations).toBe(60);
    const stats = r.emulatorStats as { totals: { requests: number } };
    expect(stats.totals.requests).toBe(6 + r.requests);
  });
});
