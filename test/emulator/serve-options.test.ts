import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { defineServe } from '../../src/cli/commands/serve.js';
import type { CommandAction, CommandContext } from '../../src/cli/context.js';
import type { Runner } from '../../src/cli/main.js';

/** Runs `serve` in-process with a controllable signal; resolves with the exit code. */
function runServe(argv: string[], onLine: (line: string, abort: () => void) => void): Promise<number> {
  const controller = new AbortController();
  let code = -1;
  const ctx: CommandContext = {
    signal: controller.signal,
    out: (text) => onLine(text, () => controller.abort()),
    err: () => {},
    stderrIsTTY: false,
  };
  const run: Runner =
    <O>(action: CommandAction<O>) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      code = await action(command.opts() as O, ctx, []);
    };
  const program = new Command().exitOverride();
  defineServe(program, run);
  return program.parseAsync(['serve', ...argv], { from: 'user' }).then(() => code);
}

describe('the serve command', () => {
  it('prints exactly "listening on http://HOST:PORT", applies its flags and returns 0 once aborted', async () => {
    let checked: Promise<void> | undefined;
    const code = await runServe(
      [
        '--port',
        '0',
        '--quotas',
        'aws',
        '--thing-rps',
        '1',
        '--seed-things',
        '2',
        '--fault-rate',
        '0',
        '--latency-ms',
        '0',
        '--seed',
        '5',
        '--simulate-devices',
        '--device-delay-ms',
        '10',
        '--device-silent-share',
        '0.5',
      ],
      (line, abort) => {
        expect(line).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
        const url = line.slice('listening on '.length);
        checked = (async () => {
          const first = await request(`${url}/things/device-000001/shadow`);
          await first.body.dump();
          const second = await request(`${url}/things/device-000001/shadow`);
          await second.body.dump();
          expect([first.statusCode, second.statusCode]).toEqual([200, 429]);
        })().finally(abort);
      },
    );
    await checked;
    expect(code).toBe(0);
  });

  it('takes SigV4 secrets from a file or an environment variable and guards /_emulator/stats with them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-key-'));
    const file = join(dir, 'key');
    writeFileSync(file, 'file-secret\n');
    process.env.SERVE_TEST_SECRET = 'env-secret';
    try {
      let checked: Promise<void> | undefined;
      const code = await runServe(
        ['--port', '0', '--sigv4-key-file', `AKIDFILE:${file}`, '--sigv4-key-env', 'AKIDENV:SERVE_TEST_SECRET'],
        (line, abort) => {
          const url = line.slice('listening on '.length);
          checked = (async () => {
            const res = await request(`${url}/_emulator/stats`);
            expect(res.statusCode).toBe(403);
            await res.body.dump();
          })().finally(abort);
        },
      );
      await checked;
      expect(code).toBe(0);
      await expect(runServe(['--port', '0', '--sigv4-key-file', file], () => {})).rejects.toThrow(
        '--sigv4-key-file must be ACCESS_KEY_ID:PATH',
      );
      await expect(runServe(['--port', '0', '--sigv4-key-env', 'AKID:SERVE_TEST_UNSET'], () => {})).rejects.toThrow(
        'environment variable SERVE_TEST_UNSET is not set or empty',
      );
    } finally {
      delete process.env.SERVE_TEST_SECRET;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns a bad flag into an InvalidArgumentError naming the flag', async () => {
    await expect(runServe(['--port', '0', '--quotas', 'maybe'], () => {})).rejects.toThrow(
      "--quotas must be 'aws' or 'off', got 'maybe'",
    );
    await expect(runServe(['--port', 'abc'], () => {})).rejects.toThrow("--port must be a number, got 'abc'");
    await expect(runServe(['--sigv4-key', 'nocolon'], () => {})).rejects.toThrow(
      '--sigv4-key must be ACCESS_KEY_ID:SECRET',
    );
  });
});
