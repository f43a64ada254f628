import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IotControlClient } from '../../src/client/iot-control-client.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ConfigError, InvalidArgumentError, ServiceError } from '../../src/errors.js';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
let emulator: Emulator;
let client: IotControlClient;

async function all(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const n of it) out.push(n);
  return out;
}

beforeAll(async () => {
  emulator = await startEmulator({ quotas: 'off' });
  const r = emulator.registry;
  r.createGroup('fleet', {});
  r.createGroup('eu', { parentGroupName: 'fleet' });
  r.createGroup('berlin', { parentGroupName: 'eu' });
  for (let i = 0; i < 9; i++) {
    const name = `c-${i}`;
    r.createThing(name, { attributes: { site: i % 3 === 0 ? 'berlin' : 'paris' } });
    r.addThingToGroup(name, i < 3 ? 'fleet' : i < 6 ? 'eu' : 'berlin');
    emulator.store.update(
      name,
      undefined,
      JSON.stringify({ state: { reported: { firmware: i < 4 ? '1.4.2' : '1.5.0' } } }),
    );
  }
  client = new IotControlClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    retry: { maxAttempts: 1 },
  });
});
afterAll(async () => {
  await client?.close();
  await emulator?.close();
});

describe('IotControlClient against the emulator', () => {
  it('yields every thing of a group and its descendants with recursive, and only direct members without', async () => {
    expect(await all(client.thingNamesInGroup({ thingGroupName: 'fleet', recursive: true, maxResults: 2 }))).toEqual([
      'c-0',
      'c-1',
      'c-2',
      'c-3',
      'c-4',
      'c-5',
      'c-6',
      'c-7',
      'c-8',
    ]);
    expect(await all(client.thingNamesInGroup({ thingGroupName: 'eu', maxResults: 2 }))).toEqual(['c-3', 'c-4', 'c-5']);
  });

  it('fetches the next page only when the consumer gets there', async () => {
    const it = client.thingNamesInGroup({ thingGroupName: 'berlin', maxResults: 1 })[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('c-6');
    // Changed after the first page was read: the later pages show it, so they were not read ahead.
    emulator.registry.removeThingFromGroup('c-8', 'berlin');
    try {
      expect((await it.next()).value).toBe('c-7');
      expect((await it.next()).done).toBe(true);
    } finally {
      emulator.registry.addThingToGroup('c-8', 'berlin');
    }
  });

  it('lists things by attribute across pages', async () => {
    expect(await all(client.thingNames({ attributeName: 'site', attributeValue: 'berlin', maxResults: 1 }))).toEqual([
      'c-0',
      'c-3',
      'c-6',
    ]);
  });

  it('yields the things a fleet indexing query matches, page by page', async () => {
    expect(
      await all(
        client.searchThingNames({
          queryString: 'shadow.reported.firmware:1.4* AND attributes.site:paris',
          maxResults: 1,
        }),
      ),
    ).toEqual(['c-1', 'c-2']);
    const page = await client.searchIndex({ queryString: 'thingGroupNames:berlin', maxResults: 2 });
    expect(page.items.map((t) => t.thingName)).toEqual(['c-6', 'c-7']);
    expect(JSON.parse(page.items[0]!.shadow!).reported.firmware).toBe('1.5.0');
    expect(page.nextToken).toBeDefined();
  });

  it('surfaces an unsupported query as a ServiceError named InvalidQueryException', async () => {
    const err = await client.searchIndex({ queryString: 'firmware' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).awsErrorType).toBe('InvalidQueryException');
    expect((err as ServiceError).statusCode).toBe(400);
    expect((err as Error).message).toContain("'firmware'");
  });

  it('says that fleet indexing is not switched on when SearchIndex answers that the index does not exist', async () => {
    const off = await startEmulator({ quotas: 'off', fleetIndexing: false });
    const c = new IotControlClient({ endpoint: off.url, credentials: CREDENTIALS, retry: { maxAttempts: 1 } });
    try {
      const err = await all(c.searchThingNames({ queryString: '*' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(
        /^fleet indexing is not switched on for this account: Index AWS_Things does not exist/,
      );
      expect((err as Error).message).toContain('UpdateIndexingConfiguration');
    } finally {
      await c.close();
      await off.close();
    }
  });

  it('answers a missing group with a NotFoundError naming the operation', async () => {
    const err = await all(client.thingNamesInGroup({ thingGroupName: 'nowhere' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'NotFoundError', statusCode: 404 });
    expect((err as Error).message).toContain('ListThingsInThingGroup failed with 404 ResourceNotFoundException');
  });

  it('refuses bad input before sending', async () => {
    await expect(client.listThingsInThingGroup({ thingGroupName: 'a b' })).rejects.toThrow(InvalidArgumentError);
    await expect(client.searchIndex({ queryString: 'x', maxResults: 101 })).rejects.toThrow(
      'SearchIndex: maxResults must be an integer from 1 to 100, got 101',
    );
    expect(() => new IotControlClient({ region: 'Not A Region' })).toThrow('IotControlClientOptions.region');
  });
});

describe('IotControlClient on the wire', () => {
  it('signs with the signing name iot and sends SearchIndex members in a JSON body', async () => {
    const seen: Array<{ method: string; url: string; auth: string; body: string }> = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, auth: String(req.headers.authorization), body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"things":[],"nextToken":null}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = new IotControlClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'eu-west-1',
      credentials: CREDENTIALS,
    });
    try {
      expect(await all(c.searchThingNames({ queryString: 'thingName:a*', maxResults: 5 }))).toEqual([]);
      expect(await all(c.thingNamesInGroup({ thingGroupName: 'g:1', recursive: true }))).toEqual([]);
    } finally {
      await c.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe('/indices/search');
    expect(JSON.parse(seen[0]!.body)).toEqual({ indexName: 'AWS_Things', queryString: 'thingName:a*', maxResults: 5 });
    expect(seen[0]!.auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/iot\/aws4_request, /);
    expect(seen[1]!.url).toBe('/thing-groups/g%3A1/things?recursive=true');
  });
});
