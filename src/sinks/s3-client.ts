import type { S3Client } from '@aws-sdk/client-s3';
import { InvalidArgumentError } from '../errors.js';

export interface S3ClientOptions {
  /** Region of the bucket. Default: AWS_REGION, else us-east-1. */
  region?: string;
  /** Endpoint override for S3-compatible stores (MinIO, Ceph, s3rver...). Implies path-style addressing. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`). Default: true with an endpoint override, else false. */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** SDK retry attempts per request. Default 3. */
  maxAttempts?: number;
  /** Socket idle timeout per request, ms (a part upload that stalls this long fails and is retried). Default 120 s. */
  requestTimeoutMs?: number;
}

/** The S3 SDK module (its client and command classes). */
export type S3Sdk = typeof import('@aws-sdk/client-s3');

let s3Sdk: Promise<S3Sdk> | undefined;

/**
 * The AWS S3 SDK, loaded on first use: importing shadowfleet (or running a rollout or a single
 * `get`) never pays for it; only a snapshot, restore or diff that touches `s3://` does.
 */
export function loadS3Sdk(): Promise<S3Sdk> {
  return (s3Sdk ??= import('@aws-sdk/client-s3'));
}

/** Checks the options a client will be built from (synchronously, so a bad endpoint fails at construction). */
export function checkS3ClientOptions(options: S3ClientOptions): void {
  if (options.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new InvalidArgumentError(`s3Endpoint must be an http(s) URL, got "${options.endpoint}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidArgumentError(`s3Endpoint must be an http(s) URL, got "${options.endpoint}"`);
    }
  }
}

/**
 * One S3 client for the sinks and the reader. With an endpoint override the SDK's optional
 * request/response checksums are sent only when an operation requires them: several
 * S3-compatible stores reject the newer checksum headers and aws-chunked bodies.
 * Asynchronous because the SDK is loaded here, when a client is first needed.
 */
export async function createS3Client(options: S3ClientOptions = {}): Promise<S3Client> {
  checkS3ClientOptions(options);
  const { S3Client } = await loadS3Sdk();
  const custom = options.endpoint !== undefined;
  return new S3Client({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(custom ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? custom,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 120_000, connectionTimeout: 10_000 },
    ...(custom
      ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
      : {}),
  });
}
