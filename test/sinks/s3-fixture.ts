/**
 * A real S3-protocol server for tests: s3rver in this process, on 127.0.0.1 and a free port,
 * storing objects in a temporary directory; and a real @aws-sdk/client-s3 client for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/sinks/index.js';

export const S3_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

export interface S3Fixture {
  endpoint: string;
  port: number;
  dir: string;
  client: S3Client;
  /** Stops the server (the directory and its objects stay). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  close(): Promise<void>;
  createBucket(name: string): Promise<void>;
  keys(bucket: string, prefix?: string): Promise<string[]>;
  getText(bucket: string, key: string): Promise<string>;
  getBytes(bucket: string, key: string): Promise<Buffer>;
}

export async function startS3(): Promise<S3Fixture> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dir = await mkdtemp(join(tmpdir(), 'shadowfleet-s3-'));
  let server: S3rver | undefined = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = await createS3Client({
    endpoint,
    region: 'us-east-1',
    credentials: { ...S3_CREDENTIALS },
    maxAttempts: 1,
  });
  const f: S3Fixture = {
    endpoint,
    port,
    dir,
    client,
    async stop() {
      await server?.close();
      server = undefined;
    },
    async start() {
      server = new S3rver({ address: '127.0.0.1', port, silent: true, directory: dir });
      await server.run();
    },
    async close() {
      client.destroy();
      await server?.close().catch(() => undefined);
      server = undefined;
      await rm(dir, { recursive: true, force: true });
    },
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async keys(bucket, prefix) {
      const res = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) }),
      );
      return (res.Contents ?? []).map((c) => c.Key!).sort();
    },
    async getText(bucket, key) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return res.Body!.transformToString('utf8');
    },
    async getBytes(bucket, key) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    },
  };
  return f;
}
