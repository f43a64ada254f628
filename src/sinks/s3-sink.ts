import { randomBytes } from 'node:crypto';
import { PassThrough, type Writable } from 'node:stream';
import type { S3Client, ServerSideEncryption, StorageClass } from '@aws-sdk/client-s3';
import type { Upload } from '@aws-sdk/lib-storage';
import { ConfigError, InvalidArgumentError, SnapshotError } from '../errors.js';
import { SNAPSHOT_DATA_FILE, SNAPSHOT_MANIFEST_FILE, type SnapshotManifest } from './snapshot-format.js';
import { checkS3ClientOptions, createS3Client, loadS3Sdk, type S3ClientOptions, type S3Sdk } from './s3-client.js';
import type { SnapshotSink } from './snapshot-sink.js';

export interface S3SinkOptions extends S3ClientOptions {
  bucket: string;
  /** Key prefix, '' or ending in '/'. */
  prefix?: string;
  /** The destination as the user wrote it, for messages. */
  location?: string;
  /** Server-side encryption of both objects. */
  sse?: 'AES256' | 'aws:kms';
  /** KMS key for `sse: 'aws:kms'` (the bucket's default key when absent). */
  kmsKeyId?: string;
  /** Storage class of the data object (the small manifest stays STANDARD so listing and reading it is cheap). */
  storageClass?: string;
  /** Multipart part size in bytes (>= 5 MiB). Memory held by the upload is about partSize * (queueSize + 1). Default 8 MiB. */
  partSizeBytes?: number;
  /** Parts uploaded concurrently. Default 2. */
  queueSize?: number;
  /**
   * Replace a snapshot already under the prefix. The old manifest stays until the new snapshot is
   * committed: the new data goes to a key of its own, the new manifest's PUT replaces the old one,
   * and only then is the old data object deleted. Default false.
   */
  overwrite?: boolean;
  /** A ready client (tests, custom middleware); else one is built from the S3ClientOptions. */
  client?: S3Client;
}

export const DEFAULT_S3_SINK_OPTIONS = Object.freeze({
  partSizeBytes: 8 * 1024 * 1024,
  queueSize: 2,
  overwrite: false,
});

const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
]);

function awsName(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return `${e?.name ?? 'Error'}${status ? ` (${status})` : ''}: ${e?.message ?? String(err)}`;
}

/**
 * A snapshot under `s3://bucket/prefix/`. The data streams into a multipart upload
 * (@aws-sdk/lib-storage `Upload`), so memory is bounded by the part size whatever the fleet
 * size; the manifest is a separate small PUT made only after the upload completed. On any
 * failure the multipart upload is aborted (no object appears) and no manifest is written; if
 * the data object had already completed, it is deleted.
 */
export class S3Sink implements SnapshotSink {
  readonly location: string;
  readonly warnings: string[] = [];
  readonly bucket: string;
  readonly prefix: string;
  /** The client and the SDK, loaded on first use (see #s3()). */
  #access: Promise<{ client: S3Client; sdk: S3Sdk }> | undefined;
  #client: S3Client | undefined;
  #clientOptions: S3SinkOptions;
  #ownsClient: boolean;
  #sse: ServerSideEncryption | undefined;
  #kmsKeyId: string | undefined;
  #storageClass: StorageClass | undefined;
  #partSize: number;
  #queueSize: number;
  #overwrite: boolean;
  #body: PassThrough | undefined;
  #upload: Upload | undefined;
  #uploadDone: Promise<{ ok: true } | { ok: false; error: unknown }> | undefined;
  #dataComplete = false;
  #dataFile: string = SNAPSHOT_DATA_FILE;
  #oldDataFile: string | undefined;
  #committed = false;

  constructor(options: S3SinkOptions) {
    if (typeof options?.bucket !== 'string' || options.bucket === '')
      throw new InvalidArgumentError('S3SinkOptions.bucket must be a bucket name');
    const prefix = options.prefix ?? '';
    if (prefix !== '' && !prefix.endsWith('/'))
      throw new InvalidArgumentError('S3SinkOptions.prefix must be empty or end with "/"');
    if (options.sse !== undefined && options.sse !== 'AES256' && options.sse !== 'aws:kms') {
      throw new InvalidArgumentError(`S3SinkOptions.sse must be "AES256" or "aws:kms", got "${String(options.sse)}"`);
    }
    if (options.kmsKeyId !== undefined && options.sse !== 'aws:kms')
      throw new InvalidArgumentError('S3SinkOptions.kmsKeyId needs sse "aws:kms"');
    if (options.storageClass !== undefined && !STORAGE_CLASSES.has(options.storageClass)) {
      throw new InvalidArgumentError(
        `S3SinkOptions.storageClass must be one of ${[...STORAGE_CLASSES].join(', ')}, got "${options.storageClass}"`,
      );
    }
    const partSize = options.partSizeBytes ?? DEFAULT_S3_SINK_OPTIONS.partSizeBytes;
    if (!Number.isInteger(partSize) || partSize < 5 * 1024 * 1024)
      throw new InvalidArgumentError('S3SinkOptions.partSizeBytes must be an integer >= 5 MiB (5242880)');
    const queueSize = options.queueSize ?? DEFAULT_S3_SINK_OPTIONS.queueSize;
    if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > 16)
      throw new InvalidArgumentError('S3SinkOptions.queueSize must be an integer from 1 to 16');
    this.bucket = options.bucket;
    this.prefix = prefix;
    this.location = options.location ?? `s3://${options.bucket}/${prefix}`;
    checkS3ClientOptions(options);
    this.#clientOptions = options;
    this.#client = options.client;
    this.#ownsClient = options.client === undefined;
    this.#sse = options.sse as ServerSideEncryption | undefined;
    this.#kmsKeyId = options.kmsKeyId;
    this.#storageClass = options.storageClass as StorageClass | undefined;
    this.#partSize = partSize;
    this.#queueSize = queueSize;
    this.#overwrite = options.overwrite ?? DEFAULT_S3_SINK_OPTIONS.overwrite;
  }

  get dataKey(): string {
    return `${this.prefix}${this.#dataFile}`;
  }

  /** The data object's name under the prefix, as the manifest names it (known after open()). */
  get dataFile(): string {
    return this.#dataFile;
  }

  get manifestKey(): string {
    return `${this.prefix}${SNAPSHOT_MANIFEST_FILE}`;
  }

  /** The multipart upload id once the upload started (for messages and tests). */
  get uploadId(): string | undefined {
    return this.#upload?.uploadId;
  }

  /** The S3 SDK and the client, loaded and built on first use: constructing a sink loads neither. */
  #s3(): Promise<{ client: S3Client; sdk: S3Sdk }> {
    this.#access ??= (async () => {
      const sdk = await loadS3Sdk();
      this.#client ??= await createS3Client(this.#clientOptions);
      return { client: this.#client, sdk };
    })();
    return this.#access;
  }

  #encryption(): { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string } {
    const p: { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string } = {};
    if (this.#sse) p.ServerSideEncryption = this.#sse;
    if (this.#kmsKeyId) p.SSEKMSKeyId = this.#kmsKeyId;
    return p;
  }

  /** A tiny PUT and DELETE under the prefix: proves the credentials may write there (HeadBucket would not). */
  async check(): Promise<void> {
    const where = `snapshot destination ${this.location}`;
    const { client, sdk } = await this.#s3();
    if (!this.#overwrite) {
      let found = false;
      try {
        await client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.manifestKey }));
        found = true;
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        // 404: no snapshot there yet. 403 without s3:ListBucket also means "cannot tell": go on to the write check.
        if (status !== 404 && status !== 403)
          throw new ConfigError(`${where} cannot be checked: ${awsName(err)}`, { cause: err });
      }
      if (found)
        throw new ConfigError(
          `${where} already holds a snapshot (${SNAPSHOT_MANIFEST_FILE}); choose a new prefix or overwrite it`,
        );
    }
    const probe = `${this.prefix}.shadowfleet-write-check-${randomBytes(6).toString('hex')}`;
    try {
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: probe,
          Body: Buffer.from('shadowfleet write check\n'),
          ...this.#encryption(),
        }),
      );
    } catch (err) {
      throw new ConfigError(`${where} is not writable: ${awsName(err)}`, { cause: err });
    }
    try {
      await client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: probe }));
    } catch (err) {
      this.warnings.push(`could not delete the write-check object s3://${this.bucket}/${probe}: ${awsName(err)}`);
    }
  }

  /** With overwrite: the data object the current manifest names (undefined when there is none). */
  async #currentDataFile(): Promise<string | undefined> {
    let text: string;
    const { client, sdk } = await this.#s3();
    try {
      const res = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.manifestKey }));
      text = (await res.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return undefined;
      throw new SnapshotError(`cannot read the snapshot to replace in ${this.location}: ${awsName(err)}`, {
        cause: err,
      });
    }
    try {
      const file = (JSON.parse(text) as { data?: { file?: unknown } })?.data?.file;
      return typeof file === 'string' && /^shadows(-[0-9a-f]+)?\.jsonl\.gz$/.test(file) ? file : SNAPSHOT_DATA_FILE;
    } catch {
      return SNAPSHOT_DATA_FILE;
    }
  }

  async open(): Promise<Writable> {
    if (this.#overwrite) {
      // The old snapshot stays readable until commit(): the new data never lands on its key.
      this.#oldDataFile = await this.#currentDataFile();
      if (this.#oldDataFile === SNAPSHOT_DATA_FILE)
        this.#dataFile = `shadows-${randomBytes(6).toString('hex')}.jsonl.gz`;
    }
    const { client } = await this.#s3();
    const { Upload } = await import('@aws-sdk/lib-storage');
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    const params: ConstructorParameters<typeof Upload>[0]['params'] = {
      Bucket: this.bucket,
      Key: this.dataKey,
      Body: body,
      ContentType: 'application/gzip',
      ...this.#encryption(),
    };
    if (this.#storageClass) params.StorageClass = this.#storageClass;
    // leavePartsOnError: the abort is ours (abort()), so the original error is kept and a
    // failing AbortMultipartUpload becomes a warning rather than hiding it.
    const upload = new Upload({
      client,
      params,
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: true,
    });
    this.#body = body;
    this.#upload = upload;
    this.#uploadDone = upload.done().then(
      () => {
        this.#dataComplete = true;
        return { ok: true as const };
      },
      (error: unknown) => ({ ok: false as const, error }),
    );
    return body;
  }

  async commit(manifest: SnapshotManifest): Promise<void> {
    if (!this.#uploadDone) throw new SnapshotError('S3Sink.commit() called before open()');
    const r = await this.#uploadDone;
    if (!r.ok) {
      await this.abort(r.error);
      throw new SnapshotError(`upload of s3://${this.bucket}/${this.dataKey} failed: ${awsName(r.error)}`, {
        cause: r.error,
      });
    }
    const { client, sdk } = await this.#s3();
    try {
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.manifestKey,
          Body: `${JSON.stringify({ ...manifest, data: { ...manifest.data, file: this.#dataFile } }, null, 2)}\n`,
          ContentType: 'application/json',
          ...this.#encryption(),
        }),
      );
      this.#committed = true;
      if (this.#oldDataFile !== undefined && this.#oldDataFile !== this.#dataFile) {
        const oldKey = `${this.prefix}${this.#oldDataFile}`;
        await client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: oldKey })).catch((err: unknown) => {
          this.warnings.push(
            `could not delete the replaced data object s3://${this.bucket}/${oldKey}: ${awsName(err)}`,
          );
        });
      }
    } catch (err) {
      if (this.#committed) throw err;
      await this.abort(err);
      throw new SnapshotError(`cannot write s3://${this.bucket}/${this.manifestKey}: ${awsName(err)}`, { cause: err });
    } finally {
      if (this.#committed) this.#close();
    }
  }

  async abort(reason?: unknown): Promise<void> {
    if (this.#committed) return;
    try {
      if (this.#body && !this.#body.destroyed)
        this.#body.destroy(reason instanceof Error ? reason : new SnapshotError(`snapshot aborted: ${String(reason)}`));
      if (this.#uploadDone) await this.#uploadDone;
      const uploadId = this.#upload?.uploadId;
      if (this.#dataComplete) {
        const { client, sdk } = await this.#s3();
        await client
          .send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.dataKey }))
          .catch((err: unknown) => {
            this.warnings.push(
              `could not delete s3://${this.bucket}/${this.dataKey} (it has no manifest, so it is not a snapshot): ${awsName(err)}`,
            );
          });
      } else if (uploadId) {
        const { client, sdk } = await this.#s3();
        await client
          .send(new sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.dataKey, UploadId: uploadId }))
          .catch((err: unknown) => {
            this.warnings.push(
              `could not abort multipart upload ${uploadId} of s3://${this.bucket}/${this.dataKey} (${awsName(err)}); ` +
                'its parts are invisible but billed until an AbortIncompleteMultipartUpload lifecycle rule removes them',
            );
          });
      }
    } finally {
      this.#upload = undefined;
      this.#uploadDone = undefined;
      this.#close();
    }
  }

  #close(): void {
    if (this.#ownsClient) this.#client?.destroy();
  }
}
