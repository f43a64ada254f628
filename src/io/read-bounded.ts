import type { Stats } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { InvalidArgumentError } from '../errors.js';
import { specialFileSystem } from './special-file-system.js';

function kindOf(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function tooLarge(what: string, source: string, limit: number): InvalidArgumentError {
  return new InvalidArgumentError(`${what}: ${source} is larger than the limit of ${limit} bytes`);
}

/**
 * Refuses, with an InvalidArgumentError naming the path, what can never be read as a file of
 * lines: a directory, a device (`/dev/zero`), a socket, or a file of procfs/sysfs. Pipes pass.
 * A missing file is left to the reader (its error names the path).
 */
export async function refuseSpecialFile(path: string, what: string): Promise<void> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch {
    return;
  }
  if (!st.isFile() && !st.isFIFO())
    throw new InvalidArgumentError(`${what}: ${path} is ${kindOf(st)}; give a regular file`);
  const special = await specialFileSystem(path);
  if (special !== undefined)
    throw new InvalidArgumentError(`${what}: ${path} is on ${special}, a kernel file system; give a regular file`);
}

/**
 * Reads a file of at most `limit` bytes: at most `limit + 1` bytes are ever read, so an endless
 * source (`/dev/zero`, a growing file) is refused at once with the limit in the message.
 * Directories, devices, sockets and files of kernel file systems (procfs, sysfs) are refused with
 * an error naming the path; pipes (`<(cmd)`) are read, still bounded.
 */
export async function readBounded(path: string, limit: number, what: string): Promise<Buffer> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (err) {
    throw new InvalidArgumentError(`${what}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!st.isFile() && !st.isFIFO())
    throw new InvalidArgumentError(`${what}: ${path} is ${kindOf(st)}; give a regular file`);
  const special = await specialFileSystem(path);
  if (special !== undefined)
    throw new InvalidArgumentError(`${what}: ${path} is on ${special}, a kernel file system; give a regular file`);
  if (st.isFile() && st.size > limit) throw tooLarge(what, path, limit);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new InvalidArgumentError(`${what}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const buf = Buffer.allocUnsafe(limit + 1);
    let used = 0;
    while (used < buf.length) {
      const { bytesRead } = await fh.read(buf, used, buf.length - used, null);
      if (bytesRead === 0) break;
      used += bytesRead;
    }
    if (used > limit) throw tooLarge(what, path, limit);
    return Buffer.from(buf.subarray(0, used));
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`${what}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    await fh.close();
  }
}

/** Reads a stream (stdin) up to `limit` bytes; one byte more and it is refused with the limit in the message. */
export async function readStreamBounded(
  stream: NodeJS.ReadableStream,
  limit: number,
  what: string,
  source = 'standard input',
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    if (size > limit) {
      (stream as { destroy?: () => void }).destroy?.();
      throw tooLarge(what, source, limit);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, size);
}
