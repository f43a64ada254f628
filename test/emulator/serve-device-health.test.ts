import { Command } from 'commander';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { defineServe } from '../../src/cli/commands/serve.js';
import type { CommandAction, CommandContext } from '../../src/cli/context.js';
import type { Runner } from '../../src/cli/main.js';

/** Runs `serve` in-process; `onLine` gets the first line and a function that stops the server. */
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

async function reportedOf(url: string, thing: string): Promise<Record<string, unknown> | undefined> {
  const res = await request(`${url}/things/${thing}/shadow`);
  const doc = (await res.body.json()) as { state?: { reported?: Record<string, unknown> } };
  return doc.state?.reported;
}

describe('serve: unhealthy simulated devices', () => {
  it('makes devices report unhealthy when a desired key takes the value of --device-unhealthy-when', async () => {
    let checked: Promise<void> | undefined;
    const code = await runServe(
      [
        '--port',
        '0',
        '--quotas',
        'off',
        '--device-delay-ms',
        '0',
        '--device-unhealthy-when',
        'firmware=1.5.0',
        '--device-unhealthy-share',
        '1',
      ],
      (line, abort) => {
        const url = line.slice('listening on '.length);
        checked = (async () => {
          for (const [thing, firmware] of [
            ['bad-1', '1.5.0'],
            ['good-1', '1.4.0'],
          ]) {
            const res = await request(`${url}/things/${thing}/shadow`, {
              method: 'POST',
              body: JSON.stringify({ state: { desired: { firmware } } }),
            });
            await res.body.dump();
          }
          // the devices answer on a timer: wait for the reports, however slow the machine
          let bad: Record<string, unknown> | undefined;
          let good: Record<string, unknown> | undefined;
          for (;;) {
            bad = await reportedOf(url, 'bad-1');
            good = await reportedOf(url, 'good-1');
            if (bad?.health !== undefined && good?.health !== undefined) break;
            await new Promise((r) => setTimeout(r, 10));
          }
          expect(bad).toEqual({ firmware: '1.5.0', health: 'unhealthy' });
          expect(good).toEqual({ firmware: '1.4.0', health: 'ok' });
        })().finally(abort);
      },
    );
    await checked;
    expect(code).toBe(0);
  });

  it('names the flag of a malformed rule or share', async () => {
    await expect(runServe(['--port', '0', '--device-unhealthy-when', 'firmware'], () => {})).rejects.toThrow(
      "--device-unhealthy-when must be KEY=VALUE, e.g. firmware=1.5.0, got 'firmware'",
    );
    await expect(
      runServe(['--port', '0', '--device-unhealthy-when', 'fw=1', '--device-unhealthy-share', 'lots'], () => {}),
    ).rejects.toThrow("--device-unhealthy-share must be a number, got 'lots'");
    await expect(runServe(['--port', '0', '--device-unhealthy-share', '0.3'], () => {})).rejects.toThrow(
      'unhealthyShare needs',
    );
  });
});
