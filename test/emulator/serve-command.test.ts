import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

// Starting the CLI through tsx takes tens of seconds on a loaded machine: the waits below only
// catch a hang, so they are long and the tests' timeout is longer still.
describe('shadowfleet serve', { timeout: 240_000 }, () => {
  it('prints its URL as the first stdout line, serves, and exits cleanly on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--quotas', 'off', '--seed-things', '3'],
      {
        cwd: new URL('../..', import.meta.url).pathname,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await Promise.race([
        new Promise<string>((resolve) => lines.once('line', resolve)),
        exited.then((code) => {
          throw new Error(`serve exited with ${code} before listening: ${stderr}`);
        }),
        new Promise<string>((_, reject) =>
          setTimeout(() => reject(new Error(`no output within 120 s: ${stderr}`)), 120_000).unref(),
        ),
      ]);
      expect(first).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
      const url = first.slice('listening on '.length);
      const res = await request(`${url}/things/device-000001/shadow`);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      child.kill('SIGINT');
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000).unref()),
      ]);
      // SIGINT is how a server is stopped: a clean close exits 0.
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('rejects a bad --quotas value as a usage error', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--quotas', 'sometimes'],
      {
        cwd: new URL('../..', import.meta.url).pathname,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("--quotas must be 'aws' or 'off'");
  });
});
