import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { IotDataClient } from '../../src/client/index.js';
import { S3_CREDENTIALS, startS3, type S3Fixture } from '../sinks/s3-fixture.js';

let emu: Emulator;
let s3: S3Fixture;
let root: string;

beforeAll(async () => {
  [emu, s3, root] = await Promise.all([
    startEmulator({ port: 0, quotas: 'off', seedThings: 5 }),
    startS3(),
    mkdtemp(join(tmpdir(), 'shadowfleet-cli-')),
  ]);
  await s3.createBucket('cli-snaps');
});
afterAll(async () => {
  await Promise.all([emu?.close(), s3?.close(), rm(root, { recursive: true, force: true })]);
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await main(argv, { stdout: out, stderr: err });
  process.exitCode = undefined;
  return { code, stdout, stderr };
}

describe('shadowfleet snapshot, restore and diff commands', () => {
  it('snapshots to a directory, prints one JSON result on stdout and exits 0', async () => {
    const out = join(root, 'one');
    const r = await cli(
      'snapshot',
      '--endpoint',
      emu.url,
      '--all-things',
      '--out',
      out,
      '--rate',
      'off',
      '--workers',
      '1',
      '--json',
    );
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      things: 5,
      failed: 0,
      manifest: { format: 'shadowfleet-snapshot', records: result.records },
    });
    expect(result.records).toBeGreaterThanOrEqual(10);
  });

  it('snapshots to S3 through --s3-endpoint and restores from it in a dry run', async () => {
    const env = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = S3_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3_CREDENTIALS.secretAccessKey;
    try {
      const things = join(root, 'things.txt');
      await writeFile(things, 'device-000001\ndevice-000002\n');
      const snap = await cli(
        'snapshot',
        '--endpoint',
        emu.url,
        '--things',
        things,
        '--out',
        's3://cli-snaps/n1/',
        '--s3-endpoint',
        s3.endpoint,
        '--sse',
        'AES256',
        '--rate',
        'off',
        '--workers',
        '1',
      );
      expect(snap.code).toBe(0);
      expect(snap.stdout).toMatch(/^snapshot written to s3:\/\/cli-snaps\/n1\/\n {2}things {4}2\n/);
      expect(await s3.keys('cli-snaps', 'n1/')).toEqual(['n1/manifest.json', 'n1/shadows.jsonl.gz']);
      const client = new IotDataClient({ endpoint: emu.url });
      await client.updateThingShadow({
        thingName: 'device-000002',
        payload: { state: { desired: { mode: 'manual' } } },
      });
      await client.close();
      const dry = await cli(
        'restore',
        '--endpoint',
        emu.url,
        '--from',
        's3://cli-snaps/n1/',
        '--s3-endpoint',
        s3.endpoint,
        '--dry-run',
        '--rate',
        'off',
        '--workers',
        '1',
      );
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(
        /dry run of a restore from s3:\/\/cli-snaps\/n1\/\n {2}shadows {6}\d+\n {2}would write {2}1\n/,
      );
    } finally {
      process.env = env;
    }
  });

  it('diffs two snapshots and exits 1 with --exit-code when they differ', async () => {
    const a = join(root, 'diff-a');
    const b = join(root, 'diff-b');
    await cli('snapshot', '--endpoint', emu.url, '--all-things', '--out', a, '--rate', 'off', '--workers', '1');
    const client = new IotDataClient({ endpoint: emu.url });
    await client.updateThingShadow({
      thingName: 'device-000003',
      shadowName: 'config',
      payload: { state: { desired: { logLevel: 'trace' } } },
    });
    await client.close();
    await cli('snapshot', '--endpoint', emu.url, '--all-things', '--out', b, '--rate', 'off', '--workers', '1');
    const same = await cli('diff', a, a, '--exit-code');
    expect(same.code).toBe(0);
    const r = await cli('diff', a, b, '--exit-code');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('~ device-000003 "config"');
    expect(r.stdout).toContain('    ~ desired.logLevel');
    expect(r.stdout).toMatch(/0 added, 0 removed, 1 changed/);
    const json = await cli('diff', a, '--live', '--endpoint', emu.url, '--rate', 'off', '--workers', '1', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).summary.changed).toBe(1);
  });

  it('exits 2 for an unwritable destination and for usage errors', async () => {
    const blocker = join(root, 'blocker');
    await writeFile(blocker, 'x');
    const r = await cli('snapshot', '--endpoint', emu.url, '--all-things', '--out', join(blocker, 'snap'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/snapshot destination .* is not writable/);
    expect((await cli('snapshot', '--endpoint', emu.url, '--out', join(root, 'u'))).code).toBe(2);
    expect((await cli('diff', join(root, 'one'))).code).toBe(2);
  });
});
