import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SnapshotError } from '../../src/errors.js';
import { S3Sink, SnapshotReader, SnapshotWriter, createSnapshotSink } from '../../src/sinks/index.js';
import { encodeRecord } from '../../src/sinks/snapshot-format.js';
import { S3_CREDENTIALS, startS3, type S3Fixture } from './s3-fixture.js';
import { manifestFor, record, writeRecords } from './snapshot-fixture.js';

let s3: S3Fixture;
beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket('snaps');
});
afterAll(async () => {
  await s3?.close();
});

function sink(prefix: string, extra: Partial<ConstructorParameters<typeof S3Sink>[0]> = {}): S3Sink {
  return new S3Sink({
    bucket: 'snaps',
    prefix,
    endpoint: s3.endpoint,
    credentials: { ...S3_CREDENTIALS },
    maxAttempts: 1,
    ...extra,
  });
}

/** ~10 MB of JSON lines that gzip cannot squeeze below two 5 MiB parts. */
async function writeBulk(w: SnapshotWriter, lines: number, from = 0): Promise<void> {
  for (let i = from; i < from + lines; i++)
    await w.write(encodeRecord(record(`thing-${i}`, null, { blob: randomBytes(600).toString('base64') })));
}

describe('S3Sink against an S3-protocol server', () => {
  it('uploads the data and then the manifest, and reads back the same records', async () => {
    const records = [
      record('a', null, { x: 1 }),
      record('a', 'cfg', { y: [1, 2] }, { y: [1] }),
      record('b', null, undefined, { z: 'q' }),
    ];
    const m = await writeRecords(sink('nightly/one/', { sse: 'AES256', storageClass: 'STANDARD_IA' }), records);
    expect(await s3.keys('snaps', 'nightly/one/')).toEqual([
      'nightly/one/manifest.json',
      'nightly/one/shadows.jsonl.gz',
    ]);
    const manifest = JSON.parse(await s3.getText('snaps', 'nightly/one/manifest.json'));
    expect(manifest.data).toEqual(m.data);
    expect((await s3.getBytes('snaps', 'nightly/one/shadows.jsonl.gz')).length).toBe(m.data.bytes);
    const reader = await SnapshotReader.open('s3://snaps/nightly/one/', {
      endpoint: s3.endpoint,
      credentials: { ...S3_CREDENTIALS },
    });
    const back = [];
    for await (const r of reader.records()) back.push(r);
    reader.close();
    expect(back).toEqual(records);
  });

  it('streams a snapshot larger than one part as a multipart upload', async () => {
    const s = sink('big/');
    const w = new SnapshotWriter(s, { gzipLevel: 1 });
    await s.check();
    await w.open();
    await writeBulk(w, 14_000);
    const m = await w.commit(manifestFor(14_000));
    expect(m.data.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(s.uploadId).toBeTruthy();
    expect(await s3.keys('snaps', 'big/')).toEqual(['big/manifest.json', 'big/shadows.jsonl.gz']);
    const reader = await SnapshotReader.open('s3://snaps/big/', {
      endpoint: s3.endpoint,
      credentials: { ...S3_CREDENTIALS },
    });
    await reader.verify();
    reader.close();
  });

  it('aborts an upload stopped mid-way: no manifest and no visible object', async () => {
    const s = sink('killed/', { partSizeBytes: 5 * 1024 * 1024 });
    const w = new SnapshotWriter(s, { gzipLevel: 1 });
    await s.check();
    await w.open();
    await writeBulk(w, 12_000);
    await expect.poll(() => s.uploadId, { timeout: 20_000 }).toBeTruthy();
    await w.abort(new Error('killed mid-way'));
    expect(await s3.keys('snaps', 'killed/')).toEqual([]);
  });

  it('leaves no manifest and no visible object when the server goes away mid-upload', async () => {
    const s = sink('server-gone/', { partSizeBytes: 5 * 1024 * 1024 });
    const w = new SnapshotWriter(s, { gzipLevel: 1 });
    await s.check();
    await w.open();
    await writeBulk(w, 12_000);
    await expect.poll(() => s.uploadId, { timeout: 20_000 }).toBeTruthy();
    await s3.stop();
    let err: unknown;
    try {
      await writeBulk(w, 8_000, 12_000);
      await w.commit(manifestFor(20_000));
    } catch (e) {
      err = e;
      await w.abort(e);
    }
    await s3.start();
    expect(err).toBeInstanceOf(SnapshotError);
    expect(s.warnings.join('\n')).toMatch(/could not abort multipart upload/);
    expect(await s3.keys('snaps', 'server-gone/')).toEqual([]);
  });

  it('fails the destination check on a bucket that does not exist, before anything is written', async () => {
    const err = await new S3Sink({
      bucket: 'no-such-bucket',
      prefix: 'x/',
      endpoint: s3.endpoint,
      credentials: { ...S3_CREDENTIALS },
      maxAttempts: 1,
    })
      .check()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/snapshot destination s3:\/\/no-such-bucket\/x\/ .*NoSuchBucket/);
  });

  it('refuses a prefix that already holds a snapshot unless told to overwrite it', async () => {
    await writeRecords(sink('twice/'), [record('a', null, { v: 1 })]);
    await expect(sink('twice/').check()).rejects.toThrow(/already holds a snapshot/);
    await writeRecords(sink('twice/', { overwrite: true }), [record('a', null, { v: 2 })]);
    const reader = await SnapshotReader.open('s3://snaps/twice/', {
      endpoint: s3.endpoint,
      credentials: { ...S3_CREDENTIALS },
    });
    for await (const r of reader.records()) expect(r.state.desired).toEqual({ v: 2 });
    reader.close();
  });

  it('keeps the old manifest and data until an overwrite is committed, then removes the replaced data', async () => {
    await writeRecords(sink('keep/'), [record('a', null, { v: 1 })]);
    const s = sink('keep/', { overwrite: true });
    const w = new SnapshotWriter(s);
    await s.check();
    await w.open();
    await w.write(encodeRecord(record('a', null, { v: 2 })));
    await w.abort(new Error('endpoint unreachable'));
    const read = async (): Promise<unknown[]> => {
      const reader = await SnapshotReader.open('s3://snaps/keep/', {
        endpoint: s3.endpoint,
        credentials: { ...S3_CREDENTIALS },
      });
      const out = [];
      for await (const r of reader.records()) out.push(r.state.desired);
      reader.close();
      return out;
    };
    expect(await read()).toEqual([{ v: 1 }]);
    const m = await writeRecords(sink('keep/', { overwrite: true }), [record('a', null, { v: 2 })]);
    expect(await read()).toEqual([{ v: 2 }]);
    expect(await s3.keys('snaps', 'keep/')).toEqual(['keep/manifest.json', `keep/${m.data.file}`].sort());
  });

  it('validates its options with messages that name the option', () => {
    expect(() => createSnapshotSink('s3://snaps/p/', { sse: 'rot13' as never })).toThrow(
      'S3SinkOptions.sse must be "AES256" or "aws:kms", got "rot13"',
    );
    expect(() => createSnapshotSink('s3://snaps/p/', { storageClass: 'FAST' })).toThrow(
      /S3SinkOptions.storageClass must be one of STANDARD/,
    );
    expect(() => createSnapshotSink('s3://snaps/p/', { partSizeBytes: 1024 })).toThrow(
      'S3SinkOptions.partSizeBytes must be an integer >= 5 MiB (5242880)',
    );
    expect(() => createSnapshotSink('s3://snaps/p/', { kmsKeyId: 'k' })).toThrow(
      'S3SinkOptions.kmsKeyId needs sse "aws:kms"',
    );
  });
});
