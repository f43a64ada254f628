/**
 * Where snapshots go and where they are read from: a local directory (atomic rename, manifest
 * last) or S3 (streamed multipart upload, aborted on failure), behind one SnapshotSink interface.
 */
export type { SnapshotSink } from './snapshot-sink.js';
export { parseSnapshotLocation, type SnapshotLocation } from './snapshot-location.js';
export { LocalSink, DEFAULT_LOCAL_SINK_OPTIONS, type LocalSinkOptions } from './local-sink.js';
export { S3Sink, DEFAULT_S3_SINK_OPTIONS, type S3SinkOptions } from './s3-sink.js';
export { createS3Client, type S3ClientOptions } from './s3-client.js';
export { createSnapshotSink, type CreateSnapshotSinkOptions } from './create-snapshot-sink.js';
export {
  SnapshotWriter,
  DEFAULT_SNAPSHOT_WRITER_OPTIONS,
  type SnapshotWriterOptions,
  type WrittenData,
} from './snapshot-writer.js';
export { SnapshotReader, type SnapshotReaderOptions } from './snapshot-reader.js';
