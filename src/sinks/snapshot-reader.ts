import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { SnapshotError } from '../errors.js';
import {
  SNAPSHOT_MANIFEST_FILE,
  parseManifest,
  parseRecordLine,
  type SnapshotManifest,
  type SnapshotRecord,
} from './snapshot-format.js';
import { createS3Client, loadS3Sdk, type S3ClientOptions } from './s3-client.js';
import { parseSnapshotLocation, type SnapshotLocation } from './snapshot-location.js';

export interface SnapshotReaderOptions extends S3ClientOptions {
  /** A ready S3 client for s3:// locations. */
  s3Client?: S3Client;
}

function awsName(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return `${e?.name ?? 'Error'}${status ? ` (${status})` : ''}: ${e?.message ?? String(err)}`;
}

/**
 * Reads a snapshot from a directory or an `s3://bucket/prefix/`. The manifest is read first (a
 * destination without one is not a complete snapshot); records stream from the data file in
 * constant memory. The compressed bytes are counted and hashed on the way and checked against
 * the manifest at the end; `verify()` makes that check alone, before any record is used.
 * Errors name the file and the line: a malformed line, a truncated or corrupt gzip stream, a
 * size or SHA-256 different from the manifest's.
 */
export class SnapshotReader {
  readonly location: SnapshotLocation;
  readonly manifest: SnapshotManifest;
  #s3: S3Client | undefined;
  #ownsClient: boolean;

  private constructor(
    location: SnapshotLocation,
    manifest: SnapshotManifest,
    s3: S3Client | undefined,
    ownsClient: boolean,
  ) {
    this.location = location;
    this.manifest = manifest;
    this.#s3 = s3;
    this.#ownsClient = ownsClient;
  }

  static async open(location: string | SnapshotLocation, options: SnapshotReaderOptions = {}): Promise<SnapshotReader> {
    const loc = typeof location === 'string' ? parseSnapshotLocation(location, 'snapshot') : location;
    if (loc.kind === 'local') {
      const file = join(loc.dir, SNAPSHOT_MANIFEST_FILE);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new SnapshotError(
          code === 'ENOENT'
            ? `${file}: no manifest, so ${loc.dir} is not a complete snapshot`
            : `${file}: cannot read the manifest (${(err as Error).message})`,
          { cause: err },
        );
      }
      return new SnapshotReader(loc, parseManifest(text, file), undefined, false);
    }
    const s3 = options.s3Client ?? (await createS3Client(options));
    const key = `${loc.prefix}${SNAPSHOT_MANIFEST_FILE}`;
    const name = `s3://${loc.bucket}/${key}`;
    try {
      let text: string;
      try {
        const { GetObjectCommand } = await loadS3Sdk();
        const res = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }));
        text = await res.Body!.transformToString('utf8');
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        throw new SnapshotError(
          status === 404
            ? `${name}: no manifest, so s3://${loc.bucket}/${loc.prefix} is not a complete snapshot`
            : `${name}: cannot read the manifest (${awsName(err)})`,
          { cause: err },
        );
      }
      return new SnapshotReader(loc, parseManifest(text, name), s3, options.s3Client === undefined);
    } catch (err) {
      if (options.s3Client === undefined) s3.destroy();
      throw err;
    }
  }

  /** The data file's name as errors show it (a path or an s3:// URL). */
  get dataName(): string {
    return this.location.kind === 'local'
      ? join(this.location.dir, this.manifest.data.file)
      : `s3://${this.location.bucket}/${this.location.prefix}${this.manifest.data.file}`;
  }

  async #openData(): Promise<Readable> {
    if (this.location.kind === 'local') {
      const stream = createReadStream(join(this.location.dir, this.manifest.data.file), { highWaterMark: 256 * 1024 });
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', (err) =>
          reject(new SnapshotError(`${this.dataName}: cannot read the data file (${err.message})`, { cause: err })),
        );
      });
      return stream;
    }
    try {
      const { GetObjectCommand } = await loadS3Sdk();
      const res = await this.#s3!.send(
        new GetObjectCommand({
          Bucket: this.location.bucket,
          Key: `${this.location.prefix}${this.manifest.data.file}`,
        }),
      );
      return res.Body as Readable;
    } catch (err) {
      throw new SnapshotError(`${this.dataName}: cannot read the data file (${awsName(err)})`, { cause: err });
    }
  }

  #checkDigest(bytes: number, sha256: string): void {
    const m = this.manifest.data;
    if (bytes !== m.bytes || sha256 !== m.sha256) {
      throw new SnapshotError(
        `${this.dataName}: does not match the manifest (manifest: ${m.bytes} bytes, sha256 ${m.sha256}; ` +
          `data: ${bytes} bytes, sha256 ${sha256}); refusing the snapshot`,
      );
    }
  }

  /** Reads the data file once, without decompressing, and checks its size and SHA-256 against the manifest. */
  async verify(): Promise<void> {
    const src = await this.#openData();
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of src as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
    } catch (err) {
      throw new SnapshotError(`${this.dataName}: read failed after ${bytes} bytes (${(err as Error).message})`, {
        cause: err,
      });
    }
    this.#checkDigest(bytes, hash.digest('hex'));
  }

  /**
   * Streams the records. Throws SnapshotError naming the file and line on a malformed line or
   * broken gzip data, and at the end if the data does not match the manifest (size, SHA-256 or
   * record count).
   */
  async *records(): AsyncGenerator<SnapshotRecord> {
    const src = await this.#openData();
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    const gunzip = createGunzip();
    pipeline(src, tap, gunzip, () => undefined);
    const decoder = new StringDecoder('utf8');
    const file = this.dataName;
    let lineNo = 0;
    let count = 0;
    let rest = '';
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        const text = rest + decoder.write(chunk);
        let start = 0;
        let nl: number;
        while ((nl = text.indexOf('\n', start)) !== -1) {
          lineNo += 1;
          const line = text.slice(start, nl);
          start = nl + 1;
          if (line.trim() === '') continue;
          count += 1;
          yield parseRecordLine(line, file, lineNo);
        }
        rest = text.slice(start);
      }
    } catch (err) {
      if (err instanceof SnapshotError) throw err;
      const e = err as NodeJS.ErrnoException;
      const zlib = typeof e?.code === 'string' && e.code.startsWith('Z_');
      const what = zlib ? (e.code === 'Z_BUF_ERROR' ? 'truncated gzip data' : 'corrupt gzip data') : 'read failed';
      throw new SnapshotError(`${file}:${lineNo + 1}: ${what} after line ${lineNo} (${e?.message ?? String(err)})`, {
        cause: err,
      });
    } finally {
      if (!gunzip.destroyed) gunzip.destroy();
      if (!src.destroyed) src.destroy();
    }
    rest += decoder.end();
    if (rest.trim() !== '') {
      lineNo += 1;
      count += 1;
      yield parseRecordLine(rest, file, lineNo);
    }
    this.#checkDigest(bytes, hash.digest('hex'));
    if (count !== this.manifest.records) {
      throw new SnapshotError(`${file}:${lineNo}: ${count} records, but the manifest lists ${this.manifest.records}`);
    }
  }

  close(): void {
    if (this.#ownsClient) this.#s3?.destroy();
  }
}
