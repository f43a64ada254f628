/**
 * `shadowfleet snapshot --accounts` end to end: a two-account plan against two emulators, each
 * its own account (its own SigV4 keys, its own quota), run in one process and on the real Redis
 * (127.0.0.1:6379) by a `shadowfleet worker` process. The credentials come from two profiles of
 * a temporary shared credentials file; on the queue only the worker has that file, so the run
 * succeeding shows it resolved each account's profile itself.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotReader } from '../../src/sinks/index.js';
import { openRedis, REDIS_URL } from '../engine/queue/redis-fixture.js';
import { startTwoAccounts, type TwoAccounts } from '../jobs/accounts/two-accounts.js';
import { type CliOutput, CliProcesses, deleteQueueKeys, gateKeys, testQueue, waitForText } from './cli-processes.js';

const QUEUE = testQueue('snapaccounts');
const ACCOUNTS = {
  eu: { name: 'eu-prod', quota: 40, things: 15 },
  us: { name: 'us-prod', quota: 60, things: 25 },
} as const;

let accounts: TwoAccounts;
let dir: string;
let admin: Redis;
let emulators: TwoAccounts['emulators'];
const processes = new CliProcesses();

/** The CLI with the test's shared AWS files (or none: `credentials: false`). */
function cli(args: string[], credentials: boolean, onStart?: (err: () => string) => void): Promise<CliOutput> {
  const p = processes.start(args, {
    cwd: dir,
    env: { SHADOWFLEET_ENDPOINT: '', NO_COLOR: '1', ...accounts.awsFiles(credentials) },
  });
  onStart?.(() => p.stderr);
  return p.exited.then((code) => ({ code, stdout: p.stdout, stderr: p.stderr }));
}

beforeAll(async () => {
  admin = await openRedis();
  accounts = await startTwoAccounts({
    prefix: 'sf-snap-accounts-cli-',
    quota: { eu: ACCOUNTS.eu.quota, us: ACCOUNTS.us.quota },
    things: { eu: ACCOUNTS.eu.things, us: ACCOUNTS.us.things },
    seeded: true,
  });
  ({ dir, emulators } = accounts);
  await writeFile(join(dir, 'accounts.yaml'), accounts.plan());
});

afterAll(async () => {
  await processes.stopAll();
  await deleteQueueKeys(admin, QUEUE, accounts?.endpoints() ?? []);
  await accounts?.close();
  admin?.disconnect();
});

/** Each account's snapshot is an ordinary one of its own emulator; the emulators saw only their own keys, never above quota. */
async function expectSnapshots(out: string): Promise<void> {
  expect((await readdir(join(dir, out))).sort()).toEqual(['eu-prod', 'us-prod']);
  for (const a of ['eu', 'us'] as const) {
    const acc = ACCOUNTS[a];
    const stats = emulators[a].stats();
    expect(stats.unauthorized, `${a}: requests with another account's keys`).toBe(0);
    expect(stats.totals.throttled, `${a}: throttled above its quota`).toBe(0);
    const reader = await SnapshotReader.open(join(dir, out, acc.name));
    expect([reader.manifest.endpoint, reader.manifest.things, reader.manifest.failures.total]).toEqual([
      emulators[a].url,
      acc.things,
      0,
    ]);
    await reader.close();
  }
}

describe('shadowfleet snapshot --accounts', { timeout: 240_000 }, () => {
  it('takes a snapshot of each account in one process: a section per account and the total', async () => {
    const r = await cli(['snapshot', '--accounts', 'accounts.yaml', '--out', 'snaps', '--json'], true);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.accounts.map((a: any) => [a.name, a.ok, a.result.things])).toEqual([
      ['eu-prod', true, ACCOUNTS.eu.things],
      ['us-prod', true, ACCOUNTS.us.things],
    ]);
    expect(result.total.things).toBe(ACCOUNTS.eu.things + ACCOUNTS.us.things);
    expect(r.stderr).toMatch(/"type":"progress".*"accounts":\{"eu-prod"/);
    await expectSnapshots('snaps');

    // The human summary: a section per account, then the total.
    const again = await cli(['snapshot', '--accounts', 'accounts.yaml', '--out', 'snaps-2'], true);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /^account eu-prod: http:\/\/127\.0\.0\.1:\d+ \(us-east-1\)\n {2}snapshot written to snaps-2\/eu-prod\n {4}things +15/,
    );
    expect(again.stdout).toMatch(/\n\naccount us-prod: .*\n {2}snapshot written to snaps-2\/us-prod\n {4}things +25/);
    expect(again.stdout).toMatch(/\n\ntotal: 2 accounts, under snaps-2\n {2}things +40\n/);
  });

  it('refuses before the first read (exit 2) when an account directory holds a snapshot, or with an account flag', async () => {
    await mkdir(join(dir, 'held', 'eu-prod'), { recursive: true });
    await writeFile(join(dir, 'held', 'eu-prod', 'manifest.json'), '{}\n');
    for (const e of Object.values(emulators)) e.resetStats();
    const r = await cli(['snapshot', '--accounts', 'accounts.yaml', '--out', 'held'], true);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /accounts\.yaml: accounts\[0\] \(eu-prod\): snapshot destination .* already holds a snapshot/,
    );
    expect(await readdir(join(dir, 'held'))).toEqual(['eu-prod']);
    for (const e of Object.values(emulators)) expect(e.stats().totals.requests).toBe(0);

    const flag = await cli(['snapshot', '--accounts', 'accounts.yaml', '--out', 'x', '--all-things'], true);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--accounts: each account of the plan gives its endpoint, region and targets');
  });

  it('exits 1 when an account could not be read; the other account is written whole', async () => {
    const text = await readFile(join(dir, 'accounts.yaml'), 'utf8');
    await writeFile(join(dir, 'one-refused.yaml'), text.replace('profile: acct-us', 'profile: acct-eu'));
    const r = await cli(['snapshot', '--accounts', 'one-refused.yaml', '--out', 'refused', '--rate', 'off'], true);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      /account us-prod: .*\n {2}snapshot written to refused\/us-prod\n {4}things +25\n {4}shadows +0\n {4}failed +25/,
    );
    expect(r.stdout).toContain('total: 2 accounts, 1 not taken or with things not read');
  });

  it('runs the plan on the real Redis as one job: a worker process resolves each profile, each account within its quota', async () => {
    for (const e of Object.values(emulators)) e.resetStats();
    await new Promise<void>((resolve) => {
      void cli(
        ['worker', '--id', 'w1', '--concurrency', '2', '--redis', REDIS_URL, '--queue', QUEUE],
        true,
        (err) => void waitForText(err, /"worker started"/).then(resolve),
      );
    });
    // The submitter has no credentials file: only the worker resolves the accounts' profiles.
    const r = await cli(
      ['snapshot', '--accounts', 'accounts.yaml', '--out', 'queued', '--json', '--redis', REDIS_URL, '--queue', QUEUE],
      false,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/job \S+ runs on queue/g)).toHaveLength(1);
    const result = JSON.parse(r.stdout);
    expect(result.accounts.map((a: any) => [a.name, a.result.things, a.result.failed])).toEqual([
      ['eu-prod', ACCOUNTS.eu.things, 0],
      ['us-prod', ACCOUNTS.us.things, 0],
    ]);
    await expectSnapshots('queued');
    // One gate per account in Redis, keyed by its endpoint.
    for (const e of Object.values(emulators)) {
      const keys = await gateKeys(admin, e.url);
      expect(keys.length, `no Redis gate for ${e.url}`).toBeGreaterThan(0);
    }
  });
});
