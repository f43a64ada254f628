import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { AbortError, ConfigError } from '../../src/errors.js';
import { SnapshotReader } from '../../src/sinks/index.js';
import { runSnapshot, type SnapshotRecord } from '../../src/jobs/snapshot/snapshot.js';
import { S3_CREDENTIALS, startS3, type S3Fixture } from '../sinks/s3-fixture.js';

const THINGS = 30; // seeded: classic + "config" each, "firmware" on every third thing (device-000001, -000004, ...)

let emu: Emulator;
let s3: S3Fixture;
let root: string;

beforeAll(async () => {
  [emu, s3, root] = await Promise.all([
    startEmulator({ port: 0, quotas: 'off', seedThings: THINGS }),
    startS3(),
    mkdtemp(join(tmpdir(), 'shadowfleet-snap-')),
  ]);
  await s3.createBucket('fleet-snapshots');
});
afterAll(async () => {
  await Promise.all([emu?.close(), s3?.close(), rm(root, { recursive: true, force: true })]);
});

const base = () => ({ endpoint: emu.url, workers: 1, rates: 'off' as const });

async function readAll(location: string): Promise<SnapshotRecord[]> {
  const reader = await SnapshotReader.open(location, { endpoint: s3.endpoint, credentials: { ...S3_CREDENTIALS } });
  const out: SnapshotRecord[] = [];
  for await (const r of reader.records()) out.push(r);
  reader.close();
  return out;
}

describe('runSnapshot against the emulator', () => {
  it('snapshots every shadow of the fleet listed by ListThings to a local directory', async () => {
    const out = join(root, 'all');
    const res = await runSnapshot({ ...base(), out, allThings: true });
    const expected = THINGS * 2 + THINGS / 3;
    expect(res.things).toBe(THINGS);
    expect(res.records).toBe(expected);
    expect(res.failed).toBe(0);
    expect(res.manifest).toMatchObject({
      format: 'shadowfleet-snapshot',
      formatVersion: 1,
      endpoint: emu.url,
      records: expected,
      things: THINGS,
      counts: { read: THINGS },
      failures: { total: 0, items: [] },
    });
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'shadows.jsonl.gz']);
    const records = await readAll(out);
    expect(records).toHaveLength(expected);
    const one = records.find((r) => r.thing === 'device-000004' && r.shadow === 'firmware')!;
    const live = emu.store.get('device-000004', 'firmware')!;
    expect(one.version).toBe(live.version);
    expect(one.state).toEqual({ desired: live.state.desired, reported: live.state.reported });
    expect(emu.stats().operations.ListThings.requests).toBeGreaterThan(0);
  });

  it('snapshots the things of a file to S3 as a multipart-capable upload with the manifest last', async () => {
    const file = join(root, 'things.txt');
    await writeFile(file, 'device-000001\ndevice-000002\n# a comment\ndevice-000003\nno-such-thing\n');
    const res = await runSnapshot({
      ...base(),
      out: 's3://fleet-snapshots/nightly/2026-11-26/',
      things: file,
      s3: { endpoint: s3.endpoint, credentials: { ...S3_CREDENTIALS }, sse: 'AES256', storageClass: 'STANDARD_IA' },
    });
    expect(res.things).toBe(4);
    expect(res.records).toBe(7);
    expect(res.manifest.counts).toEqual({ read: 3, 'no-shadows': 1 });
    expect(await s3.keys('fleet-snapshots', 'nightly/2026-11-26/')).toEqual([
      'nightly/2026-11-26/manifest.json',
      'nightly/2026-11-26/shadows.jsonl.gz',
    ]);
    const records = await readAll('s3://fleet-snapshots/nightly/2026-11-26/');
    expect(records.map((r) => `${r.thing}/${r.shadow ?? '-'}`).sort()).toEqual([
      'device-000001/-',
      'device-000001/config',
      'device-000001/firmware',
      'device-000002/-',
      'device-000002/config',
      'device-000003/-',
      'device-000003/config',
    ]);
  });

  it('reads only the shadows the filter chooses', async () => {
    const classic = await runSnapshot({
      ...base(),
      out: join(root, 'classic'),
      things: ['device-000001', 'device-000003'],
      shadows: 'classic',
    });
    expect(classic.records).toBe(2);
    expect(classic.manifest.shadows).toBe('classic');
    const fw = await runSnapshot({
      ...base(),
      out: join(root, 'fw'),
      things: ['device-000001', 'device-000003', 'device-000004'],
      shadows: 'firm*',
    });
    expect((await readAll(join(root, 'fw'))).map((r) => `${r.thing}/${r.shadow}`).sort()).toEqual([
      'device-000001/firmware',
      'device-000004/firmware',
    ]);
    expect(fw.records).toBe(2);
  });

  it('fails on an unwritable destination before reading anything from the fleet', async () => {
    const blocker = join(root, 'blocker');
    await writeFile(blocker, 'not a directory');
    const before = emu.stats().totals.requests;
    const listBefore = emu.stats().operations.ListThings.requests;
    await expect(runSnapshot({ ...base(), out: join(blocker, 'snap'), allThings: true })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(
      runSnapshot({
        ...base(),
        out: 's3://no-such-bucket/x/',
        things: ['device-000001'],
        s3: { endpoint: s3.endpoint, credentials: { ...S3_CREDENTIALS }, maxAttempts: 1 },
      }),
    ).rejects.toThrow(/not writable.*NoSuchBucket/);
    expect(emu.stats().totals.requests).toBe(before);
    expect(emu.stats().operations.ListThings.requests).toBe(listBefore);
  });

  it('leaves no manifest and no visible object in S3 when interrupted mid-way', async () => {
    const big = await startEmulator({ port: 0, quotas: 'off', seedThings: 3000 });
    try {
      const ac = new AbortController();
      const err = await runSnapshot({
        endpoint: big.url,
        workers: 1,
        rates: 'off',
        allThings: true,
        out: 's3://fleet-snapshots/interrupted/',
        s3: { endpoint: s3.endpoint, credentials: { ...S3_CREDENTIALS } },
        signal: ac.signal,
        progressIntervalMs: 20,
        onProgress: (p) => {
          if (p.things > 0) ac.abort(new Error('SIGINT'));
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AbortError);
      expect((err as Error).message).toMatch(
        /snapshot interrupted after \d+ things; nothing was written to s3:\/\/fleet-snapshots\/interrupted\//,
      );
      expect(big.stats().operations.GetThingShadow.requests).toBeGreaterThan(0);
      expect(await s3.keys('fleet-snapshots', 'interrupted/')).toEqual([]);
    } finally {
      await big.close();
    }
  });

  it('lists the shadows it could not read, and why, in the manifest', async () => {
    const faulty = await startEmulator({
      port: 0,
      quotas: 'off',
      seedThings: 3,
      faults: {
        kinds: { internalError: 1, unavailable: 0, reset: 0 },
        perOperation: { ListNamedShadowsForThing: { rate: 1 } },
      },
    });
    try {
      const out = join(root, 'partial');
      const res = await runSnapshot({
        endpoint: faulty.url,
        workers: 1,
        rates: 'off',
        things: ['device-000001', 'device-000002', 'device-000003'],
        out,
        requestAttempts: 1,
      });
      expect(res.failed).toBe(3);
      expect(res.records).toBe(3); // the classic shadows
      expect(res.manifest.counts).toEqual({ partial: 3 });
      expect(res.manifest.failures.total).toBe(3);
      expect(res.manifest.failures.items[0]).toMatchObject({
        thing: expect.stringMatching(/^device-00000[123]$/),
        code: 'InternalFailureException',
      });
      expect(res.manifest.failures.items[0]!.message).toMatch(/ListNamedShadowsForThing failed with 500/);
      expect((await readAll(out)).every((r) => r.shadow === null)).toBe(true);
      const strict = join(root, 'strict');
      await expect(
        runSnapshot({
          endpoint: faulty.url,
          workers: 1,
          rates: 'off',
          things: ['device-000001', 'device-000002'],
          out: strict,
          requestAttempts: 1,
          maxFailures: 0,
        }),
      ).rejects.toThrow(
        /snapshot aborted: more than 0 things could not be read \(first: device-00000[12]: ListNamedShadowsForThing failed with 500/,
      );
      expect(await readdir(strict)).toEqual([]);
    } finally {
      await faulty.close();
    }
  });

  it('writes nothing when interrupted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('SIGINT'));
    const out = join(root, 'interrupted');
    await expect(runSnapshot({ ...base(), out, allThings: true, signal: ac.signal })).rejects.toBeInstanceOf(
      AbortError,
    );
    expect(await readdir(out)).toEqual([]);
  });

  it('validates its options with messages that name the option', async () => {
    await expect(runSnapshot({ ...base(), out: join(root, 'x') } as never)).rejects.toThrow(
      'snapshot: give exactly one of things (a file, - for stdin, or names) and allThings',
    );
    await expect(
      runSnapshot({ ...base(), out: join(root, 'x'), allThings: true, shadows: 'classic,/bad' }),
    ).rejects.toThrow('shadows: "/bad" is neither classic, named nor a shadow name pattern');
    await expect(
      runSnapshot({ ...base(), endpoint: undefined, out: join(root, 'x'), allThings: true }),
    ).rejects.toThrow(/endpoint: required/);
  });
});
