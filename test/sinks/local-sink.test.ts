import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SnapshotError } from '../../src/errors.js';
import { LocalSink, SnapshotReader, SnapshotWriter, createSnapshotSink } from '../../src/sinks/index.js';
import { encodeRecord } from '../../src/sinks/snapshot-format.js';
import { manifestFor, record, writeRecords } from './snapshot-fixture.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shadowfleet-local-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('LocalSink', () => {
  it('writes shadows.jsonl.gz and manifest.json whose size and SHA-256 match the data', async () => {
    const dir = join(root, 'a');
    const records = [
      record('pump-1', null, { speed: 1 }),
      record('pump-1', 'config', { mode: 'eco' }, { mode: 'eco' }),
      record('pump-2', null, undefined, { t: 3 }),
    ];
    const manifest = await writeRecords(new LocalSink({ dir }), records);
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', 'shadows.jsonl.gz']);
    const data = await readFile(join(dir, 'shadows.jsonl.gz'));
    expect(manifest.data.bytes).toBe(data.length);
    expect(manifest.data.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    const onDisk = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(onDisk.data.sha256).toBe(manifest.data.sha256);
    const reader = await SnapshotReader.open(dir);
    const back = [];
    for await (const r of reader.records()) back.push(r);
    expect(back).toEqual(records);
  });

  it('keeps data under a temporary name and writes no manifest until commit', async () => {
    const dir = join(root, 'b');
    const sink = new LocalSink({ dir });
    const w = new SnapshotWriter(sink);
    await sink.check();
    await w.open();
    await w.write(encodeRecord(record('t', null, { a: 1 })));
    expect(await readdir(dir)).toEqual([`.shadows.jsonl.gz.${process.pid}.partial`]);
    await w.commit(manifestFor(1));
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', 'shadows.jsonl.gz']);
  });

  it('removes the temporary file and leaves no snapshot when aborted', async () => {
    const dir = join(root, 'c');
    const sink = new LocalSink({ dir });
    const w = new SnapshotWriter(sink);
    await sink.check();
    await w.open();
    await w.write(encodeRecord(record('t', null, { a: 1 })));
    await w.abort(new Error('stop'));
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a directory that already holds a snapshot unless told to overwrite it', async () => {
    const dir = join(root, 'd');
    await writeRecords(new LocalSink({ dir }), [record('t', null, { v: 1 })]);
    await expect(new LocalSink({ dir }).check()).rejects.toThrow(/already holds a snapshot/);
    await writeRecords(new LocalSink({ dir, overwrite: true }), [record('t', null, { v: 2 })]);
    const reader = await SnapshotReader.open(dir);
    for await (const r of reader.records()) expect(r.state.desired).toEqual({ v: 2 });
  });

  it('fails the destination check when the path cannot be a directory', async () => {
    const file = join(root, 'plain-file');
    await writeFile(file, 'x');
    const err = await new LocalSink({ dir: join(file, 'snap') }).check().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/snapshot destination .*plain-file\/snap is not writable/);
  });

  it('fails the destination check when the file system has less free space than required', async () => {
    const err = await new LocalSink({ dir: join(root, 'e'), minFreeBytes: Number.MAX_SAFE_INTEGER })
      .check()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/bytes free, less than the \d+ required/);
  });

  it('leaves a refused destination as it found it: directories it made are removed, ones that were there stay', async () => {
    const made = join(root, 'e2', 'nightly', 'snap');
    await expect(new LocalSink({ dir: made, minFreeBytes: Number.MAX_SAFE_INTEGER }).check()).rejects.toThrow(
      ConfigError,
    );
    expect(existsSync(join(root, 'e2'))).toBe(false);
    const there = join(root, 'e3');
    await new LocalSink({ dir: there }).check();
    await expect(new LocalSink({ dir: there, minFreeBytes: Number.MAX_SAFE_INTEGER }).check()).rejects.toThrow(
      ConfigError,
    );
    expect(await readdir(there)).toEqual([]);
  });

  it('fails cleanly on a full disk (ENOSPC), leaving no data file and no manifest', async () => {
    const dir = join(root, 'f');
    const sink = new LocalSink({ dir });
    await sink.check();
    // The kernel answers ENOSPC to every write on /dev/full: the temporary name points there.
    await symlink('/dev/full', sink.partialPath);
    const w = new SnapshotWriter(sink, { gzipLevel: 1 });
    await w.open();
    let err: unknown;
    try {
      for (let i = 0; i < 2000; i++)
        await w.write(encodeRecord(record(`thing-${i}`, null, { pad: 'x'.repeat(200), i })));
      await w.commit(manifestFor(2000));
    } catch (e) {
      err = e;
      await w.abort(e);
    }
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as Error).message).toMatch(/ENOSPC/);
    expect(await readdir(dir)).toEqual([]);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
  });

  it('keeps the previous snapshot whole when an overwrite fails before it is committed', async () => {
    const dir = join(root, 'keep');
    await writeRecords(new LocalSink({ dir }), [record('t', null, { v: 1 })]);
    const sink = new LocalSink({ dir, overwrite: true });
    const w = new SnapshotWriter(sink);
    await sink.check();
    await w.open();
    await w.write(encodeRecord(record('t', null, { v: 2 })));
    await w.abort(new Error('endpoint unreachable'));
    const reader = await SnapshotReader.open(dir);
    const back = [];
    for await (const r of reader.records()) back.push(r.state.desired);
    expect(back).toEqual([{ v: 1 }]);
    expect((await readdir(dir)).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  it('replaces the old snapshot on overwrite and leaves only the new data file and its manifest', async () => {
    const dir = join(root, 'replace');
    await writeRecords(new LocalSink({ dir }), [record('t', null, { v: 1 })]);
    const m = await writeRecords(new LocalSink({ dir, overwrite: true }), [record('t', null, { v: 2 })]);
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', m.data.file].sort());
    const again = await writeRecords(new LocalSink({ dir, overwrite: true }), [record('t', null, { v: 3 })]);
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', again.data.file].sort());
    const reader = await SnapshotReader.open(dir);
    for await (const r of reader.records()) expect(r.state.desired).toEqual({ v: 3 });
  });

  it('removes temporary files left by a process that was killed, on the next run', async () => {
    const dir = join(root, 'stale');
    await mkdir(dir, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    await writeFile(join(dir, `.shadows.jsonl.gz.${pid}.partial`), 'half');
    await writeFile(join(dir, `manifest.json.${pid}.partial`), '{');
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const sink = new LocalSink({ dir });
    await sink.check();
    expect((await readdir(dir)).sort()).toEqual(['notes.txt']);
    expect(sink.warnings.join('\n')).toMatch(/left by an earlier run/);
  });

  it('refuses a destination on procfs at once, naming it, without trying to create it', async () => {
    const err = await new LocalSink({ dir: '/proc/shadowfleet-x/snap' }).check().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/\/proc\/shadowfleet-x\/snap: \/proc is on procfs/);
  });

  it('builds a local sink from a path and an s3 sink from an s3:// URL', () => {
    expect(createSnapshotSink(join(root, 'g'))).toBeInstanceOf(LocalSink);
    expect(createSnapshotSink('s3://bucket-x/nightly/2026-11-26', { endpoint: 'http://127.0.0.1:9' }).location).toBe(
      's3://bucket-x/nightly/2026-11-26',
    );
  });
});
