/**
 * startEmulatorProcess: the emulator in its own process, started from its own entry file
 * (src/emulator/emulator-main.ts) with the options as JSON, not through the CLI.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { emulatorProcessCommand } from '../../src/emulator/emulator-process.js';
import { startEmulatorProcess } from '../../src/emulator/index.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startEmulatorProcess', () => {
  it('starts an emulator in a child process with the given options and stops it on close', async () => {
    const emu = await startEmulatorProcess({ quotas: 'off', seedThings: 3 });
    try {
      expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(emu.pid).not.toBe(process.pid);
      const res = await request(`${emu.url}/things/device-000002/shadow`);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      const stats = await emu.stats();
      expect(stats.operations.GetThingShadow.requests).toBe(1);
    } finally {
      await emu.close();
    }
    expect(alive(emu.pid)).toBe(false);
  });

  it('refuses bad options before spawning anything, naming the option', async () => {
    await expect(startEmulatorProcess({ port: 70000 })).rejects.toThrow(InvalidArgumentError);
    await expect(startEmulatorProcess({ port: 70000 })).rejects.toThrow(/^port must be an integer from 0 to 65535/);
  });
});

describe('the emulator entry file', () => {
  it('prints "listening on URL" as its first line and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [...emulatorProcessCommand(), JSON.stringify({ quotas: 'off' })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const first = await new Promise<string>((resolve) =>
        createInterface({ input: child.stdout }).once('line', resolve),
      );
      expect(first).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('exits 2 with the message on stderr when the options are refused', async () => {
    const child = spawn(process.execPath, [...emulatorProcessCommand(), JSON.stringify({ quotas: 'sometimes' })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("quotas must be 'aws', 'off' or an object");
  });
});
