import {
  DescribeIndexCommand,
  GetIndexingConfigurationCommand,
  IoTClient,
  SearchIndexCommand,
  UpdateIndexingConfigurationCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPlacement } from '../../src/emulator/control-plane/seed-registry.js';
import { seededThingName } from '../../src/emulator/index.js';
import { CREDENTIALS, bytes, sdkError, withEmulator } from './with-emulator.js';

const COUNT = 40;
const ctx = withEmulator({ quotas: 'off', seedThings: COUNT, seedRegistry: true });
let iot: IoTClient;
const names = Array.from({ length: COUNT }, (_, i) => seededThingName(i));

beforeAll(() => {
  iot = new IoTClient({
    endpoint: ctx.emulator.url,
    region: 'us-east-1',
    credentials: { ...CREDENTIALS },
    maxAttempts: 1,
  });
});
afterAll(() => iot.destroy());

/** Every page of a query, following nextToken by hand (no SDK paginator exists for SearchIndex). */
async function search(queryString: string, maxResults?: number): Promise<{ names: string[]; pages: number }> {
  const out: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const r = await iot.send(new SearchIndexCommand({ queryString, maxResults, nextToken }));
    out.push(...(r.things ?? []).map((t) => t.thingName!));
    nextToken = r.nextToken;
    pages++;
  } while (nextToken !== undefined && pages < 100);
  return { names: out, pages };
}

interface Reported {
  firmware: string;
  battery: number;
  model: string;
  region: string;
}
const reported = (name: string): Reported => ctx.emulator.store.get(name)!.state.reported as unknown as Reported;

describe('the seeded registry', () => {
  it('registers every seeded thing with the model and region its shadow reports, in a site group under its region under fleet', () => {
    const r = ctx.emulator.registry;
    expect(r.thingCount).toBe(COUNT);
    for (const [i, n] of names.entries()) {
      const t = r.thing(n)!;
      const p = seededPlacement(i);
      expect(t.attributes).toEqual({ site: p.site, model: p.model, region: p.region });
      expect(t.attributes.model).toBe(reported(n).model);
      expect(t.attributes.region).toBe(reported(n).region);
      expect([...t.groups]).toEqual([p.site]);
      expect(r.ancestors(p.site)).toEqual(['fleet', p.region]);
    }
    expect(r.thingsInGroup('fleet', true)).toHaveLength(COUNT);
  });
});

describe('SearchIndex over the seeded fleet', () => {
  it('finds the things of a site group by thingGroupNames', async () => {
    const expected = names.filter((_, i) => seededPlacement(i).site === 'berlin');
    expect(expected.length).toBeGreaterThan(0);
    expect((await search('thingGroupNames:berlin')).names).toEqual(expected);
  });

  it('matches a wildcard on the reported firmware of the shadow store', async () => {
    const expected = names.filter((n) => String(reported(n).firmware).startsWith('1.4'));
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(COUNT);
    expect((await search('shadow.reported.firmware:1.4*')).names).toEqual(expected);
  });

  it('combines attributes and shadow terms with AND, OR, NOT and parentheses', async () => {
    const expected = names.filter((n, i) => {
      const p = seededPlacement(i);
      return (p.site === 'berlin' || p.site === 'ohio') && reported(n).firmware !== '1.5.0';
    });
    const r = await search('(attributes.site:berlin OR attributes.site:ohio) AND NOT shadow.reported.firmware:"1.5.0"');
    expect(r.names).toEqual(expected);
  });

  it('selects numeric ranges and comparisons on shadow values', async () => {
    const inRange = names.filter((n) => reported(n).battery >= 20 && reported(n).battery <= 50);
    expect((await search('shadow.reported.battery:[20 TO 50]')).names).toEqual(inRange);
    const above = names.filter((n) => reported(n).battery > 50);
    expect((await search('shadow.reported.battery > 50')).names).toEqual(above);
    const exclusive = names.filter((n) => reported(n).battery > 20 && reported(n).battery < 50);
    expect((await search('shadow.reported.battery:{20 TO 50}')).names).toEqual(exclusive);
  });

  it('searches named shadows and connectivity', async () => {
    const withFirmwareShadow = names.filter((n) => ctx.emulator.store.get(n, 'firmware') !== undefined);
    expect((await search('shadow.name.firmware.reported.channel:stable')).names).toEqual(withFirmwareShadow);
    const offline = names.filter((_, i) => i % 10 === 9);
    expect((await search('connectivity.connected:false')).names).toEqual(offline);
  });

  it('pages with maxResults and nextToken, every match once', async () => {
    const all = await search('thingName:device-*', 7);
    expect(all.names).toEqual(names);
    expect(all.pages).toBe(Math.ceil(COUNT / 7));
  });

  it("answers in AWS's things shape with the shadow as a JSON string", async () => {
    const r = await iot.send(new SearchIndexCommand({ queryString: `thingName:${names[0]}` }));
    expect(r.things).toHaveLength(1);
    const t = r.things![0]!;
    const p = seededPlacement(0);
    expect(t).toMatchObject({
      thingName: names[0],
      thingGroupNames: [p.site],
      attributes: { site: p.site, model: p.model, region: p.region },
    });
    expect(t.thingId).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.connectivity?.connected).toBe(true);
    expect(typeof t.shadow).toBe('string');
    const shadow = JSON.parse(t.shadow!);
    expect(shadow.reported.firmware).toBe(reported(names[0]!).firmware);
    expect(shadow.name.config.desired.logLevel).toBe('info');
    expect(shadow.hasDelta).toBe(ctx.emulator.store.get(names[0]!)!.state.delta !== undefined);
  });

  it('sees shadow and registry changes at once and never indexes unregistered things', async () => {
    await ctx.client.send(
      new UpdateThingShadowCommand({
        thingName: 'not-registered',
        payload: bytes({ state: { reported: { firmware: '9.9.9' } } }),
      }),
    );
    await ctx.client.send(
      new UpdateThingShadowCommand({
        thingName: names[3],
        payload: bytes({ state: { reported: { firmware: '9.9.9' } } }),
      }),
    );
    expect((await search('shadow.reported.firmware:9.9.9')).names).toEqual([names[3]]);
    await iot.send(
      new UpdateThingCommand({ thingName: names[4], attributePayload: { attributes: { site: 'lab' }, merge: true } }),
    );
    expect((await search('attributes.site:lab')).names).toEqual([names[4]]);
  });

  it('refuses what it does not support with InvalidQueryException naming the part', async () => {
    const cases: Array<[string, string]> = [
      ['firmware', "'firmware'"],
      ['shadow.metadata.reported.x:1', "'shadow.metadata.reported.x'"],
      ['thingName:a OR', 'the end of the query'],
      ['thingName:a/b', "'/'"],
      ['shadow.reported.location:geo_distance,47.6,-122.3,15.5km', "','"],
    ];
    for (const [q, part] of cases) {
      const err = await sdkError(iot.send(new SearchIndexCommand({ queryString: q })));
      expect(err.name).toBe('InvalidQueryException');
      expect(err.status).toBe(400);
      expect(err.message).toContain(part);
    }
  });

  it('refuses maxResults above 100 and a token from another query', async () => {
    expect((await sdkError(iot.send(new SearchIndexCommand({ queryString: '*', maxResults: 101 })))).name).toBe(
      'InvalidRequestException',
    );
    const first = await iot.send(new SearchIndexCommand({ queryString: '*', maxResults: 1 }));
    const err = await sdkError(
      iot.send(new SearchIndexCommand({ queryString: 'thingName:x*', nextToken: first.nextToken })),
    );
    expect(err).toMatchObject({ name: 'InvalidRequestException', message: 'Invalid nextToken' });
  });

  it('describes AWS_Things as ACTIVE while indexing is on, and knows no AWS_ThingGroups index', async () => {
    const d = await iot.send(new DescribeIndexCommand({ indexName: 'AWS_Things' }));
    expect(d).toMatchObject({ indexName: 'AWS_Things', indexStatus: 'ACTIVE', schema: 'MULTI_INDEXING_MODE' });
    const err = await sdkError(iot.send(new DescribeIndexCommand({ indexName: 'AWS_ThingGroups' })));
    expect(err).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
      message: 'Index AWS_ThingGroups does not exist',
    });
  });

  it("answers AWS's ResourceNotFoundException once thing indexing is switched off", async () => {
    await iot.send(
      new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'OFF' } }),
    );
    try {
      expect(
        (await iot.send(new GetIndexingConfigurationCommand({}))).thingIndexingConfiguration?.thingIndexingMode,
      ).toBe('OFF');
      expect((await sdkError(iot.send(new DescribeIndexCommand({ indexName: 'AWS_Things' })))).name).toBe(
        'ResourceNotFoundException',
      );
      const err = await sdkError(iot.send(new SearchIndexCommand({ queryString: '*' })));
      expect(err).toMatchObject({
        name: 'ResourceNotFoundException',
        status: 404,
        message: 'Index AWS_Things does not exist. Please enable index by calling UpdateIndexingConfiguration',
      });
    } finally {
      await iot.send(
        new UpdateIndexingConfigurationCommand({
          thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY_AND_SHADOW' },
        }),
      );
    }
    expect((await search('*')).names.length).toBe(COUNT);
  });
});

describe('SearchIndex scan budget', () => {
  it('returns a short page with a nextToken once it has examined its budget, and the pages together hold every match once', async () => {
    const { ControlPlaneRoutes } = await import('../../src/emulator/control-plane/control-plane-routes.js');
    const { ThingRegistry } = await import('../../src/emulator/control-plane/thing-registry.js');
    const { ShadowStore } = await import('../../src/emulator/shadow-store.js');
    const store = new ShadowStore();
    const registry = new ThingRegistry({ region: 'us-east-1', accountId: '123456789012' });
    for (let i = 0; i < 20; i++)
      registry.createThing(`b-${String(i).padStart(2, '0')}`, { attributes: { even: String(i % 2 === 0) } });
    const routes = new ControlPlaneRoutes(store, registry, {
      defaultPageSize: 100,
      defaultSearchPageSize: 100,
      fleetIndexing: true,
      maxRequestBytes: 1 << 20,
      searchScanBudget: 3,
    });
    const found: string[] = [];
    const sizes: number[] = [];
    let nextToken: string | undefined;
    do {
      const page = routes.call('POST', '/indices/search', '', {
        queryString: 'attributes.even:true',
        maxResults: 100,
        ...(nextToken ? { nextToken } : {}),
      }) as { things: Array<{ thingName: string }>; nextToken?: string };
      sizes.push(page.things.length);
      found.push(...page.things.map((t) => t.thingName));
      nextToken = page.nextToken;
    } while (nextToken !== undefined && sizes.length < 50);
    expect(found).toEqual(Array.from({ length: 10 }, (_, i) => `b-${String(i * 2).padStart(2, '0')}`));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
    expect(sizes.length).toBe(7);
  });
});
