import type { S3Client } from '@aws-sdk/client-s3';
import { LocalSink } from './local-sink.js';
import { S3Sink, type S3SinkOptions } from './s3-sink.js';
import { parseSnapshotLocation, type SnapshotLocation } from './snapshot-location.js';
import type { SnapshotSink } from './snapshot-sink.js';

export interface CreateSnapshotSinkOptions extends Omit<S3SinkOptions, 'bucket' | 'prefix' | 'location' | 'client'> {
  /** A ready S3 client for s3:// destinations. */
  s3Client?: S3Client;
  /** Local destinations: check() fails below this many free bytes. */
  minFreeBytes?: number;
}

/** The sink for a destination: a local directory, or `s3://bucket/prefix/`. */
export function createSnapshotSink(
  destination: string | SnapshotLocation,
  options: CreateSnapshotSinkOptions = {},
): SnapshotSink {
  const loc = typeof destination === 'string' ? parseSnapshotLocation(destination, 'out') : destination;
  if (loc.kind === 'local') {
    const o: ConstructorParameters<typeof LocalSink>[0] = { dir: loc.dir, location: loc.text };
    if (options.minFreeBytes !== undefined) o.minFreeBytes = options.minFreeBytes;
    if (options.overwrite !== undefined) o.overwrite = options.overwrite;
    return new LocalSink(o);
  }
  const { s3Client, minFreeBytes: _ignored, ...rest } = options;
  return new S3Sink({
    ...rest,
    bucket: loc.bucket,
    prefix: loc.prefix,
    location: loc.text,
    ...(s3Client ? { client: s3Client } : {}),
  });
}
