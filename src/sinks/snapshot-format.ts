/**
 * The snapshot format, version 1.
 *
 * A snapshot is two objects side by side under one destination (a local directory or an
 * `s3://bucket/prefix/`):
 *
 *   <dest>/shadows.jsonl.gz   gzip-compressed JSON lines, one record per shadow
 *   <dest>/manifest.json      written LAST; a destination without it is not a snapshot
 *
 * A record is `{"thing","shadow","version","state","metadata","timestamp"}`: `shadow` is the
 * shadow name or `null` for the classic shadow; `state` keeps `desired` and `reported` only
 * (the `delta` of a GET is derived from them and is not stored); `metadata` is the per-leaf
 * metadata as GetThingShadow returned it; `timestamp` is the GET's timestamp (epoch seconds).
 *
 * Records are in read order, not sorted: the records of one thing are adjacent, things are in
 * roughly target order. Readers must not assume more (see `runDiff` for how it copes).
 *
 * The manifest names the data file with its compressed byte size and SHA-256, so a reader
 * refuses a data file that is not the one the manifest describes.
 */
import { SnapshotError } from '../errors.js';
import { isExactNumber, parseJson, stringifyJson } from '../shadow/json-text.js';
import type { JsonObject } from '../shadow/types.js';

export const SNAPSHOT_FORMAT = 'shadowfleet-snapshot';
export const SNAPSHOT_FORMAT_VERSION = 1;
export const SNAPSHOT_DATA_FILE = 'shadows.jsonl.gz';
export const SNAPSHOT_MANIFEST_FILE = 'manifest.json';
/** At most this many unreadable targets are listed in a manifest; the rest are counted. */
export const MANIFEST_FAILURE_LIMIT = 1000;

/** One shadow in a snapshot. */
export interface SnapshotRecord {
  thing: string;
  /** Shadow name, or null for the classic shadow. */
  shadow: string | null;
  version: number;
  state: { desired?: JsonObject; reported?: JsonObject };
  metadata: { desired?: JsonObject; reported?: JsonObject };
  timestamp: number;
}

/** A target that could not be read, and why. */
export interface SnapshotFailure {
  thing: string;
  /** Shadow name, null for the classic shadow, absent when the whole thing failed (e.g. listing named shadows). */
  shadow?: string | null;
  code: string;
  message: string;
}

export interface SnapshotManifest {
  format: typeof SNAPSHOT_FORMAT;
  formatVersion: number;
  toolVersion: string;
  endpoint: string;
  region: string;
  /** ISO-8601 times of the first read and of the last record written. */
  startedAt: string;
  finishedAt: string;
  /** The shadow filter the snapshot was taken with (e.g. "classic,named" or a name pattern). */
  shadows: string;
  /** Things read (one thing may hold several shadows). */
  things: number;
  /** Records in the data file (shadows). */
  records: number;
  /** Things by outcome of their read: read, no-shadows, failed, ... */
  counts: Record<string, number>;
  /** Unreadable things or shadows: the first MANIFEST_FAILURE_LIMIT, and the total. */
  failures: { total: number; items: SnapshotFailure[] };
  data: {
    file: string;
    compression: 'gzip';
    /** Compressed size in bytes, as stored. */
    bytes: number;
    /** Hex SHA-256 of the compressed bytes, as stored. */
    sha256: string;
    /** Always false in format 1: records are in read order. */
    sorted: boolean;
  };
}

/** `thing` + `/shadow` for named shadows: the key a diff or a restore matches records on. */
export function recordKey(r: Pick<SnapshotRecord, 'thing' | 'shadow'>): string {
  return r.shadow === null ? r.thing : `${r.thing}/${r.shadow}`;
}

/** One JSON line (with the trailing newline) for a record; keys in the documented order, numbers as read. */
export function encodeRecord(r: SnapshotRecord): string {
  return `${stringifyJson({
    thing: r.thing,
    shadow: r.shadow,
    version: r.version,
    state: r.state,
    metadata: r.metadata,
    timestamp: r.timestamp,
  })}\n`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isExactNumber(v);
}

/** Parses and checks one data line (numbers keep their text); the error names the file and the 1-based line. */
export function parseRecordLine(line: string, file: string, lineNo: number): SnapshotRecord {
  let v: unknown;
  try {
    v = parseJson(line);
  } catch (err) {
    throw new SnapshotError(`${file}:${lineNo}: malformed line (${(err as Error).message})`, { cause: err });
  }
  const bad = (what: string): never => {
    throw new SnapshotError(`${file}:${lineNo}: malformed record: ${what}`);
  };
  if (!isObject(v)) return bad('not a JSON object');
  if (typeof v.thing !== 'string' || v.thing === '') bad('"thing" must be a non-empty string');
  if (v.shadow !== null && typeof v.shadow !== 'string') bad('"shadow" must be a string or null');
  if (typeof v.version !== 'number' || !Number.isInteger(v.version)) bad('"version" must be an integer');
  if (!isObject(v.state)) bad('"state" must be an object');
  const state = v.state as Record<string, unknown>;
  if (state.desired !== undefined && !isObject(state.desired)) bad('"state.desired" must be an object');
  if (state.reported !== undefined && !isObject(state.reported)) bad('"state.reported" must be an object');
  if (v.metadata !== undefined && !isObject(v.metadata)) bad('"metadata" must be an object');
  if (v.timestamp !== undefined && typeof v.timestamp !== 'number') bad('"timestamp" must be a number');
  const rec: SnapshotRecord = {
    thing: v.thing as string,
    shadow: v.shadow as string | null,
    version: v.version as number,
    state: {},
    metadata: (v.metadata as SnapshotRecord['metadata'] | undefined) ?? {},
    timestamp: (v.timestamp as number | undefined) ?? 0,
  };
  if (state.desired !== undefined) rec.state.desired = state.desired as JsonObject;
  if (state.reported !== undefined) rec.state.reported = state.reported as JsonObject;
  return rec;
}

/** Checks a parsed manifest; the error names the file. */
export function parseManifest(text: string, file: string): SnapshotManifest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new SnapshotError(`${file}: malformed manifest (${(err as Error).message})`, { cause: err });
  }
  const bad = (what: string): never => {
    throw new SnapshotError(`${file}: not a shadowfleet snapshot manifest: ${what}`);
  };
  if (!isObject(v)) return bad('not a JSON object');
  if (v.format !== SNAPSHOT_FORMAT) bad(`"format" must be "${SNAPSHOT_FORMAT}"`);
  if (typeof v.formatVersion !== 'number') bad('"formatVersion" must be a number');
  if ((v.formatVersion as number) > SNAPSHOT_FORMAT_VERSION) {
    bad(`format version ${String(v.formatVersion)} is newer than this tool reads (${SNAPSHOT_FORMAT_VERSION})`);
  }
  if (!isObject(v.data)) return bad('"data" must be an object');
  const data = v.data;
  if (typeof data.file !== 'string' || data.file === '' || /[/\\]/.test(data.file))
    bad('"data.file" must be a file name');
  if (typeof data.bytes !== 'number') bad('"data.bytes" must be a number');
  if (typeof data.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(data.sha256))
    bad('"data.sha256" must be a hex SHA-256');
  if (typeof v.records !== 'number') bad('"records" must be a number');
  return v as unknown as SnapshotManifest;
}
