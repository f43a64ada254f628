import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../errors.js';

/** A parsed snapshot destination or source. */
export type SnapshotLocation =
  | { kind: 'local'; dir: string; text: string }
  | { kind: 's3'; bucket: string; prefix: string; text: string };

/**
 * Parses `s3://bucket/prefix/` (prefix optional; a missing trailing slash is added, so the
 * objects are `<prefix>/shadows.jsonl.gz` and `<prefix>/manifest.json`), `file:///dir` or a
 * local directory path. A path ending in `/manifest.json` stands for its directory.
 */
export function parseSnapshotLocation(text: string, option = 'location'): SnapshotLocation {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new InvalidArgumentError(`${option} must be a directory path or an s3://bucket/prefix/ URL`);
  }
  if (/^s3:\/\//i.test(text)) {
    const rest = text.slice(5);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    let prefix = slash === -1 ? '' : rest.slice(slash + 1);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new InvalidArgumentError(`${option}: "${bucket}" is not a valid S3 bucket name (in ${text})`);
    }
    prefix = prefix.replace(/^\/+/, '');
    if (prefix.endsWith('manifest.json')) prefix = prefix.slice(0, -'manifest.json'.length);
    if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
    return { kind: 's3', bucket, prefix, text };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !/^file:\/\//i.test(text)) {
    throw new InvalidArgumentError(`${option}: unsupported URL scheme in ${text} (use a path or s3://bucket/prefix/)`);
  }
  let dir = /^file:\/\//i.test(text) ? fileURLToPath(text) : text;
  dir = resolve(dir);
  if (dir.endsWith('/manifest.json')) dir = dir.slice(0, -'/manifest.json'.length);
  return { kind: 'local', dir, text };
}
