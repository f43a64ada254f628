/** Helpers to write and inspect snapshots in tests without reading a fleet. */
import { SnapshotWriter, type SnapshotSink } from '../../src/sinks/index.js';
import {
  SNAPSHOT_DATA_FILE,
  SNAPSHOT_FORMAT,
  SNAPSHOT_FORMAT_VERSION,
  encodeRecord,
  type SnapshotManifest,
  type SnapshotRecord,
} from '../../src/sinks/snapshot-format.js';

export function record(
  thing: string,
  shadow: string | null,
  desired?: Record<string, unknown>,
  reported?: Record<string, unknown>,
  version = 1,
): SnapshotRecord {
  const r: SnapshotRecord = { thing, shadow, version, state: {}, metadata: {}, timestamp: 1_700_000_000 };
  if (desired) r.state.desired = desired as never;
  if (reported) r.state.reported = reported as never;
  return r;
}

export function manifestFor(records: number): SnapshotManifest {
  return {
    format: SNAPSHOT_FORMAT,
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    toolVersion: 'test',
    endpoint: 'http://127.0.0.1:1',
    region: 'us-east-1',
    startedAt: new Date(0).toISOString(),
    finishedAt: new Date(0).toISOString(),
    shadows: 'classic,named',
    things: records,
    records,
    counts: { read: records },
    failures: { total: 0, items: [] },
    data: { file: SNAPSHOT_DATA_FILE, compression: 'gzip', bytes: 0, sha256: '', sorted: false },
  };
}

/** Writes records through a sink as a snapshot job would; returns the committed manifest. */
export async function writeRecords(sink: SnapshotSink, records: Iterable<SnapshotRecord>): Promise<SnapshotManifest> {
  const w = new SnapshotWriter(sink);
  await sink.check();
  await w.open();
  let n = 0;
  try {
    for (const r of records) {
      await w.write(encodeRecord(r));
      n += 1;
    }
    return await w.commit(manifestFor(n));
  } catch (err) {
    await w.abort(err);
    throw err;
  }
}
