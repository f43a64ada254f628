/**
 * A snapshot of a two-account plan: two emulators, each its own account with its own quota and
 * its own keys (SigV4 verified), reached through two profiles of a temporary shared credentials
 * file that the worker threads resolve themselves; each account's snapshot under <out>/<name>/,
 * read back by the reader, diff and restore as any snapshot; to a directory and to S3 (s3rver).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IotDataClient } from '../../../src/client/index.js';
import { seededThingName } from '../../../src/emulator/index.js';
import { parseAccountPlan } from '../../../src/jobs/accounts/account-plan.js';
import { runSnapshotAccounts } from '../../../src/jobs/accounts/snapshot-accounts.js';
import { runDiff } from '../../../src/jobs/diff/diff.js';
import { runRestore } from '../../../src/jobs/restore/restore.js';
import { SnapshotReader } from '../../../src/sinks/index.js';
import { startS3, type S3Fixture } from '../../sinks/s3-fixture.js';
import { ACCOUNT_IDS, KEYS, startTwoAccounts, type TwoAccounts } from './two-accounts.js';

const QUOTA = { eu: 40, us: 60 };
const THINGS = { eu: 12, us: 18 };

let accounts: TwoAccounts;
let dir: string;
let s3: S3Fixture;
let emulators: TwoAccounts['emulators'];

beforeAll(async () => {
  accounts = await startTwoAccounts({
    prefix: 'shadowfleet-snap-accounts-',
    quota: QUOTA,
    things: THINGS,
    seeded: true,
  });
  ({ dir, emulators } = accounts);
  for (const a of ACCOUNT_IDS) {
    // One value only this account holds: its snapshot must carry it.
    const client = new IotDataClient({ endpoint: emulators[a].url, credentials: KEYS[a], region: 'us-east-1' });
    await client.updateThingShadow({ thingName: seededThingName(0), payload: { state: { desired: { account: a } } } });
    await client.close();
  }
  for (const [name, file] of Object.entries(accounts.awsFiles())) vi.stubEnv(name, file);
  s3 = await startS3();
  await s3.createBucket('fleet-snapshots');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await accounts?.close();
  await s3?.close();
});

function plan(): ReturnType<typeof parseAccountPlan> {
  return parseAccountPlan(accounts.plan(true), join(dir, 'accounts.yaml'));
}

async function recordsOf(location: string, options = {}): Promise<Array<{ thing: string; state: any }>> {
  const reader = await SnapshotReader.open(location, options);
  const out: Array<{ thing: string; state: any }> = [];
  try {
    for await (const r of reader.records()) out.push({ thing: r.thing, state: r.state });
  } finally {
    await reader.close();
  }
  return out;
}

describe('runSnapshotAccounts', () => {
  it('takes one ordinary snapshot per account at once, each with its own keys and within its own quota', async () => {
    const out = join(dir, 'snap');
    const events: string[][] = [];
    const result = await runSnapshotAccounts({
      accounts: plan(),
      out,
      progressIntervalMs: 100,
      onProgress: (p) => events.push(Object.keys(p.accounts)),
    });
    expect(result.ok).toBe(true);
    expect(result.accounts.map((s) => [s.name, s.ok, s.location, s.result?.things, s.result?.failed])).toEqual([
      ['eu-prod', true, join(out, 'eu-prod'), THINGS.eu, 0],
      ['us-prod', true, join(out, 'us-prod'), THINGS.us, 0],
    ]);
    expect(result.total.things).toBe(THINGS.eu + THINGS.us);
    expect(result.total.records).toBe(result.accounts.reduce((n, s) => n + (s.result?.records ?? 0), 0));
    expect(result.total.failedAccounts).toBe(0);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.join() === 'eu-prod,us-prod')).toBe(true);
    expect((await readdir(out)).sort()).toEqual(['eu-prod', 'us-prod']);

    for (const a of ['eu', 'us'] as const) {
      const stats = emulators[a].stats();
      expect(stats.unauthorized, `${a}: requests with another account's keys`).toBe(0);
      expect(stats.totals.throttled, `${a}: throttled above its quota`).toBe(0);
      const location = join(out, `${a}-prod`);
      const reader = await SnapshotReader.open(location);
      expect(reader.manifest.endpoint).toBe(emulators[a].url);
      expect(reader.manifest.things).toBe(THINGS[a]);
      await reader.close();
      const records = await recordsOf(location);
      expect(new Set(records.map((r) => r.thing)).size).toBe(THINGS[a]);
      expect(
        records.find((r) => r.thing === seededThingName(0) && r.state?.desired?.account)?.state.desired.account,
      ).toBe(a);
      // Restore reads it unchanged: against its own account nothing differs.
      const restored = await runRestore({
        endpoint: emulators[a].url,
        credentials: KEYS[a],
        from: location,
        dryRun: true,
        rates: 'off',
      });
      expect(restored.wouldWrite).toBe(0);
      expect(restored.failed).toBe(0);
    }
    // Diff reads two of them as any two snapshots: the eu fleet has fewer things.
    const diff = await runDiff({ a: join(out, 'us-prod'), b: join(out, 'eu-prod') });
    expect(diff.summary.thingsChanged).toBeGreaterThanOrEqual(THINGS.us - THINGS.eu);
  });

  it('writes each account under an S3 prefix', async () => {
    const result = await runSnapshotAccounts({
      accounts: plan(),
      out: 's3://fleet-snapshots/nightly/',
      s3: { client: s3.client },
    });
    expect(result.ok).toBe(true);
    expect(result.accounts.map((s) => s.location)).toEqual([
      's3://fleet-snapshots/nightly/eu-prod/',
      's3://fleet-snapshots/nightly/us-prod/',
    ]);
    const keys = await s3.keys('fleet-snapshots', 'nightly/');
    expect(keys.filter((k) => k.endsWith('manifest.json')).sort()).toEqual([
      'nightly/eu-prod/manifest.json',
      'nightly/us-prod/manifest.json',
    ]);
    const records = await recordsOf('s3://fleet-snapshots/nightly/us-prod/', { s3Client: s3.client });
    expect(new Set(records.map((r) => r.thing)).size).toBe(THINGS.us);
  });

  it('refuses before the first read when one account already has a snapshot there, leaving no directory behind', async () => {
    const out = join(dir, 'taken');
    await mkdir(join(out, 'us-prod'), { recursive: true });
    await writeFile(join(out, 'us-prod', 'manifest.json'), '{}\n');
    for (const e of Object.values(emulators)) e.resetStats();
    await expect(runSnapshotAccounts({ accounts: plan(), out })).rejects.toThrow(
      /accounts\.yaml: accounts\[1\] \(us-prod\): snapshot destination .*us-prod already holds a snapshot/,
    );
    expect(await readdir(out)).toEqual(['us-prod']);
    expect(await readdir(join(out, 'us-prod'))).toEqual(['manifest.json']);
    for (const e of Object.values(emulators)) expect(e.stats().totals.requests).toBe(0);

    // A destination that did not exist at all is not left behind either.
    const fresh = join(dir, 'fresh');
    const bad = parseAccountPlan(
      `accounts:\n  - name: eu-prod\n    endpoint: ${emulators.eu.url}\n    targets: { things: eu.txt }\n  - name: us-prod\n    endpoint: ${emulators.us.url}\n    targets: { things: us.txt }\n`,
      join(dir, 'accounts.yaml'),
    );
    await expect(
      runSnapshotAccounts({ accounts: bad, out: fresh, minFreeBytes: Number.MAX_SAFE_INTEGER }),
    ).rejects.toThrow(/accounts\[0\] \(eu-prod\): .*less than the .* required\n.*accounts\[1\] \(us-prod\)/);
    await expect(readdir(fresh)).rejects.toThrow(/ENOENT/);
  });

  it('stops every account on the signal: nothing written, no directory left behind', async () => {
    const out = join(dir, 'interrupted');
    const stop = new AbortController();
    const result = await runSnapshotAccounts({
      accounts: plan(),
      out,
      signal: stop.signal,
      progressIntervalMs: 50,
      // The first event of all: neither account can be done, each is held to its quota for most of a second.
      onProgress: () => stop.abort(),
    });
    expect([result.ok, result.interrupted]).toEqual([false, true]);
    expect(result.accounts.map((a) => [a.name, a.error?.name])).toEqual([
      ['eu-prod', 'AbortError'],
      ['us-prod', 'AbortError'],
    ]);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it("reports an account whose keys the endpoint refuses in that account's section; the other's snapshot is whole", async () => {
    const out = join(dir, 'one-refused');
    const p = plan();
    p.accounts[1]!.profile = 'acct-eu';
    const result = await runSnapshotAccounts({ accounts: p, out, rates: 'off' });
    expect(result.ok).toBe(false);
    expect(result.total.failedAccounts).toBe(1);
    const [eu, us] = result.accounts;
    expect([eu?.ok, eu?.result?.failed]).toEqual([true, 0]);
    expect(us?.ok).toBe(false);
    expect(us?.result?.failed).toBe(THINGS.us);
    expect(result.total.failed).toBe(THINGS.us);
  });
});
