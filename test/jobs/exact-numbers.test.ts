/**
 * Issue 10, point 1: a shadow holding numbers a double cannot hold, written with raw HTTP (no
 * code of this project on the writing side), comes back byte for byte from `shadowfleet get`,
 * in a snapshot's record line and after a restore; a change in the last digit is found by
 * `diff --live`; a rollout that sets a big integer sends it exactly.
 */
import { execFile } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runDiff } from '../../src/jobs/diff/diff.js';
import { runRestore } from '../../src/jobs/restore/restore.js';
import { loadRolloutSpec } from '../../src/jobs/rollout/rollout-spec.js';
import { runRollout } from '../../src/jobs/rollout/rollout.js';
import { runSnapshot } from '../../src/jobs/snapshot/snapshot.js';

const BIG = '12345678901234567891';
const FINE = '0.1000000000000000055511151231257827';
const STATE = `{"desired":{"counter":${BIG},"ratio":${FINE}},"reported":{"counter":${BIG},"ratio":${FINE}}}`;
const CREDS = { AWS_ACCESS_KEY_ID: 'AKIDEXACT', AWS_SECRET_ACCESS_KEY: 'exact-secret' };

/** One request with node:http alone: an independent client. */
function raw(url: string, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, url),
      { method, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The `"state":{...}` text of a raw GET, cut at `,"metadata"`. */
async function rawState(url: string, thing: string): Promise<string> {
  const r = await raw(url, 'GET', `/things/${thing}/shadow`);
  expect(r.status).toBe(200);
  return r.text.slice(r.text.indexOf('"state":') + '"state":'.length, r.text.indexOf(',"metadata"'));
}

const exec = promisify(execFile);
function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return exec(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], {
    env: { ...process.env, ...CREDS },
    timeout: 60_000,
  }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      out: e.stdout ?? '',
      err: e.stderr ?? '',
    }),
  );
}

let emu: Emulator;
let dir: string;
const base = () => ({
  endpoint: emu.url,
  workers: 1,
  rates: 'off' as const,
  credentials: { accessKeyId: CREDS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDS.AWS_SECRET_ACCESS_KEY },
});

beforeAll(async () => {
  [emu, dir] = await Promise.all([startEmulator({ port: 0, quotas: 'off' }), mkdtemp(join(tmpdir(), 'sf-exact-'))]);
  const put = await raw(emu.url, 'POST', '/things/exact-1/shadow', `{"state":${STATE}}`);
  expect(put.status).toBe(200);
  await writeFile(join(dir, 'things.txt'), 'exact-1\n');
});

afterAll(async () => {
  await emu?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('numbers a double cannot hold, end to end', () => {
  it('come back byte for byte from shadowfleet get, as JSON and as the human document', async () => {
    const json = await cli(['get', '--endpoint', emu.url, '--thing', 'exact-1', '--json']);
    expect(json.err).toBe('');
    expect(json.code).toBe(0);
    expect(json.out).toContain(`"state":${STATE},"metadata"`);
    const human = await cli(['get', '--endpoint', emu.url, '--thing', 'exact-1']);
    expect(human.code).toBe(0);
    expect(human.out).toContain(`"counter": ${BIG},\n      "ratio": ${FINE}\n`);
  }, 120_000);

  it('are in a snapshot record line as sent, are put back exactly by a restore, and a change in the last digit shows in diff --live', async () => {
    const snap = join(dir, 'snap');
    await runSnapshot({ ...base(), things: join(dir, 'things.txt'), out: snap });
    const lines = gunzipSync(await readFile(join(snap, 'shadows.jsonl.gz')))
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`"state":${STATE}`);

    // A device changes the last digit of each number; a diff against the live fleet sees both.
    await raw(
      emu.url,
      'POST',
      '/things/exact-1/shadow',
      '{"state":{"desired":{"counter":12345678901234567892,"ratio":0.1000000000000000055511151231257828}}}',
    );
    const diff = await runDiff({ ...base(), a: snap, live: true, tempDir: dir });
    expect(diff.summary.changed).toBe(1);
    expect(diff.changes[0]?.paths).toEqual([
      { path: 'desired.counter', op: 'changed' },
      { path: 'desired.ratio', op: 'changed' },
    ]);

    const restored = await runRestore({ ...base(), from: snap });
    expect(restored.written).toBe(1);
    expect(await rawState(emu.url, 'exact-1')).toBe(STATE);
    const again = await runDiff({ ...base(), a: snap, live: true, tempDir: dir });
    expect(again.summary.changed).toBe(0);
    expect(again.summary.unchanged).toBe(1);
  }, 120_000);

  it('are sent exactly by a rollout whose YAML spec sets them', async () => {
    const spec = join(dir, 'rollout.yaml');
    await writeFile(spec, `desired:\n  serial: 98765432109876543210\n  gain: ${FINE}\n  hex: 0xFFFFFFFFFFFFFFFFFF\n`);
    const { desired } = await loadRolloutSpec(spec);
    const targets = join(dir, 'rollout-things.txt');
    await writeFile(targets, 'exact-r1\nexact-r2\n');
    const result = await runRollout({
      endpoint: emu.url,
      credentials: base().credentials,
      workers: 1,
      rate: 'off',
      desired: desired!,
      targets,
    });
    expect(result.summary.byOutcome.written).toBe(2);
    const sent = `{"serial":98765432109876543210,"gain":${FINE},"hex":4722366482869645213695}`;
    for (const thing of ['exact-r1', 'exact-r2']) {
      // No device reported yet: the whole desired state is also the delta.
      expect(await rawState(emu.url, thing)).toBe(`{"desired":${sent},"delta":${sent}}`);
    }
  }, 120_000);
});
