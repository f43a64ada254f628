/**
 * A two-account plan run locally: two emulators, each its own account with its own quota and
 * its own keys (SigV4 verified), reached through two profiles of a temporary shared
 * credentials file that the worker threads resolve themselves (two-accounts.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IotDataClient } from '../../../src/client/index.js';
import { parseAccountPlan } from '../../../src/jobs/accounts/account-plan.js';
import { runRolloutAccounts } from '../../../src/jobs/accounts/run-accounts.js';
import { KEYS, startTwoAccounts, type TwoAccounts } from './two-accounts.js';

const QUOTA = { eu: 20, us: 30 };
const THINGS = { eu: 40, us: 50 };

let accounts: TwoAccounts;
let dir: string;
let emulators: TwoAccounts['emulators'];

beforeAll(async () => {
  accounts = await startTwoAccounts({ prefix: 'shadowfleet-accounts-', quota: QUOTA, things: THINGS });
  ({ dir, emulators } = accounts);
  for (const [name, file] of Object.entries(accounts.awsFiles())) vi.stubEnv(name, file);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await accounts?.close();
});

function planText(): string {
  return accounts.plan(true);
}

describe('runRolloutAccounts', () => {
  it('runs the change in both accounts at once, each with its own keys and within its own quota', async () => {
    const plan = parseAccountPlan(planText(), join(dir, 'accounts.yaml'));
    const report = join(dir, 'outcomes.ndjson');
    const events: number[] = [];
    const result = await runRolloutAccounts({
      accounts: plan,
      desired: { mode: 'eco' },
      report,
      journal: join(dir, 'rollout.journal'),
      yes: true,
      workers: 1,
      progressIntervalMs: 100,
      onProgress: (p) => events.push(Object.keys(p.accounts).length),
    });

    expect(result.ok).toBe(true);
    expect(result.accounts.map((s) => [s.name, s.ok, s.result?.summary.byOutcome])).toEqual([
      ['eu-prod', true, { written: THINGS.eu }],
      ['us-prod', true, { written: THINGS.us }],
    ]);
    expect(result.total.summary.things).toBe(THINGS.eu + THINGS.us);
    expect(result.total.summary.byOutcome).toEqual({ written: THINGS.eu + THINGS.us });
    expect(result.total.failedAccounts).toBe(0);
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events)).toEqual(new Set([2]));

    for (const a of ['eu', 'us'] as const) {
      const stats = emulators[a].stats();
      // Only its own account's things reached each emulator, signed with its own keys, never throttled.
      expect(stats.unauthorized).toBe(0);
      expect(stats.totals.throttled).toBe(0);
      expect(stats.shadows).toBe(THINGS[a]);
      const client = new IotDataClient({ endpoint: emulators[a].url, credentials: KEYS[a], region: 'us-east-1' });
      const doc = await client.getThingShadow({ thingName: `${a}-pump-${THINGS[a] - 1}` });
      expect(doc.state?.desired).toEqual({ mode: 'eco' });
      await client.close();
    }

    // One outcome file, each line carrying its account; one journal per account.
    const lines = (await readFile(report, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(THINGS.eu + THINGS.us);
    expect(lines.filter((l) => l.account === 'eu-prod').every((l) => l.thing.startsWith('eu-'))).toBe(true);
    expect(lines.filter((l) => l.account === 'us-prod')).toHaveLength(THINGS.us);
    const summary = JSON.parse(await readFile(`${report}.summary.json`, 'utf8'));
    expect(summary.total.summary.things).toBe(THINGS.eu + THINGS.us);
    await expect(readFile(join(dir, 'rollout.journal.eu-prod'), 'utf8')).resolves.toContain('eu-pump-0');
    await expect(readFile(join(dir, 'rollout.journal.us-prod'), 'utf8')).resolves.toContain('us-pump-0');
  });

  it('plans every account in a dry run: a plan per account and their total', async () => {
    const plan = parseAccountPlan(planText(), join(dir, 'accounts.yaml'));
    const result = await runRolloutAccounts({ accounts: plan, desired: { mode: 'dry' }, dryRun: true, workers: 1 });
    expect(result.dryRun).toBe(true);
    expect(result.accounts.map((a) => a.result?.plan?.wouldWrite)).toEqual([THINGS.eu, THINGS.us]);
    expect(result.total.plan?.wouldWrite).toBe(THINGS.eu + THINGS.us);
    expect(result.total.plan?.ratePerSecond).toBe(QUOTA.eu + QUOTA.us);
  });

  it('refuses an account with no targets (none in the plan, none for every account) before any account starts', async () => {
    const plan = parseAccountPlan(planText().replace('    targets: { things: us.txt }\n', ''), 'accounts.yaml');
    emulators.eu.resetStats();
    await expect(runRolloutAccounts({ accounts: plan, desired: { mode: 'x' }, yes: true })).rejects.toThrow(
      'accounts.yaml: accounts[1] (us-prod): targets: required (in the plan, or targets: in the rollout spec for every account)',
    );
    expect(emulators.eu.stats().totals.requests).toBe(0);
  });

  it("reports an account whose credentials the endpoint refuses in that account's section; the other runs", async () => {
    const plan = parseAccountPlan(
      planText().replace('profile: acct-us', 'profile: acct-eu'),
      join(dir, 'accounts.yaml'),
    );
    emulators.us.resetStats();
    const result = await runRolloutAccounts({ accounts: plan, desired: { mode: 'off' }, yes: true, workers: 1 });
    expect(result.ok).toBe(false);
    const [eu, us] = result.accounts;
    expect(eu?.ok).toBe(true);
    expect(eu?.result?.summary.byOutcome).toEqual({ written: THINGS.eu });
    expect(us?.ok).toBe(false);
    expect(us?.result?.summary.failed).toBe(THINGS.us);
    expect(Object.keys(us?.result?.summary.byError ?? {})).toEqual(['ForbiddenException']);
    expect(emulators.us.stats().unauthorized).toBeGreaterThan(0);
  });
});
