import { IoTClient, ListThingsCommand } from '@aws-sdk/client-iot';
import { DeleteThingShadowCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIALS, bytes, withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off' });
let iot: IoTClient;

describe('ListThings through @aws-sdk/client-iot', () => {
  beforeAll(async () => {
    iot = new IoTClient({
      endpoint: ctx.emulator.url,
      region: 'us-east-1',
      credentials: { ...CREDENTIALS },
      maxAttempts: 1,
    });
    for (const name of ['t-a', 't-b', 't-c', 't-d', 't-e']) {
      await ctx.client.send(
        new UpdateThingShadowCommand({
          thingName: name,
          shadowName: name === 't-c' ? 'only-named' : undefined,
          payload: bytes({ state: {} }),
        }),
      );
    }
    await ctx.client.send(new DeleteThingShadowCommand({ thingName: 't-d' }));
  });
  afterAll(() => iot.destroy());

  it('lists things that have shadows with ARNs, attributes and versions', async () => {
    const r = await iot.send(new ListThingsCommand({}));
    expect(r.things?.map((t) => t.thingName)).toEqual(['t-a', 't-b', 't-c', 't-e']);
    expect(r.things?.[0]).toEqual({
      thingName: 't-a',
      thingArn: 'arn:aws:iot:us-east-1:123456789012:thing/t-a',
      attributes: {},
      version: 1,
    });
    expect(r.nextToken).toBeUndefined();
  });

  it('pages with maxResults and nextToken', async () => {
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await iot.send(new ListThingsCommand({ maxResults: 3, nextToken: token }));
      names.push(...(r.things ?? []).map((t) => t.thingName!));
      token = r.nextToken;
      pages++;
    } while (token && pages < 10);
    expect(names).toEqual(['t-a', 't-b', 't-c', 't-e']);
    expect(pages).toBe(2);
  });
});
