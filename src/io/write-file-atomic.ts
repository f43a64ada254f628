import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** `<dir>/.<name>.<pid>.partial`: the temporary name a file is written under before it is renamed into place. */
export function partialPathOf(path: string): string {
  const target = resolve(path);
  return join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
}

/**
 * Writes `data` to a temporary name beside `path`, fsyncs it and renames it into place, so the
 * file at `path` is either the old one or the whole new one, never a truncated mix. Any error
 * (ENOSPC, EIO, a short write) is thrown after the temporary file is removed.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const target = resolve(path);
  const tmp = partialPathOf(target);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
