/**
 * The browser test needs Debian's Chromium, which a new machine does not have. When it is
 * missing and this process may install packages (root with apt-get), it is installed once, so
 * `npm ci && npm test` works on a fresh machine; otherwise the message says what to do.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function ensureChromium(executable: string): Promise<void> {
  if (existsSync(executable)) return;
  const howTo = `${executable} is missing: install Debian's chromium (apt-get install -y chromium) or set SHADOWFLEET_CHROMIUM`;
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get') && executable === '/usr/bin/chromium';
  if (!canInstall) throw new Error(howTo);
  process.stderr.write('report-page browser test: installing Debian chromium (apt-get, once)...\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another run of the suite on this machine may be installing it at the same moment: wait for
  // the package manager's lock instead of failing on it, and take that install if it got there first.
  const wait = ['-o', 'DPkg::Lock::Timeout=240'];
  try {
    await run('apt-get', [...wait, 'update', '-qq'], { env, timeout: 300_000, maxBuffer: 16 << 20 });
    await run('apt-get', [...wait, 'install', '-y', '-qq', 'chromium'], { env, timeout: 540_000, maxBuffer: 16 << 20 });
  } catch (err) {
    if (existsSync(executable)) return;
    throw new Error(`${howTo} (automatic install failed: ${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  if (!existsSync(executable)) throw new Error(howTo);
}
