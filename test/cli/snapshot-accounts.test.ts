/**
 * `shadowfleet snapshot --accounts` end to end: a two-account plan against two emulators, each
 * its own account (its own SigV4 keys, its own quota), run in one process and on the real Redis
 * (127.0.0.1:6379) by a `shadowfleet worker` process. The credentials come from two profiles of
 * a temporary shared credentials file; on the queue only the worker has that file, so the run
 * succeeding shows it resolved each account's profile itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededThingName, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { SnapshotReader } from '../../src/sinks/index.js';
import { deleteKeys, openRedis, REDIS_URL } from '../engine/queue/redis-fixture.js';
import { ROOT } from './spawn-cli.js';

const BIN = join(ROOT, 'src/cli/bin.ts');
const TSX = import.meta.resolve('tsx');
const QUEUE = `sftest-snapaccounts-${process.pid}-${Date.now().toString(36)}`;
const ACCOUNTS = {
  eu: { name: 'eu-prod', quota: 40, things: 15, key: ['AKIDACCOUNTEU0000001', 'eu-secret-key-of-the-first-account'] },
  us: { name: 'us-prod', quota: 60, things: 25, key: ['AKIDACCOUNTUS0000002', 'us-secret-key-of-the-second-account'] },
} as const;
type Account = keyof typeof ACCOUNTS;

let dir: string;
let admin: Redis;
const emulators = {} as Record<Account, Emulator>;
const started: ChildProcess[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI with the test's shared AWS files (or none: `credentials: false`). */
function cli(args: string[], credentials: boolean, onStart?: (err: () => string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, BIN, ...args], {
      cwd: dir,
      env: {
        ...process.env,
        SHADOWFLEET_ENDPOINT: '',
        AWS_SHARED_CREDENTIALS_FILE: credentials ? join(dir, 'credentials') : join(dir, 'none'),
        AWS_CONFIG_FILE: join(dir, 'config'),
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    onStart?.(() => stderr);
  });
}

async function waitForText(read: () => string, re: RegExp): Promise<void> {
  while (!re.test(read())) await new Promise((r) => setTimeout(r, 100));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sf-snap-accounts-cli-'));
  admin = await openRedis();
  const profiles: string[] = [];
  const plan: string[] = ['accounts:'];
  for (const a of ['eu', 'us'] as const) {
    const acc = ACCOUNTS[a];
    emulators[a] = await startEmulator({
      port: 0,
      quotas: { accountRps: acc.quota },
      seedThings: acc.things,
      sigv4: { credentials: [{ accessKeyId: acc.key[0], secretAccessKey: acc.key[1] }] },
    });
    const names = Array.from({ length: acc.things }, (_, i) => seededThingName(i));
    await writeFile(join(dir, `${a}.txt`), `${names.join('\n')}\n`);
    profiles.push(`[acct-${a}]\naws_access_key_id = ${acc.key[0]}\naws_secret_access_key = ${acc.key[1]}\n`);
    plan.push(
      `  - name: ${acc.name}`,
      `    endpoint: ${emulators[a].url}`,
      `    profile: acct-${a}`,
      `    targets: { things: ${a}.txt }`,
      `    rate: { perSecond: ${acc.quota} }`,
    );
  }
  await writeFile(join(dir, 'credentials'), profiles.join('\n'));
  await writeFile(join(dir, 'config'), '');
  await writeFile(join(dir, 'accounts.yaml'), `${plan.join('\n')}\n`);
});

afterAll(async () => {
  const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;
  for (const c of started) if (alive(c)) c.kill('SIGTERM');
  const killer = setTimeout(() => {
    for (const c of started) if (alive(c)) c.kill('SIGKILL');
  }, 10_000);
  await Promise.all(started.map((c) => (alive(c) ? new Promise((r) => c.once('exit', r)) : undefined)));
  clearTimeout(killer);
  await deleteKeys(admin, `shadowfleet:${QUEUE}`);
  for (const e of Object.values(emulators)) {
    if (e === undefined) continue;
    await deleteKeys(admin, `shadowfleet:gate:${new URL(e.url).host}:`);
    await e.close();
  }
  admin?.disconnect();
  await rm(dir, { recursive: true, force: true });
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
      const keys = await admin.keys(`*:gate:${new URL(e.url).host}:*`);
      expect(keys.length, `no Redis gate for ${e.url}`).toBeGreaterThan(0);
    }
  });
});
