/**
 * The public surface: the runtime names each public entry point exports. A new export is a
 * conscious change (add it here, with a doc comment at the export); an internal module never
 * leaks out through an `export *`. Types are erased at run time and are not listed.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const ENTRIES: Record<string, { file: string; names: string[] }> = {
  shadowfleet: {
    file: 'src/index.ts',
    names: [
      'AbortError',
      'BENCH_OPERATIONS',
      'ConfigError',
      'ConflictError',
      'DEFAULT_BENCH_OPTIONS',
      'DEFAULT_DEMO_OPTIONS',
      'DEFAULT_DIFF_OPTIONS',
      'DEFAULT_IOT_CONTROL_CLIENT_OPTIONS',
      'DEFAULT_IOT_DATA_CLIENT_OPTIONS',
      'DEFAULT_RATE_GATE_OPTIONS',
      'DEFAULT_RESTORE_OPTIONS',
      'DEFAULT_ROLLOUT_OPTIONS',
      'DEFAULT_SHADOW_LIMITS',
      'DEFAULT_SNAPSHOT_OPTIONS',
      'DEFAULT_SYNC_OPTIONS',
      'InvalidArgumentError',
      'IotControlClient',
      'IotDataClient',
      'LatencyHistogram',
      'LocalSink',
      'NetworkError',
      'NotFoundError',
      'PayloadTooLargeError',
      'RateGateError',
      'S3Sink',
      'ServiceError',
      'ServiceUnavailableError',
      'ShadowCondition',
      'ShadowError',
      'SnapshotError',
      'SnapshotReader',
      'SnapshotWriter',
      'SyncSession',
      'ThrottlingError',
      'TimeoutError',
      'UnauthorizedError',
      'VERSION',
      'WorkerError',
      'accountJournalPath',
      'accountsReportModel',
      'accountsTotalResult',
      'benchReportModel',
      'checkReportPageDestination',
      'checkBenchOptions',
      'checkRestoreOptions',
      'checkRolloutOptions',
      'checkSnapshotOptions',
      'computeDelta',
      'createSnapshotSink',
      'diffToUpdate',
      'driftReportModel',
      'fromErrorRecord',
      'isExactNumber',
      'isShadowError',
      'loadAccountPlan',
      'parseAccountPlan',
      'runRolloutAccounts',
      'runSnapshotAccounts',
      'accountSnapshotLocation',
      'validateAccountPlan',
      'writeAccountsReportPage',
      'loadBenchScenario',
      'loadFleetFile',
      'loadRolloutSpec',
      'mergeState',
      'parseBenchScenario',
      'parseDataEndpoint',
      'parseDuration',
      'parseFleetFile',
      'parseInlineDesired',
      'parseJson',
      'parseRetryAfter',
      'parseRolloutSpec',
      'parseSnapshotLocation',
      'renderReportPage',
      'resolveDataEndpoint',
      'retryDelay',
      'rolloutReportModel',
      'runBench',
      'runDemo',
      'runDiff',
      'runFleetApply',
      'runFleetDrift',
      'runFleetPlan',
      'runRestore',
      'runRollback',
      'runRollout',
      'runSnapshot',
      'runSync',
      'stateSize',
      'stringifyJson',
      'validateBenchScenario',
      'validateRolloutSpec',
      'validateShadowName',
      'validateThingName',
      'validateTopic',
      'writeReportPage',
      'writeRolloutReportPage',
    ],
  },
  'shadowfleet/client': {
    file: 'src/client/index.ts',
    names: [
      'AbortError',
      'ConfigError',
      'ConflictError',
      'DEFAULT_IOT_CONTROL_CLIENT_OPTIONS',
      'DEFAULT_IOT_DATA_CLIENT_OPTIONS',
      'InvalidArgumentError',
      'IotControlClient',
      'IotDataClient',
      'NetworkError',
      'NotFoundError',
      'PayloadTooLargeError',
      'ServiceError',
      'ServiceUnavailableError',
      'ShadowError',
      'ThrottlingError',
      'TimeoutError',
      'UnauthorizedError',
      'isExactNumber',
      'isShadowError',
      'parseDataEndpoint',
      'parseJson',
      'parseRetryAfter',
      'resolveDataEndpoint',
      'retryDelay',
      'stringifyJson',
    ],
  },
  'shadowfleet/input': {
    file: 'src/input.ts',
    names: [
      'ConfigError',
      'InvalidArgumentError',
      'ShadowError',
      'isShadowError',
      'VERSION',
      'isPositive',
      'optionMessage',
      'parseDataEndpoint',
      'parseDuration',
      'readBounded',
    ],
  },
  'shadowfleet/queue': {
    file: 'src/engine/queue/index.ts',
    names: [
      'DEFAULT_QUEUE_NAME',
      'DEFAULT_QUEUE_PREFIX',
      'DEFAULT_QUEUE_WORKER_OPTIONS',
      'DEFAULT_REDIS_CONNECTION_OPTIONS',
      'DEFAULT_REDIS_RATE_GATE_OPTIONS',
      'QueueBatchRunner',
      'QueueNames',
      'QueueWorker',
      'RedisCallCounter',
      'RedisRateGate',
      'RunStore',
      'cancelRun',
      'connectRedis',
      'gateAccountKey',
      'loadTaskHandlers',
      'newRunId',
      'queuePlacement',
      'redactRedisUrl',
      'redisConnectionFromUrl',
      'redisPermitBatch',
      'redisUrlFrom',
      'toQueuedBatch',
      'validateQueueName',
      'validateRedisUrl',
      'validateRunId',
    ],
  },
  'shadowfleet/emulator': {
    file: 'src/emulator/index.ts',
    names: [
      'AWS_QUOTAS',
      'DEFAULT_EMULATOR_OPTIONS',
      'DEFAULT_EMULATOR_PROCESS_OPTIONS',
      'DEFAULT_SHADOW_STORE_OPTIONS',
      'EMULATOR_OPERATIONS',
      'Emulator',
      'ShadowStore',
      'resolveEmulatorOptions',
      'seededThingName',
      'startEmulator',
      'startEmulatorProcess',
    ],
  },
};

const ROOT = new URL('../../', import.meta.url);

describe('the public entry points', () => {
  it('are the ones package.json exports, each pointing at its source entry', async () => {
    const pkg = JSON.parse(await readFile(new URL('package.json', ROOT), 'utf8')) as {
      exports: Record<string, { default?: string }>;
    };
    const entries = Object.entries(pkg.exports).filter(([k]) => k !== './package.json');
    expect(
      Object.fromEntries(entries.map(([k, v]) => [k === '.' ? 'shadowfleet' : `shadowfleet/${k.slice(2)}`, v.default])),
    ).toEqual(
      Object.fromEntries(Object.entries(ENTRIES).map(([k, e]) => [k, `./dist/${e.file.replace(/\.ts$/, '.js')}`])),
    );
  });

  for (const [name, entry] of Object.entries(ENTRIES)) {
    it(`${name} exports exactly the listed runtime names`, async () => {
      const mod = (await import(new URL(entry.file, ROOT).href)) as Record<string, unknown>;
      expect(Object.keys(mod).sort()).toEqual([...entry.names].sort());
    });

    it(`${name} names every export explicitly, each under a doc comment`, async () => {
      const source = await readFile(new URL(entry.file, ROOT), 'utf8');
      expect(source).not.toMatch(/^export \*/m);
      const lines = source.split('\n');
      const undocumented = entry.names.filter((n) => {
        let i = lines.findIndex((l) => new RegExp(`^(\\s+${n},?$|export \\{[^}]*\\b${n}\\b)`).test(l));
        if (i < 1) return true;
        // A name inside a multi-line `export { ... }` block is documented by its own comment, or
        // by the comment above the block (one comment for a group of names, as a formatter lays it out).
        while (i > 0 && !lines[i - 1]!.trim().endsWith('*/') && /^\s+[\w ]+,?$/.test(lines[i - 1]!)) i--;
        if (i > 0 && !lines[i - 1]!.trim().endsWith('*/') && /^export (type )?\{$/.test(lines[i - 1]!)) i--;
        return i < 1 || !lines[i - 1]!.trim().endsWith('*/');
      });
      expect(undocumented).toEqual([]);
    });
  }
});
