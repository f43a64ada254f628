import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotError } from '../../src/errors.js';
import { LocalSink, SnapshotReader, parseSnapshotLocation } from '../../src/sinks/index.js';
import { encodeRecord } from '../../src/sinks/snapshot-format.js';
import { manifestFor, record, writeRecords } from './snapshot-fixture.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shadowfleet-reader-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A snapshot directory whose data is exactly `data` and whose manifest matches it. */
async function rawSnapshot(name: string, data: Buffer, records: number): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'shadows.jsonl.gz'), data);
  const m = manifestFor(records);
  m.data.bytes = data.length;
  m.data.sha256 = createHash('sha256').update(data).digest('hex');
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
  return dir;
}

async function drain(reader: SnapshotReader): Promise<number> {
  let n = 0;
  for await (const _ of reader.records()) n += 1;
  return n;
}

const many = Array.from({ length: 3000 }, (_, i) =>
  record(`thing-${i}`, i % 3 === 0 ? 'cfg' : null, { i, pad: `${i}`.repeat(20) }),
);

describe('SnapshotReader', () => {
  it('names the file and the line when the gzip data is truncated', async () => {
    const full = gzipSync(many.map(encodeRecord).join(''));
    const dir = await rawSnapshot('truncated', full.subarray(0, Math.floor(full.length / 2)), many.length);
    const reader = await SnapshotReader.open(dir);
    const err = await drain(reader).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as Error).message).toMatch(
      new RegExp(`^${join(dir, 'shadows.jsonl.gz')}:\\d+: truncated gzip data after line \\d+`),
    );
  });

  it('names the file and the line of a malformed line', async () => {
    const lines = [
      encodeRecord(record('a', null, { x: 1 })),
      encodeRecord(record('b', null, { x: 2 })),
      '{"thing":"c","shadow":null,"version":1,"state":{\n',
      encodeRecord(record('d', null)),
    ];
    const dir = await rawSnapshot('malformed', gzipSync(lines.join('')), 4);
    const err = await drain(await SnapshotReader.open(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as Error).message).toMatch(new RegExp(`^${join(dir, 'shadows.jsonl.gz')}:3: malformed line`));
  });

  it('names the file and the line of a record with a field of the wrong type', async () => {
    const lines = [encodeRecord(record('a', null)), '{"thing":"b","shadow":7,"version":1,"state":{}}\n'];
    const dir = await rawSnapshot('bad-field', gzipSync(lines.join('')), 2);
    await expect(drain(await SnapshotReader.open(dir))).rejects.toThrow(
      /shadows\.jsonl\.gz:2: malformed record: "shadow" must be a string or null/,
    );
  });

  it('refuses data whose SHA-256 does not match the manifest, in verify() and at the end of records()', async () => {
    const dir = join(root, 'tampered');
    await writeRecords(new LocalSink({ dir }), many.slice(0, 10));
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    m.data.sha256 = '0'.repeat(64);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
    const reader = await SnapshotReader.open(dir);
    await expect(reader.verify()).rejects.toThrow(
      /shadows\.jsonl\.gz: does not match the manifest .*sha256 0{64}.*refusing the snapshot/,
    );
    await expect(drain(reader)).rejects.toThrow(/does not match the manifest/);
  });

  it('refuses data cut short even when the gzip stream happens to end cleanly', async () => {
    const dir = join(root, 'short');
    await writeRecords(new LocalSink({ dir }), many.slice(0, 50));
    const size = (await readFile(join(dir, 'shadows.jsonl.gz'))).length;
    await truncate(join(dir, 'shadows.jsonl.gz'), size - 4);
    const err = await (await SnapshotReader.open(dir)).verify().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as Error).message).toMatch(/does not match the manifest \(manifest: \d+ bytes/);
  });

  it('calls a directory without a manifest an incomplete snapshot', async () => {
    const dir = join(root, 'no-manifest');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'shadows.jsonl.gz'), gzipSync(''));
    await expect(SnapshotReader.open(dir)).rejects.toThrow(
      /manifest\.json: no manifest, so .* is not a complete snapshot/,
    );
  });

  it('reads a snapshot of thousands of records in order and checks the record count', async () => {
    const dir = join(root, 'many');
    await writeRecords(new LocalSink({ dir }), many);
    const reader = await SnapshotReader.open(join(dir, 'manifest.json'));
    await reader.verify();
    let i = 0;
    for await (const r of reader.records()) expect(r.thing).toBe(many[i++]!.thing);
    expect(i).toBe(many.length);
  });

  it('parses s3:// locations into bucket and prefix', () => {
    expect(parseSnapshotLocation('s3://my-bucket/nightly/2026-11-26')).toMatchObject({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'nightly/2026-11-26/',
    });
    expect(parseSnapshotLocation('s3://my-bucket')).toMatchObject({ kind: 's3', bucket: 'my-bucket', prefix: '' });
    expect(parseSnapshotLocation('s3://my-bucket/p/manifest.json')).toMatchObject({ prefix: 'p/' });
    expect(() => parseSnapshotLocation('s3://BAD_bucket/x', 'out')).toThrow(
      'out: "BAD_bucket" is not a valid S3 bucket name (in s3://BAD_bucket/x)',
    );
    expect(() => parseSnapshotLocation('gs://b/x', 'out')).toThrow(/unsupported URL scheme/);
  });
});
