import { statfs } from 'node:fs/promises';

/** statfs magic numbers of kernel file systems that are not storage: writing there never makes a file. */
const SPECIAL_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x6e736673, 'nsfs'],
  [0x1cd1, 'devpts'],
]);

/** The name of the special (kernel) file system holding `path`, or undefined for ordinary storage. */
export async function specialFileSystem(path: string): Promise<string | undefined> {
  try {
    const fs = await statfs(path);
    return SPECIAL_FILE_SYSTEMS.get(Number(fs.type));
  } catch {
    return undefined;
  }
}
