import {
  ListNamedShadowsForThingCommand,
  UpdateThingShadowCommand,
  DeleteThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytes, sdkError, withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off' });
const list = (thingName: string, pageSize?: number, nextToken?: string) =>
  ctx.client.send(new ListNamedShadowsForThingCommand({ thingName, pageSize, nextToken }));

describe('ListNamedShadowsForThing through the AWS SDK', () => {
  beforeAll(async () => {
    await ctx.client.send(
      new UpdateThingShadowCommand({ thingName: 'multi', payload: bytes({ state: { desired: { a: 1 } } }) }),
    );
    for (let i = 0; i < 7; i++) {
      await ctx.client.send(
        new UpdateThingShadowCommand({
          thingName: 'multi',
          shadowName: `s${i}`,
          payload: bytes({ state: { reported: { i } } }),
        }),
      );
    }
    await ctx.client.send(new DeleteThingShadowCommand({ thingName: 'multi', shadowName: 's3' }));
  });

  it('lists live named shadows, never the classic or deleted ones, with a timestamp', async () => {
    const r = await list('multi');
    expect(r.results).toEqual(['s0', 's1', 's2', 's4', 's5', 's6']);
    expect(r.nextToken).toBeUndefined();
    expect(r.timestamp).toBeTypeOf('number');
  });

  it('pages with an opaque nextToken', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await list('multi', 4, token);
      seen.push(...(r.results ?? []));
      token = r.nextToken;
      pages++;
    } while (token !== undefined && pages < 10);
    expect(seen).toEqual(['s0', 's1', 's2', 's4', 's5', 's6']);
    expect(pages).toBe(2);
  });

  it('answers an empty list for an unknown thing', async () => {
    expect((await list('nobody')).results).toEqual([]);
  });

  it('rejects a pageSize outside 1-100 and a garbled token with InvalidRequestException', async () => {
    expect(await sdkError(list('multi', 0))).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect(await sdkError(list('multi', 101))).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect(await sdkError(list('multi', 5, '!!'))).toMatchObject({ name: 'InvalidRequestException', status: 400 });
  });
});
