import { Command } from 'commander';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { defineServe } from '../../src/cli/commands/serve.js';
import type { CommandAction, CommandContext } from '../../src/cli/context.js';
import type { Runner } from '../../src/cli/main.js';
import { seededPlacement } from '../../src/emulator/control-plane/seed-registry.js';
import { seededThingName } from '../../src/emulator/index.js';

/** Runs `serve` in-process; `onUrl` gets the listening URL and returns once done checking. */
function runServe(argv: string[], onUrl: (url: string) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  let checked: Promise<void> = Promise.resolve();
  const ctx: CommandContext = {
    signal: controller.signal,
    out: (text) => {
      checked = onUrl(text.slice('listening on '.length)).finally(() => controller.abort());
    },
    err: () => {},
    stderrIsTTY: false,
  };
  const run: Runner = <O,>(action: CommandAction<O>) => async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    await action(command.opts() as O, ctx, []);
  };
  const program = new Command().exitOverride();
  defineServe(program, run);
  return program.parseAsync(['serve', ...argv], { from: 'user' }).then(() => checked);
}

async function post(url: string, body: unknown): Promise<{ status: number; json: any; type: string | undefined }> {
  const r = await request(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: r.statusCode, json: await r.body.json(), type: r.headers['x-amzn-errortype'] as string | undefined };
}

describe('serve with a seeded registry', () => {
  it('--seed-registry registers the seeded things in the group tree so a query finds them', async () => {
    await runServe(['--port', '0', '--quotas', 'off', '--seed-things', '12', '--seed-registry'], async (url) => {
      const r = await post(`${url}/indices/search`, { queryString: 'thingGroupNames:berlin' });
      expect(r.status).toBe(200);
      const berlin = Array.from({ length: 12 }, (_, i) => i).filter((i) => seededPlacement(i).site === 'berlin').map(seededThingName);
      expect(berlin.length).toBe(2);
      expect(r.json.things.map((t: { thingName: string }) => t.thingName)).toEqual(berlin);
      const members = await request(`${url}/thing-groups/fleet/things?recursive=true`);
      expect(((await members.body.json()) as { things: string[] }).things).toHaveLength(12);
    });
  });

  it('without --seed-registry the seeded shadows stay unregistered, and --no-fleet-indexing switches SearchIndex off', async () => {
    await runServe(['--port', '0', '--quotas', 'off', '--seed-things', '3', '--no-fleet-indexing'], async (url) => {
      const r = await post(`${url}/indices/search`, { queryString: '*' });
      expect(r.status).toBe(404);
      expect(r.type).toBe('ResourceNotFoundException');
      const d = await request(`${url}/things/device-000001`);
      expect(d.statusCode).toBe(404);
      await d.body.dump();
    });
  });
});

describe('control-plane emulator options', () => {
  it('refuses non-boolean seedRegistry and fleetIndexing, naming the option', async () => {
    const { resolveEmulatorOptions } = await import('../../src/emulator/index.js');
    expect(() => resolveEmulatorOptions({ seedRegistry: 'yes' as unknown as boolean })).toThrow('seedRegistry must be a boolean');
    expect(() => resolveEmulatorOptions({ fleetIndexing: 1 as unknown as boolean })).toThrow('fleetIndexing must be a boolean');
    expect(resolveEmulatorOptions({})).toMatchObject({ seedRegistry: false, fleetIndexing: true });
  });
});
