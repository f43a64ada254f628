import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import { parseJson } from '../../shadow/json-text.js';
import { encodeRecord, recordKey, type SnapshotRecord } from '../../sinks/snapshot-format.js';

/** FNV-1a over the UTF-16 code units of a key: cheap, stable, good enough to spread keys. */
export function keyBucket(key: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % buckets;
}

/**
 * Splits a stream of records into `buckets` gzip files by key hash, so records with the same
 * key from two snapshots land in the same bucket number and a bucket fits in memory.
 */
export class SnapshotPartition {
  readonly dir: string;
  readonly name: string;
  readonly buckets: number;
  #gz: Gzip[] = [];
  #done: Promise<void>[] = [];

  constructor(dir: string, name: string, buckets: number) {
    this.dir = dir;
    this.name = name;
    this.buckets = buckets;
    for (let i = 0; i < buckets; i++) {
      const gz = createGzip({ level: 1 });
      const file: WriteStream = createWriteStream(this.file(i));
      this.#gz.push(gz);
      const p = pipeline(gz, file);
      p.catch(() => undefined);
      this.#done.push(p);
    }
  }

  file(i: number): string {
    return join(this.dir, `${this.name}-${i}.jsonl.gz`);
  }

  async add(rec: SnapshotRecord): Promise<void> {
    const gz = this.#gz[keyBucket(recordKey(rec), this.buckets)]!;
    if (!gz.write(encodeRecord(rec))) await once(gz, 'drain');
  }

  async end(): Promise<void> {
    for (const gz of this.#gz) gz.end();
    await Promise.all(this.#done);
  }

  /** Records of one bucket, in write order. */
  async *read(i: number): AsyncGenerator<SnapshotRecord> {
    const gunzip = createGunzip();
    const p = pipeline(createReadStream(this.file(i)), gunzip);
    p.catch(() => undefined);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const text = rest + decoder.write(chunk);
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line !== '') yield parseJson(line) as SnapshotRecord;
    }
    await p;
  }
}
