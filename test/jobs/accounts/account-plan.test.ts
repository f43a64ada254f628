import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAccountPlan, parseAccountPlan } from '../../../src/jobs/accounts/account-plan.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shadowfleet-plan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const problems = (text: string): string[] => {
  try {
    parseAccountPlan(text, 'accounts.yaml');
  } catch (err) {
    return (err as Error).message.split('\n');
  }
  throw new Error('expected the plan to be refused');
};

describe('account plan', () => {
  it('reads accounts with their endpoint, credentials, targets (paths from the file) and quota', () => {
    const plan = parseAccountPlan(
      `accounts:
  - name: eu-prod
    endpoint: https://abc-ats.iot.eu-west-1.amazonaws.com
    region: eu-west-1
    profile: prod-eu
    targets: { thingGroup: pumps, recursive: true }
    rate: { perSecond: 4000 }
  - name: us-prod
    endpoint: http://127.0.0.1:8443
    roleArn: arn:aws:iam::111122223333:role/shadowfleet
    externalId: fleet-ops
    targets: { things: ./us.txt }
`,
      '/plans/accounts.yaml',
    );
    expect(plan.accounts).toEqual([
      {
        name: 'eu-prod',
        endpoint: 'https://abc-ats.iot.eu-west-1.amazonaws.com',
        region: 'eu-west-1',
        profile: 'prod-eu',
        targets: { thingGroup: 'pumps', recursive: true },
        rate: { perSecond: 4000 },
      },
      {
        name: 'us-prod',
        endpoint: 'http://127.0.0.1:8443',
        roleArn: 'arn:aws:iam::111122223333:role/shadowfleet',
        externalId: 'fleet-ops',
        targets: '/plans/us.txt',
      },
    ]);
  });

  it('names the file, the account and the field of every problem', () => {
    expect(
      problems(`accounts:
  - name: eu-prod
    endpoint: https://abc-ats.iot.eu-west-1.amazonaws.com
    profile: a
    roleArn: arn:aws:iam::111122223333:role/x
  - name: eu-prod
    endpoint: http://127.0.0.1:1
  - name: us-prod
    targets: { thingGroup: pumps, query: 'a:b' }
  - name: ap
    endpoint: http://127.0.0.1:2
    sessionName: s1
    targets: { things: a.txt, allThings: true }
`),
    ).toEqual([
      'accounts.yaml: accounts[0] (eu-prod): profile, roleArn: give one, not both (a role is assumed with the default chain; a profile that assumes a role says so itself: role_arn and source_profile)',
      'accounts.yaml: accounts[1] (eu-prod): name: already used by accounts[0]',
      "accounts.yaml: accounts[2] (us-prod): endpoint: required (the account's data endpoint URL); shadowfleet does not guess an account",
      'accounts.yaml: accounts[2] (us-prod): targets: give one of thingGroup, query and allThings, not thingGroup and query',
      'accounts.yaml: accounts[3] (ap): sessionName: only with roleArn',
      'accounts.yaml: accounts[3] (ap): targets: give things or a selection, not both (allThings)',
    ]);
  });

  it('words field shapes with the one template, under the account', () => {
    expect(
      problems(`accounts:
  - name: eu
    endpoint: http://127.0.0.1:1
    rate: { perSecond: 0 }
    colour: red
  - name: 'bad name'
    endpoint: 'user:pw@host'
`),
    ).toEqual([
      'accounts.yaml: accounts[0] (eu): rate.perSecond: expected a positive number, got 0',
      'accounts.yaml: accounts[0] (eu): colour: unknown field',
      'accounts.yaml: accounts[1] (bad name): name: expected a name of letters, digits, ".", "_" or "-" (at most 64)',
    ]);
    expect(problems('accounts: []')).toEqual(['accounts.yaml: accounts: expected at least one account']);
    expect(problems('targets: {}')).toEqual([
      'accounts.yaml: accounts: expected a list of accounts',
      'accounts.yaml: targets: unknown field',
    ]);
  });

  it('refuses an endpoint that is no URL and a things file that cannot be read, before anything runs', async () => {
    expect(problems('accounts: [{ name: a, endpoint: "not a url" }]')).toEqual([
      'accounts.yaml: accounts[0] (a): endpoint is not a URL: "not a url"',
    ]);
    const file = join(dir, 'accounts.yaml');
    await writeFile(
      file,
      'accounts: [{ name: a, endpoint: "http://127.0.0.1:1", targets: { things: missing.txt } }]\n',
    );
    await expect(loadAccountPlan(file)).rejects.toThrow(
      `${file}: accounts[0] (a): targets.things: cannot read ${join(dir, 'missing.txt')} (ENOENT)`,
    );
  });
});
