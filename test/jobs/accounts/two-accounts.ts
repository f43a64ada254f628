/**
 * Two accounts for the tests of a plan: two emulators on port 0, each with its own quota and
 * its own keys (SigV4 verified), a things file per account (`eu.txt`, `us.txt`) and a shared
 * credentials file with a profile per account (`acct-eu`, `acct-us`) in a temporary directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededThingName, startEmulator, type Emulator } from '../../../src/emulator/index.js';

export type Account = 'eu' | 'us';
export const ACCOUNT_IDS: readonly Account[] = ['eu', 'us'];

export const KEYS: Record<Account, { accessKeyId: string; secretAccessKey: string }> = {
  eu: { accessKeyId: 'AKIDACCOUNTEU0000001', secretAccessKey: 'eu-secret-key-of-the-first-account' },
  us: { accessKeyId: 'AKIDACCOUNTUS0000002', secretAccessKey: 'us-secret-key-of-the-second-account' },
};

/** The account's name in the plan. */
export function accountName(a: Account): string {
  return `${a}-prod`;
}

export interface TwoAccountsOptions {
  /** The temporary directory's name prefix. */
  prefix: string;
  quota: Record<Account, number>;
  things: Record<Account, number>;
  /** Seeded things (the emulator's seededThingName(i)) instead of empty ones named `<a>-pump-<i>`. */
  seeded?: boolean;
}

export interface TwoAccounts {
  dir: string;
  emulators: Record<Account, Emulator>;
  /** The plan's YAML: each account's endpoint, profile, things file and quota (and region, with `regions`). */
  plan(regions?: boolean): string;
  /** The AWS files a process reaches the accounts' profiles through (`credentials: false`: a credentials file that is not there). */
  awsFiles(credentials?: boolean): { AWS_SHARED_CREDENTIALS_FILE: string; AWS_CONFIG_FILE: string };
  /** The emulators' URLs. */
  endpoints(): string[];
  close(): Promise<void>;
}

export async function startTwoAccounts(o: TwoAccountsOptions): Promise<TwoAccounts> {
  const dir = await mkdtemp(join(tmpdir(), o.prefix));
  const emulators = {} as Record<Account, Emulator>;
  const close = async (): Promise<void> => {
    for (const e of Object.values(emulators)) await e?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await setUp(dir, emulators, o);
  } catch (err) {
    await close();
    throw err;
  }
  const region: Record<Account, string> = { eu: 'eu-west-1', us: 'us-east-1' };
  const plan = (regions = false): string =>
    [
      'accounts:',
      ...ACCOUNT_IDS.flatMap((a) => [
        `  - name: ${accountName(a)}`,
        `    endpoint: ${emulators[a].url}`,
        ...(regions ? [`    region: ${region[a]}`] : []),
        `    profile: acct-${a}`,
        `    targets: { things: ${a}.txt }`,
        `    rate: { perSecond: ${o.quota[a]} }`,
      ]),
      '',
    ].join('\n');
  const awsFiles = (credentials = true): { AWS_SHARED_CREDENTIALS_FILE: string; AWS_CONFIG_FILE: string } => ({
    AWS_SHARED_CREDENTIALS_FILE: join(dir, credentials ? 'credentials' : 'none'),
    AWS_CONFIG_FILE: join(dir, 'config'),
  });
  return { dir, emulators, plan, awsFiles, endpoints: () => ACCOUNT_IDS.map((a) => emulators[a].url), close };
}

async function setUp(dir: string, emulators: Record<Account, Emulator>, o: TwoAccountsOptions): Promise<void> {
  for (const a of ACCOUNT_IDS) {
    emulators[a] = await startEmulator({
      port: 0,
      quotas: { accountRps: o.quota[a] },
      ...(o.seeded ? { seedThings: o.things[a] } : {}),
      sigv4: { credentials: [KEYS[a]] },
    });
    const names = Array.from({ length: o.things[a] }, (_, i) => (o.seeded ? seededThingName(i) : `${a}-pump-${i}`));
    await writeFile(join(dir, `${a}.txt`), `${names.join('\n')}\n`);
  }
  await writeFile(
    join(dir, 'credentials'),
    ACCOUNT_IDS.map(
      (a) =>
        `[acct-${a}]\naws_access_key_id = ${KEYS[a].accessKeyId}\naws_secret_access_key = ${KEYS[a].secretAccessKey}\n`,
    ).join('\n'),
  );
  await writeFile(join(dir, 'config'), '');
}
