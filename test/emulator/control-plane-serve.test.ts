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
  const run: Runner =
    <O>(action: CommandAction<O>) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      await action(command.opts() as O, ctx, []);
    };
  const program = new Command().exitOverride();
  defineServe(program, run);
  return program.parseAsync(['serve', ...argv], { from: 'user' }).then(() => checked);
}

async function post(
  url: string,
  body: unknown,
): Promise<{ status: number; json: { things: Array<{ thingName: string }> }; type: string | undefined }> {
  const r = await request(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return {
    status: r.statusCode,
    json: (await r.body.json()) as { things: Array<{ thingName: string }> },
    type: r.headers['x-amzn-errortype'] as string | undefined,
  };
}

describe('serve with a seeded registry', () => {
  it('--seed-registry registers the seeded things in the group tree so a query finds them', async () => {
    await runServe(['--port', '0', '--quotas', 'off', '--seed-things', '12', '--seed-registry'], async (url) => {
      const r = await post(`${url}/indices/search`, { queryString: 'thingGroupNames:berlin' });
      expect(r.status).toBe(200);
      const berlin = Array.from({ length: 12 }, (_, i) => i)
        .filter((i) => seededPlacement(i).site === 'berlin')
        .map(seededThingName);
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
    expect(() => resolveEmulatorOptions({ seedRegistry: 'yes' as unknown as boolean })).toThrow(
      'seedRegistry must be a boolean',
    );
    expect(() => resolveEmulatorOptions({ fleetIndexing: 1 as unknown as boolean })).toThrow(
      'fleetIndexing must be a boolean',
    );
    expect(resolveEmulatorOptions({})).toMatchObject({ seedRegistry: false, fleetIndexing: true });
  });
});

describe('control-plane signatures', () => {
  it('accepts calls signed for iot with a known key and refuses a wrong key or a data-plane scope, as the data plane does', async () => {
    const { startEmulator } = await import('../../src/emulator/index.js');
    const { IoTClient, CreateThingCommand, ListThingsInThingGroupCommand } = await import('@aws-sdk/client-iot');
    const { IotControlClient } = await import('../../src/client/iot-control-client.js');
    const key = { accessKeyId: 'AKIDCONTROL', secretAccessKey: 'control-secret' };
    const e = await startEmulator({ quotas: 'off', seedThings: 3, seedRegistry: true, sigv4: { credentials: [key] } });
    const good = new IoTClient({ endpoint: e.url, region: 'us-east-1', credentials: key, maxAttempts: 1 });
    const bad = new IoTClient({
      endpoint: e.url,
      region: 'us-east-1',
      credentials: { ...key, secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    const ours = new IotControlClient({ endpoint: e.url, credentials: key, retry: { maxAttempts: 1 } });
    try {
      expect((await good.send(new CreateThingCommand({ thingName: 'signed-1' }))).thingName).toBe('signed-1');
      const names: string[] = [];
      for await (const n of ours.thingNamesInGroup({ thingGroupName: 'fleet', recursive: true, maxResults: 2 }))
        names.push(n);
      expect(names).toEqual(['device-000001', 'device-000002', 'device-000003']);
      const refused = await bad
        .send(new ListThingsInThingGroupCommand({ thingGroupName: 'fleet' }))
        .catch((err: { name: string; $metadata: { httpStatusCode?: number } }) => err);
      expect(refused).toMatchObject({ name: 'ForbiddenException', $metadata: { httpStatusCode: 403 } });
      const scoped = await request(`${e.url}/thing-groups/fleet/things`, {
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=AKIDCONTROL/20260101/us-east-1/iotdata/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
          'x-amz-date': '20260101T000000Z',
        },
      });
      expect(scoped.statusCode).toBe(403);
      expect(((await scoped.body.json()) as { message: string }).message).toBe(
        "Credential should be scoped to correct service: 'iot'",
      );
    } finally {
      good.destroy();
      bad.destroy();
      await ours.close();
      await e.close();
    }
  });
});
