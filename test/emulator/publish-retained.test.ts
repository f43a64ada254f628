import {
  GetRetainedMessageCommand,
  GetThingShadowCommand,
  ListRetainedMessagesCommand,
  PublishCommand,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { describe, expect, it } from 'vitest';
import { bytes, json, sdkError, text, withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off' });
const publish = (input: ConstructorParameters<typeof PublishCommand>[0]) => ctx.client.send(new PublishCommand(input));
const getRetained = (topic: string) => ctx.client.send(new GetRetainedMessageCommand({ topic }));

describe('Publish and retained messages through the AWS SDK', () => {
  it('publishes with qos, retain, contentType, responseTopic, messageExpiry and the MQTT5 headers', async () => {
    const before = Date.now();
    await publish({
      topic: 'plant/line-1/temp',
      payload: bytes('{"c":21.5}'),
      qos: 1,
      retain: true,
      contentType: 'application/json',
      responseTopic: 'plant/line-1/replies',
      messageExpiry: 3600,
      userProperties: JSON.stringify([{ deviceName: 'alpha' }, { deviceCnt: '45' }]),
      payloadFormatIndicator: 'UTF8_DATA',
      correlationData: Buffer.from('req-1').toString('base64'),
    });
    const m = await getRetained('plant/line-1/temp');
    expect(m.topic).toBe('plant/line-1/temp');
    expect(text(m.payload)).toBe('{"c":21.5}');
    expect(m.qos).toBe(1);
    expect(m.lastModifiedTime).toBeGreaterThanOrEqual(before);
    expect(m.lastModifiedTime).toBeLessThan(before + 60_000);
    expect(JSON.parse(text(m.userProperties))).toEqual([{ deviceName: 'alpha' }, { deviceCnt: '45' }]);
  });

  it('accepts an empty payload and binary payloads', async () => {
    await publish({ topic: 'empty/topic' });
    await publish({ topic: 'bin/topic', payload: new Uint8Array([0, 255, 1]), retain: true });
    expect([...((await getRetained('bin/topic')).payload ?? [])]).toEqual([0, 255, 1]);
  });

  it('replaces a retained message with a newer one and deletes it with an empty retained payload', async () => {
    await publish({ topic: 'r/one', payload: bytes('v1'), retain: true });
    await publish({ topic: 'r/one', payload: bytes('v2'), retain: true });
    expect(text((await getRetained('r/one')).payload)).toBe('v2');
    await publish({ topic: 'r/one', payload: bytes('not retained') });
    expect(text((await getRetained('r/one')).payload)).toBe('v2');
    await publish({ topic: 'r/one', retain: true });
    expect(await sdkError(getRetained('r/one'))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  it('lists retained topics with payload sizes, pages them and bounds maxResults to 1-200', async () => {
    for (let i = 0; i < 5; i++)
      await publish({ topic: `list/t${i}`, payload: bytes('x'.repeat(i + 1)), retain: true, qos: i % 2 });
    const all: Array<{ topic?: string; payloadSize?: number }> = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await ctx.client.send(new ListRetainedMessagesCommand({ maxResults: 2, nextToken: token }));
      all.push(...(r.retainedTopics ?? []));
      token = r.nextToken;
      pages++;
    } while (token && pages < 20);
    const listed = all.filter((t) => t.topic!.startsWith('list/'));
    expect(listed.map((t) => [t.topic, t.payloadSize])).toEqual([
      ['list/t0', 1],
      ['list/t1', 2],
      ['list/t2', 3],
      ['list/t3', 4],
      ['list/t4', 5],
    ]);
    expect(all[0]).toHaveProperty('lastModifiedTime');
    expect(await sdkError(ctx.client.send(new ListRetainedMessagesCommand({ maxResults: 0 })))).toMatchObject({
      name: 'InvalidRequestException',
    });
    expect(await sdkError(ctx.client.send(new ListRetainedMessagesCommand({ maxResults: 201 })))).toMatchObject({
      name: 'InvalidRequestException',
    });
  });

  it.each([
    ['a wildcard +', 'a/+/b'],
    ['a wildcard #', 'a/#'],
    ['more than 7 slashes', 'a/b/c/d/e/f/g/h/i'],
    ['more than 256 bytes', 't'.repeat(257)],
    ['a reserved $ topic', '$SYS/broker'],
  ])('rejects a topic with %s with InvalidRequestException', async (_what, topic) => {
    expect(await sdkError(publish({ topic, payload: bytes('x') }))).toMatchObject({
      name: 'InvalidRequestException',
      status: 400,
    });
  });

  it('refuses to retain on reserved $aws/ topics', async () => {
    expect(
      await sdkError(publish({ topic: '$aws/things/x/shadow/get', payload: bytes('{}'), retain: true })),
    ).toMatchObject({ name: 'InvalidRequestException' });
  });

  it('rejects a qos other than 0 or 1', async () => {
    expect(await sdkError(publish({ topic: 'q/t', qos: 2 }))).toMatchObject({ name: 'InvalidRequestException' });
  });

  it('rejects payloads over 128 KB and accepts exactly 128 KB', async () => {
    await expect(publish({ topic: 'size/ok', payload: new Uint8Array(128 * 1024) })).resolves.toBeDefined();
    expect(await sdkError(publish({ topic: 'size/big', payload: new Uint8Array(128 * 1024 + 1) }))).toMatchObject({
      name: 'RequestEntityTooLargeException',
      status: 413,
    });
  });

  it('rejects malformed user properties and an unknown payload format indicator', async () => {
    expect(await sdkError(publish({ topic: 'h/t', userProperties: '{"not":"an array"}' }))).toMatchObject({
      name: 'InvalidRequestException',
    });
    expect(await sdkError(publish({ topic: 'h/t', payloadFormatIndicator: 'TEXT' as never }))).toMatchObject({
      name: 'InvalidRequestException',
    });
    expect(
      await sdkError(publish({ topic: 'h/t', payload: new Uint8Array([0xff]), payloadFormatIndicator: 'UTF8_DATA' })),
    ).toMatchObject({ name: 'InvalidRequestException' });
  });

  it('updates a classic or named shadow when publishing to its update topic', async () => {
    await publish({
      topic: '$aws/things/mqtt-thing/shadow/update',
      payload: bytes({ state: { reported: { on: true } }, clientToken: 'p1' }),
    });
    await publish({
      topic: '$aws/things/mqtt-thing/shadow/name/cfg/update',
      payload: bytes({ state: { desired: { level: 3 } } }),
    });
    const classic = json((await ctx.client.send(new GetThingShadowCommand({ thingName: 'mqtt-thing' }))).payload);
    expect(classic).toMatchObject({ state: { reported: { on: true } }, version: 1 });
    const named = json(
      (await ctx.client.send(new GetThingShadowCommand({ thingName: 'mqtt-thing', shadowName: 'cfg' }))).payload,
    );
    expect(named).toMatchObject({ state: { desired: { level: 3 }, delta: { level: 3 } }, version: 1 });
  });

  it('succeeds on a shadow topic even when the document is rejected, leaving the shadow alone', async () => {
    await publish({ topic: '$aws/things/mqtt-thing/shadow/update', payload: bytes('{"state":{"bogus":1}}') });
    const classic = json((await ctx.client.send(new GetThingShadowCommand({ thingName: 'mqtt-thing' }))).payload);
    expect(classic.version).toBe(1);
  });

  it('deletes a shadow when publishing to its delete topic', async () => {
    await ctx.client.send(
      new UpdateThingShadowCommand({ thingName: 'doomed', payload: bytes({ state: { desired: { a: 1 } } }) }),
    );
    await publish({ topic: '$aws/things/doomed/shadow/delete', payload: bytes('') });
    expect(await sdkError(ctx.client.send(new GetThingShadowCommand({ thingName: 'doomed' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
