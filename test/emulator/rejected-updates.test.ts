import { IoTClient, ListThingsCommand } from '@aws-sdk/client-iot';
import {
  GetThingShadowCommand,
  ListNamedShadowsForThingCommand,
  PublishCommand,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { parse as parseLossless } from 'lossless-json';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUnstorableNumber } from '../../src/shadow/json-text.js';

const hasNonFiniteNumber = (v: unknown): boolean => findUnstorableNumber(v) !== undefined;
import { CREDENTIALS, bytes, json, sdkError, withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off' });
let iot: IoTClient;
const update = (thingName: string, body: string, shadowName?: string) =>
  ctx.client.send(new UpdateThingShadowCommand({ thingName, shadowName, payload: bytes(body) }));
const listThings = async () => (await iot.send(new ListThingsCommand({}))).things?.map((t) => t.thingName) ?? [];
const thingsInStats = async () => {
  const res = await request(`${ctx.emulator.url}/_emulator/stats`);
  return ((await res.body.json()) as { things: number }).things;
};

beforeAll(() => {
  iot = new IoTClient({
    endpoint: ctx.emulator.url,
    region: 'us-east-1',
    credentials: { ...CREDENTIALS },
    maxAttempts: 1,
  });
});
afterAll(() => iot.destroy());

describe('rejected updates', () => {
  it('leave no trace of an unknown thing: 409, 413 and 400 create no thing or shadow', async () => {
    const big = JSON.stringify({ state: { desired: { blob: 'x'.repeat(9000) } } });
    expect(await sdkError(update('ghost-409', '{"state":{"desired":{"a":1}},"version":5}'))).toMatchObject({
      name: 'ConflictException',
      status: 409,
    });
    expect(await sdkError(update('ghost-413', big))).toMatchObject({
      name: 'RequestEntityTooLargeException',
      status: 413,
    });
    expect(await sdkError(update('ghost-400', '{"state":{"desired":{"a":[null]}}}'))).toMatchObject({
      name: 'InvalidRequestException',
      status: 400,
    });
    expect(await sdkError(update('ghost-named', '{"state":{},"version":3}', 'cfg'))).toMatchObject({
      name: 'ConflictException',
      status: 409,
    });
    await ctx.client.send(new PublishCommand({ topic: '$aws/things/ghost-mqtt/shadow/update', payload: bytes(big) }));

    for (const thingName of ['ghost-409', 'ghost-413', 'ghost-400', 'ghost-named', 'ghost-mqtt']) {
      expect(await sdkError(ctx.client.send(new GetThingShadowCommand({ thingName })))).toMatchObject({
        name: 'ResourceNotFoundException',
      });
    }
    expect((await ctx.client.send(new ListNamedShadowsForThingCommand({ thingName: 'ghost-named' }))).results).toEqual(
      [],
    );
    expect(await listThings()).toEqual([]);
    expect(await thingsInStats()).toBe(0);
  });

  it('leave an existing thing as it was when a new named shadow is refused', async () => {
    await update('real', '{"state":{"reported":{"on":true}}}');
    expect(await sdkError(update('real', '{"state":{},"version":9}', 'never'))).toMatchObject({ status: 409 });
    expect((await ctx.client.send(new ListNamedShadowsForThingCommand({ thingName: 'real' }))).results).toEqual([]);
    expect(await listThings()).toEqual(['real']);
    expect(await thingsInStats()).toBe(1);
  });
});

describe('numbers outside the double range', () => {
  it.each([
    ['1e400', '{"state":{"desired":{"n":1e400}}}'],
    ['-1E+400', '{"state":{"reported":{"deep":{"n":-1E+400}}}}'],
    ['an array element', '{"state":{"desired":{"list":[1,2,1e999]}}}'],
    ['a 400-digit integer', `{"state":{"desired":{"n":${'9'.repeat(400)}}}}`],
  ])('are refused with 400 InvalidRequestException and never stored as null: %s', async (_what, body) => {
    await update('finite', '{"state":{"desired":{"n":1,"list":[1]},"reported":{"deep":{"n":2}}}}');
    const before = json((await ctx.client.send(new GetThingShadowCommand({ thingName: 'finite' }))).payload);
    const err = await sdkError(update('finite', body));
    expect(err).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect(err.message).toMatch(/^Invalid JSON/);
    const after = json((await ctx.client.send(new GetThingShadowCommand({ thingName: 'finite' }))).payload);
    expect(after.state).toEqual(before.state);
    expect(after.version).toBe(before.version);
    expect(await sdkError(update('finite-new', body))).toMatchObject({ status: 400 });
    expect(await sdkError(ctx.client.send(new GetThingShadowCommand({ thingName: 'finite-new' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('are found in plain parsed values and in numbers a lossless parser keeps as text', () => {
    expect(hasNonFiniteNumber(JSON.parse('{"a":[{"b":1e400}]}'))).toBe(true);
    expect(hasNonFiniteNumber(parseLossless('{"a":[{"b":1e400}]}'))).toBe(true);
    expect(hasNonFiniteNumber(parseLossless('{"a":12345678901234567891,"b":1e308,"c":"1e400"}'))).toBe(false);
    expect(hasNonFiniteNumber(JSON.parse('{"a":-1e308,"b":null,"c":"Infinity"}'))).toBe(false);
  });

  it('still accepts large finite numbers and exponents', async () => {
    await update('finite-ok', '{"state":{"desired":{"a":1e308,"b":-2.5E-300,"c":1e2}}}');
    const doc = json((await ctx.client.send(new GetThingShadowCommand({ thingName: 'finite-ok' }))).payload);
    expect(doc.state.desired).toEqual({ a: 1e308, b: -2.5e-300, c: 100 });
  });
});
