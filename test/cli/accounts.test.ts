/**
 * `shadowfleet rollout --accounts` end to end: a two-account plan against two emulators, each
 * its own account (its own SigV4 keys, its own quota), run locally in one process and on the
 * real Redis (127.0.0.1:6379) by two `shadowfleet worker` processes. The credentials come from
 * two profiles of a temporary shared credentials file; on the queue only the workers have that
 * file, so the run succeeding shows they resolved each account's profile themselves.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IotDataClient } from '../../src/client/index.js';
import { openRedis, REDIS_URL } from '../engine/queue/redis-fixture.js';
import { KEYS, startTwoAccounts, type TwoAccounts } from '../jobs/accounts/two-accounts.js';
import { type CliOutput, CliProcesses, deleteQueueKeys, gateKeys, testQueue, waitForText } from './cli-processes.js';

const QUEUE = testQueue('accounts');
const ACCOUNTS = {
  eu: { name: 'eu-prod', quota: 20, things: 40 },
  us: { name: 'us-prod', quota: 30, things: 60 },
} as const;

let accounts: TwoAccounts;
let dir: string;
let admin: Redis;
let emulators: TwoAccounts['emulators'];
const processes = new CliProcesses();

/** The CLI with the test's shared AWS files (or none: `credentials: false`). */
function cli(
  args: string[],
  credentials: boolean,
  onStart?: (c: ChildProcess, err: () => string) => void,
): Promise<CliOutput> {
  const p = processes.start(args, {
    cwd: dir,
    env: { SHADOWFLEET_ENDPOINT: '', NO_COLOR: '1', ...accounts.awsFiles(credentials) },
  });
  onStart?.(p.child, () => p.stderr);
  return p.exited.then((code) => ({ code, stdout: p.stdout, stderr: p.stderr }));
}

beforeAll(async () => {
  admin = await openRedis();
  accounts = await startTwoAccounts({
    prefix: 'sf-accounts-cli-',
    quota: { eu: ACCOUNTS.eu.quota, us: ACCOUNTS.us.quota },
    things: { eu: ACCOUNTS.eu.things, us: ACCOUNTS.us.things },
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

let workerLogs: Promise<Array<() => string>> | undefined;

/** Two `shadowfleet worker` processes on the test's queue, started once, with the accounts' profiles. */
function ensureWorkers(): Promise<Array<() => string>> {
  workerLogs ??= Promise.all(
    ['w1', 'w2'].map(
      (id) =>
        new Promise<() => string>((resolve) => {
          void cli(
            ['worker', '--id', id, '--concurrency', '2', '--redis', REDIS_URL, '--queue', QUEUE],
            true,
            (_c, err) => void waitForText(err, /"worker started"/).then(() => resolve(err)),
          );
        }),
    ),
  );
  return workerLogs;
}

/** Each emulator saw only its own account: its own keys, no throttle, only its things, the change on each. */
async function expectEachAccountOnItsOwn(mode: string): Promise<void> {
  for (const a of ['eu', 'us'] as const) {
    const acc = ACCOUNTS[a];
    const stats = emulators[a].stats();
    expect(stats.unauthorized, `${a}: requests with another account's keys`).toBe(0);
    // The emulator enforces the account's quota itself: a request above it would be answered 429.
    expect(stats.totals.throttled, `${a}: throttled above its quota`).toBe(0);
    expect(stats.shadows, `${a}: shadows other than its own things`).toBe(acc.things);
    const client = new IotDataClient({
      endpoint: emulators[a].url,
      credentials: KEYS[a],
    });
    for (const i of [0, acc.things - 1]) {
      const doc = await client.getThingShadow({ thingName: `${a}-pump-${i}` });
      expect(doc.state?.desired).toEqual({ mode });
    }
    await client.close();
  }
}

describe('shadowfleet rollout --accounts', { timeout: 240_000 }, () => {
  it('runs a two-account plan in one process: a section per account and the total, one outcome file and page', async () => {
    const r = await cli(
      [
        'rollout',
        '--set',
        '{"mode":"eco"}',
        '--accounts',
        'accounts.yaml',
        '--yes',
        '--json',
        '--journal',
        'local.journal',
        '--report',
        'local.ndjson',
        '--report-page',
        'local.html',
      ],
      true,
    );
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.accounts.map((a: any) => [a.name, a.ok, a.result.summary.byOutcome])).toEqual([
      ['eu-prod', true, { written: ACCOUNTS.eu.things }],
      ['us-prod', true, { written: ACCOUNTS.us.things }],
    ]);
    expect(result.total.summary.things).toBe(ACCOUNTS.eu.things + ACCOUNTS.us.things);
    await expectEachAccountOnItsOwn('eco');
    const lines = (await readFile(join(dir, 'local.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.account === 'eu-prod').map((l) => l.thing.slice(0, 3))).toEqual(
      Array(ACCOUNTS.eu.things).fill('eu-'),
    );
    expect(lines.filter((l) => l.account === 'us-prod')).toHaveLength(ACCOUNTS.us.things);
    const page = await readFile(join(dir, 'local.html'), 'utf8');
    for (const text of ['Rollout in 2 accounts', 'Account eu-prod', 'Account us-prod']) expect(page).toContain(text);
    await expect(readFile(join(dir, 'local.journal.us-prod'), 'utf8')).resolves.toContain('us-pump-0');

    // The human summary: a section per account, then the total.
    const again = await cli(['rollout', '--set', '{"mode":"eco"}', '--accounts', 'accounts.yaml', '--yes'], true);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^account eu-prod: http:\/\/127\.0\.0\.1:\d+ \(us-east-1\)\n {2}rollout +done/);
    expect(again.stdout).toMatch(/\n\naccount us-prod: .*\n {2}rollout +done\n {2}things +60\n {4}unchanged +60/);
    expect(again.stdout).toMatch(/\n\ntotal: 2 accounts\n {2}rollout +done\n {2}things +100\n {4}unchanged +100/);
  });

  it('fails the plan (exit 1) when one account cannot run; the other runs to the end', async () => {
    const plan = (await readFile(join(dir, 'accounts.yaml'), 'utf8')).replace(
      'targets: { things: eu.txt }',
      'targets: { thingGroup: no-such-group }',
    );
    await writeFile(join(dir, 'one-missing.yaml'), plan);
    const r = await cli(['rollout', '--set', '{"mode":"eco"}', '--accounts', 'one-missing.yaml', '--yes'], true);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^account eu-prod: .*\n {2}error: .*no-such-group/);
    expect(r.stdout).toMatch(/\n\naccount us-prod: .*\n {2}rollout +done/);
    expect(r.stdout).toContain('total: 2 accounts, 1 with failures or stopped');
  });

  it('refuses a bad plan before the first request: exit 2, naming the file, the account and the field', async () => {
    await writeFile(
      join(dir, 'bad.yaml'),
      'accounts:\n  - name: eu\n    endpoint: http://127.0.0.1:1\n    profile: a\n    roleArn: arn:aws:iam::111122223333:role/x\n  - name: eu\n',
    );
    const r = await cli(['rollout', '--set', '{"a":1}', '--accounts', 'bad.yaml'], true);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.yaml: accounts[0] (eu): profile, roleArn: give one, not both');
    expect(r.stderr).toContain('bad.yaml: accounts[1] (eu): name: already used by accounts[0]');
    expect(r.stderr).toContain("bad.yaml: accounts[1] (eu): endpoint: required (the account's data endpoint URL)");
  });

  it('runs the plan on the real Redis with two worker processes, each account within its own shared quota', async () => {
    for (const e of Object.values(emulators)) e.resetStats();
    const logs = await ensureWorkers();
    // The submitter has no credentials file: only the workers resolve the accounts' profiles.
    const r = await cli(
      [
        'rollout',
        '--set',
        '{"mode":"turbo"}',
        '--accounts',
        'accounts.yaml',
        '--yes',
        '--json',
        '--report',
        'queue.ndjson',
        '--redis',
        REDIS_URL,
        '--queue',
        QUEUE,
      ],
      false,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`job \\S+ runs on queue "${QUEUE}"`));
    const result = JSON.parse(r.stdout);
    expect(result.accounts.map((a: any) => [a.name, a.result.summary.byOutcome])).toEqual([
      ['eu-prod', { written: ACCOUNTS.eu.things }],
      ['us-prod', { written: ACCOUNTS.us.things }],
    ]);
    expect(result.total.summary.byOutcome).toEqual({ written: ACCOUNTS.eu.things + ACCOUNTS.us.things });
    await expectEachAccountOnItsOwn('turbo');
    // One gate per account in Redis, keyed by its endpoint.
    for (const e of Object.values(emulators)) {
      const keys = await gateKeys(admin, e.url);
      expect(keys.length, `no Redis gate for ${e.url}`).toBeGreaterThan(0);
    }
    const lines = (await readFile(join(dir, 'queue.ndjson'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(ACCOUNTS.eu.things + ACCOUNTS.us.things);
    expect(logs.map((l) => l())).toHaveLength(2);
  });

  it('goes on when the submitter is killed; attach takes the plan over and each account resumes in its own lane', async () => {
    const sizes = { eu: 200, us: 300 } as const;
    for (const a of ['eu', 'us'] as const)
      await writeFile(
        join(dir, `${a}-big.txt`),
        `${Array.from({ length: sizes[a] }, (_, i) => `${a}-pump-${i}`).join('\n')}\n`,
      );
    const plan = (await readFile(join(dir, 'accounts.yaml'), 'utf8'))
      .replace('things: eu.txt', 'things: eu-big.txt')
      .replace('things: us.txt', 'things: us-big.txt');
    await writeFile(join(dir, 'big.yaml'), plan);
    await ensureWorkers();
    for (const e of Object.values(emulators)) e.resetStats();
    let subErr = (): string => '';
    let sub!: ChildProcess;
    const submitted = cli(
      [
        'rollout',
        '--set',
        '{"mode":"attached"}',
        '--accounts',
        'big.yaml',
        '--yes',
        '--journal',
        'big.journal',
        '--report',
        'big.ndjson',
        '--redis',
        REDIS_URL,
        '--queue',
        QUEUE,
      ],
      false,
      (c, err) => {
        sub = c;
        subErr = err;
      },
    );
    await waitForText(() => subErr(), /rollout write: [1-9]\d*\/500/);
    const id = /job (\S+) runs on queue/.exec(subErr())?.[1];
    expect(id).toBeDefined();
    sub.kill('SIGKILL');
    await submitted;
    const att = await cli(
      ['attach', id as string, '--stale-ms', '3000', '--redis', REDIS_URL, '--queue', QUEUE],
      false,
    );
    expect(att.code, att.stderr).toBe(0);
    expect(att.stderr).toMatch(/taking the job over/);
    const lines = (await readFile(join(dir, 'big.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { account: string; thing: string; outcome: string });
    const seen = new Set(lines.map((l) => `${l.account}/${l.thing}`));
    expect(seen.size).toBe(lines.length);
    expect(lines.filter((l) => l.account === 'eu-prod' && l.thing.startsWith('eu-'))).toHaveLength(sizes.eu);
    expect(lines.filter((l) => l.account === 'us-prod' && l.thing.startsWith('us-'))).toHaveLength(sizes.us);
    expect(lines.every((l) => l.outcome === 'written' || l.outcome === 'unchanged')).toBe(true);
    for (const a of ['eu', 'us'] as const) {
      const stats = emulators[a].stats();
      expect(stats.unauthorized).toBe(0);
      expect(stats.totals.throttled).toBe(0);
      expect(stats.shadows).toBe(sizes[a]);
    }
  });
});
