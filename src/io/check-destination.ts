import { constants, type Stats } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { specialFileSystem } from './special-file-system.js';

export interface DestinationCheck {
  /** The absolute path checked. */
  path: string;
  /** True when the path (or, for a file, the file) already exists. */
  exists: boolean;
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String(err);
}

/**
 * The nearest existing ancestor of `path` (itself included), checked to be a writable directory
 * on ordinary storage. Nothing is created: a recursive mkdir on procfs never returns, so this
 * runs first and refuses such a place with an error naming it.
 */
async function existingAncestor(start: string, what: string, path = start): Promise<string> {
  for (let p = start; ; p = dirname(p)) {
    let st: Stats;
    try {
      st = await stat(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(p) !== p) continue;
      throw new ConfigError(`${what} ${path}: cannot check ${p} (${reason(err)})`, { cause: err });
    }
    if (!st.isDirectory()) throw new ConfigError(`${what} ${path} is not writable: ${p} is not a directory`);
    const special = await specialFileSystem(p);
    if (special !== undefined)
      throw new ConfigError(`${what} ${path}: ${p} is on ${special}, a kernel file system that cannot hold files`);
    try {
      await access(p, constants.W_OK);
    } catch (err) {
      throw new ConfigError(`${what} ${path}: ${p} is not writable (${reason(err)})`, { cause: err });
    }
    return p;
  }
}

/**
 * Checks that a directory can be created or written at `dir` (a snapshot directory) before any
 * request is made: an existing non-directory, a path on procfs/sysfs, or an unwritable ancestor is
 * refused with a ConfigError naming the path.
 */
export async function checkDestinationDir(dir: string, what: string): Promise<DestinationCheck> {
  const path = resolve(dir);
  const found = await existingAncestor(path, what);
  return { path, exists: found === path };
}

/**
 * Checks that a file can be written at `file` (a report, a report page, a journal) before any
 * request is made. An existing path must be a regular file (never a directory or a device such
 * as /dev/full: a report is written aside and renamed into place); its directory must be
 * creatable and writable and on ordinary storage.
 */
export async function checkDestinationFile(file: string, what: string): Promise<DestinationCheck> {
  const path = resolve(file);
  let exists = false;
  try {
    const st = await stat(path);
    exists = true;
    if (st.isDirectory()) throw new ConfigError(`${what} ${path} is a directory, not a file`);
    if (!st.isFile())
      throw new ConfigError(`${what} ${path} is not a regular file (a device, pipe or socket); give a file path`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR')
      throw new ConfigError(`${what} ${path}: cannot check it (${reason(err)})`, { cause: err });
  }
  await existingAncestor(dirname(path), what, path);
  return { path, exists };
}
