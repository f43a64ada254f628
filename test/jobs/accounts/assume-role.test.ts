/**
 * An account reached through `roleArn`: the worker threads assume the role through STS
 * themselves (the source credentials from the default chain, STS at AWS_ENDPOINT_URL_STS as
 * every AWS SDK honours), sign with the role's session keys, and assume it again before the
 * session expires. STS here is a stand-in of AssumeRole (query protocol, AWS's XML answer) on a
 * local port that records each call; the emulator accepts only the role's session keys.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { parseAccountPlan } from '../../../src/jobs/accounts/account-plan.js';
import { runRolloutAccounts } from '../../../src/jobs/accounts/run-accounts.js';

const SOURCE = { accessKeyId: 'AKIDSOURCECHAIN00001', secretAccessKey: 'source-secret-of-the-default-chain' };
const ROLE_ARN = 'arn:aws:iam::111122223333:role/shadowfleet-rollout';
/** The sessions STS hands out in turn (the emulator accepts these and nothing else). */
const SESSIONS = Array.from({ length: 8 }, (_, i) => ({
  accessKeyId: `ASIAROLESESSION0000${i}`,
  secretAccessKey: `role-session-secret-${i}`,
}));
/** A session's life: CredentialSource renews 5 minutes before the end, so this one is renewed after 1.5 s. */
const SESSION_MS = 5 * 60_000 + 1500;

interface StsCall {
  params: URLSearchParams;
  /** The access key id the call was signed with. */
  signedBy: string | undefined;
}

let dir: string;
let emulator: Emulator;
let sts: Server;
const calls: StsCall[] = [];

function assumeRoleXml(i: number): string {
  const s = SESSIONS[Math.min(i, SESSIONS.length - 1)]!;
  const expiration = new Date(Date.now() + SESSION_MS).toISOString();
  return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLEROLEID:session</AssumedRoleId>
      <Arn>arn:aws:sts::111122223333:assumed-role/shadowfleet-rollout/session</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${s.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${s.secretAccessKey}</SecretAccessKey>
      <SessionToken>session-token-${i}</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>${i}-request</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shadowfleet-assume-'));
  sts = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const signedBy = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
      calls.push({ params: new URLSearchParams(body), signedBy });
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(assumeRoleXml(calls.length - 1));
    });
  });
  await new Promise<void>((r) => sts.listen(0, '127.0.0.1', r));
  const port = (sts.address() as { port: number }).port;
  emulator = await startEmulator({ port: 0, quotas: { accountRps: 20 }, sigv4: { credentials: SESSIONS } });
  await writeFile(join(dir, 'things.txt'), `${Array.from({ length: 80 }, (_, i) => `role-thing-${i}`).join('\n')}\n`);
  vi.stubEnv('AWS_ENDPOINT_URL_STS', `http://127.0.0.1:${port}`);
  vi.stubEnv('AWS_ACCESS_KEY_ID', SOURCE.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', SOURCE.secretAccessKey);
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'none'));
  vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'none'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await emulator?.close();
  await new Promise((r) => sts?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('an account with roleArn', () => {
  it('is reached with the role session keys each worker assumes, and assumed again before the session ends', async () => {
    const plan = parseAccountPlan(
      `accounts:
  - name: ops
    endpoint: ${emulator.url}
    region: eu-west-1
    roleArn: ${ROLE_ARN}
    externalId: fleet-ops
    sessionName: shadowfleet-test
    targets: { things: things.txt }
    rate: { perSecond: 20 }
`,
      join(dir, 'accounts.yaml'),
    );
    const result = await runRolloutAccounts({ accounts: plan, desired: { owner: 'ops' }, yes: true, workers: 1 });

    expect(result.accounts[0]?.result?.summary.byOutcome).toEqual({ written: 80 });
    expect(emulator.stats().unauthorized).toBe(0);
    // Every AssumeRole call: the role, its external id and session name, signed with the source chain's keys.
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const c of calls) {
      expect(c.params.get('Action')).toBe('AssumeRole');
      expect(c.params.get('RoleArn')).toBe(ROLE_ARN);
      expect(c.params.get('ExternalId')).toBe('fleet-ops');
      expect(c.params.get('RoleSessionName')).toBe('shadowfleet-test');
      expect(c.signedBy).toBe(SOURCE.accessKeyId);
    }
  });
});
