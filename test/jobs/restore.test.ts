import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IotDataClient } from '../../src/client/index.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { InvalidArgumentError, SnapshotError } from '../../src/errors.js';
import { runRestore } from '../../src/jobs/restore/restore.js';
import { restoreHandler } from '../../workers/handlers/restore.js';
import type { WorkerGate } from '../../src/engine/task-types.js';
import { runSnapshot } from '../../src/jobs/snapshot/snapshot.js';
import { runDiff } from '../../src/jobs/diff/diff.js';
import { S3_CREDENTIALS, startS3, type S3Fixture } from '../sinks/s3-fixture.js';

const THINGS = ['device-000001', 'device-000002', 'device-000003', 'device-000004', 'device-000005', 'device-000006'];

let emu: Emulator;
let s3: S3Fixture;
let root: string;
let client: IotDataClient;
const s3opts = () => ({ endpoint: s3.endpoint, credentials: { ...S3_CREDENTIALS } });
const base = () => ({ endpoint: emu.url, workers: 1, rates: 'off' as const });
const updates = () => emu.stats().operations.UpdateThingShadow.requests;

beforeAll(async () => {
  [emu, s3, root] = await Promise.all([
    startEmulator({ port: 0, quotas: 'off', seedThings: 6 }),
    startS3(),
    mkdtemp(join(tmpdir(), 'shadowfleet-restore-')),
  ]);
  await s3.createBucket('snaps');
  client = new IotDataClient({ endpoint: emu.url });
});
afterAll(async () => {
  await client?.close();
  await Promise.all([emu?.close(), s3?.close(), rm(root, { recursive: true, force: true })]);
});

/** What a bad rollout and the devices do to the fleet after the "before" snapshot. */
async function changeFleet(): Promise<void> {
  await client.updateThingShadow({
    thingName: 'device-000001',
    payload: { state: { desired: { mode: 'turbo', newKey: { a: 1 } } } },
  });
  await client.updateThingShadow({
    thingName: 'device-000002',
    payload: { state: { desired: { thresholds: { tempHigh: null } } } },
  });
  await client.updateThingShadow({
    thingName: 'device-000003',
    shadowName: 'config',
    payload: { state: { desired: { features: { ota: false } } } },
  });
  await client.updateThingShadow({ thingName: 'device-000004', payload: { state: { reported: { battery: 1 } } } });
  await client.updateThingShadow({
    thingName: 'device-000005',
    shadowName: 'added-later',
    payload: { state: { desired: { x: 1 } } },
  });
}

describe('runRestore against the emulator', () => {
  it('restores a changed fleet from an S3 snapshot, sending only the differences, and comes back to the same state', async () => {
    const things = join(root, 'things.txt');
    await writeFile(things, THINGS.join('\n'));
    await runSnapshot({ ...base(), things, out: 's3://snaps/before/', s3: s3opts() });
    await changeFleet();

    const before = updates();
    const dry = await runRestore({ ...base(), from: 's3://snaps/before/', s3: s3opts(), dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.wouldWrite).toBe(3); // desired changed on 000001, 000002 and 000003/config; 000004 changed reported only
    expect(updates()).toBe(before);

    const res = await runRestore({ ...base(), from: 's3://snaps/before/', s3: s3opts() });
    expect(res.written).toBe(3);
    expect(res.failed).toBe(0);
    expect(res.unchanged).toBe(res.total - 3);
    expect(updates() - before).toBe(3);
    expect(emu.store.get('device-000001')!.state.desired).not.toHaveProperty('newKey');
    expect(emu.store.get('device-000002')!.state.desired!.thresholds).toHaveProperty('tempHigh', 78.5);

    await runSnapshot({ ...base(), things, out: join(root, 'after-restore') });
    const diff = await runDiff({ a: 's3://snaps/before/', b: join(root, 'after-restore'), s3: s3opts() });
    // Desired is back; the device's own reported change stays (reported was not restored), and
    // the named shadow created after the snapshot is left alone.
    expect(diff.changes.map((c) => [c.thing, c.shadow, c.change, c.paths.map((p) => p.path)])).toEqual(
      expect.arrayContaining([
        ['device-000004', null, 'changed', ['reported.battery']],
        ['device-000005', 'added-later', 'added', ['desired']],
      ]),
    );
    expect(diff.summary.changed + diff.summary.added + diff.summary.removed).toBe(2);

    const again = await runRestore({ ...base(), from: 's3://snaps/before/', s3: s3opts() });
    expect(again.written).toBe(0);
    expect(again.unchanged).toBe(again.total);
  });

  it('restores reported too when asked', async () => {
    const out = join(root, 'with-reported');
    await runSnapshot({ ...base(), things: ['device-000006'], out, shadows: 'classic' });
    await client.updateThingShadow({
      thingName: 'device-000006',
      payload: { state: { reported: { battery: 2, extra: true } } },
    });
    const desiredOnly = await runRestore({ ...base(), from: out });
    expect(desiredOnly.unchanged).toBe(1);
    const res = await runRestore({ ...base(), from: out, reported: true });
    expect(res.written).toBe(1);
    expect(emu.store.get('device-000006')!.state.reported).not.toHaveProperty('extra');
  });

  it('needs yes above the blast-radius cap, and writes nothing without it', async () => {
    const out = join(root, 'cap');
    await runSnapshot({ ...base(), things: THINGS, out });
    const before = emu.stats().totals.requests;
    const err = await runRestore({ ...base(), from: out, safety: { maxThings: 2 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(
      /more than 2 \(the blast-radius cap, safety.maxThings\): confirm with --yes/,
    );
    expect(emu.stats().totals.requests).toBe(before);
    const ok = await runRestore({ ...base(), from: out, safety: { maxThings: 2 }, yes: true });
    expect(ok.failed).toBe(0);
  });

  it('refuses a snapshot whose checksum does not match its manifest, before any read or write', async () => {
    const out = join(root, 'tampered');
    await runSnapshot({ ...base(), things: ['device-000001'], out });
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    m.data.sha256 = 'f'.repeat(64);
    await writeFile(join(out, 'manifest.json'), JSON.stringify(m));
    const before = emu.stats().totals.requests;
    await expect(runRestore({ ...base(), from: out })).rejects.toBeInstanceOf(SnapshotError);
    expect(emu.stats().totals.requests).toBe(before);
  });
});

describe('the restore handler', () => {
  it('re-reads and rebases when a device writes between the read and the guarded write', async () => {
    emu.store.update(
      'conflict-1',
      undefined,
      JSON.stringify({ state: { desired: { a: 2, b: 1 }, reported: { r: 1 } } }),
    );
    let deviceWrites = 0;
    const c = new IotDataClient({
      endpoint: emu.url,
      hooks: {
        afterAttempt: (op, ref) => {
          // The device answers right after our first read: the version we read is stale.
          if (op === 'GetThingShadow' && ref?.thingName === 'conflict-1' && deviceWrites === 0) {
            deviceWrites += 1;
            emu.store.update('conflict-1', undefined, JSON.stringify({ state: { reported: { r: 2 } } }));
          }
        },
      },
    });
    const gate: WorkerGate = {
      acquire: async () => {},
      release: () => {},
      takeUsage: () => ({ requests: 0, throttles: 0 }),
    };
    try {
      const [r] = await restoreHandler(
        [{ thingName: 'conflict-1', data: { state: JSON.stringify({ desired: { a: 1 } }) } }],
        { config: { reported: false, dryRun: false }, client: c, gate },
      );
      expect(r).toMatchObject({ thingName: 'conflict-1', outcome: 'rebased', attempts: 2, detail: { conflicts: 1 } });
      expect(emu.store.get('conflict-1')!.state).toMatchObject({ desired: { a: 1 }, reported: { r: 2 } });
    } finally {
      await c.close();
    }
  });
});
