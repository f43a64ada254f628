import { GetThingShadowCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { describe, expect, it } from 'vitest';
import { bytes, sdkError, withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off' });
const send = (payload: Uint8Array, thingName = 'v-thing', shadowName?: string) =>
  ctx.client.send(new UpdateThingShadowCommand({ thingName, shadowName, payload }));

describe('update validation through the AWS SDK', () => {
  it.each([
    ['invalid JSON', '{"state":', 'Invalid JSON'],
    ['an empty body', '', 'Invalid JSON'],
    ['a missing state', '{"desired":{}}', 'Missing required node: state'],
    ['a non-object state', '{"state":"on"}', 'State node must be an object'],
    ['a non-object desired', '{"state":{"desired":[1]}}', 'Desired node must be an object'],
    ['a non-object reported', '{"state":{"reported":true}}', 'Reported node must be an object'],
    ['an unknown node under state', '{"state":{"delta":{"a":1}}}', "State contains an invalid node: 'delta'"],
    ['a fractional version', '{"state":{},"version":1.5}', 'Invalid version'],
    ['a string version', '{"state":{},"version":"3"}', 'Invalid version'],
    ['a long clientToken', JSON.stringify({ state: {}, clientToken: 'x'.repeat(65) }), 'Invalid clientToken'],
    ['a numeric clientToken', '{"state":{},"clientToken":7}', 'Invalid clientToken'],
    [
      'nesting deeper than 6',
      JSON.stringify({ state: { desired: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } } }),
      'JSON contains too many levels of nesting; maximum is 6',
    ],
  ])('answers InvalidRequestException for %s', async (_what, body, message) => {
    expect(await sdkError(send(bytes(body)))).toMatchObject({ name: 'InvalidRequestException', message, status: 400 });
  });

  it('rejects null inside an array with InvalidRequestException', async () => {
    expect(await sdkError(send(bytes('{"state":{"reported":{"list":[1,null]}}}')))).toMatchObject({
      name: 'InvalidRequestException',
      status: 400,
    });
  });

  it('answers UnsupportedDocumentEncodingException for a body that is not UTF-8', async () => {
    expect(await sdkError(send(new Uint8Array([0x7b, 0x22, 0x73, 0xfe, 0xff, 0x7d])))).toMatchObject({
      name: 'UnsupportedDocumentEncodingException',
      message: 'Unsupported documented encoding; supported encoding is UTF-8',
      status: 415,
    });
  });

  it('answers RequestEntityTooLargeException when merged desired plus reported passes 8 KB', async () => {
    await send(bytes({ state: { desired: { blob: 'x'.repeat(4000) } } }), 'big-thing');
    const e = await sdkError(send(bytes({ state: { reported: { blob: 'y'.repeat(4200) } } }), 'big-thing'));
    expect(e).toMatchObject({
      name: 'RequestEntityTooLargeException',
      message: 'The payload exceeds the maximum size allowed',
      status: 413,
    });
  });

  it('counts the merged document, not the request body, against 8 KB', async () => {
    const padded = '{"state":{"desired":{"a":1}}' + ' '.repeat(10_000) + '}';
    await expect(send(bytes(padded), 'padded-thing')).resolves.toBeDefined();
  });

  it('accepts exactly 8192 bytes of state', async () => {
    // {"a":"..."} is 8 bytes plus the string.
    await expect(send(bytes({ state: { desired: { a: 'x'.repeat(8192 - 8) } } }), 'edge-thing')).resolves.toBeDefined();
    expect(await sdkError(send(bytes({ state: { reported: { b: 1 } } }), 'edge-thing'))).toMatchObject({
      name: 'RequestEntityTooLargeException',
    });
  });

  it('rejects bad thing and shadow names with InvalidRequestException', async () => {
    expect(await sdkError(send(bytes('{"state":{}}'), 'x'.repeat(129)))).toMatchObject({
      name: 'InvalidRequestException',
      status: 400,
    });
    expect(await sdkError(send(bytes('{"state":{}}'), 'bad name'))).toMatchObject({
      name: 'InvalidRequestException',
      message:
        "1 validation error detected: Value 'bad name' at 'thingName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+",
    });
    expect(await sdkError(send(bytes('{"state":{}}'), 'ok', 's'.repeat(65)))).toMatchObject({
      name: 'InvalidRequestException',
    });
    expect(
      await sdkError(ctx.client.send(new GetThingShadowCommand({ thingName: 'ok', shadowName: 'a.b' }))),
    ).toMatchObject({ name: 'InvalidRequestException' });
  });

  it('changes nothing when an update is rejected', async () => {
    await send(bytes({ state: { desired: { a: 1 } } }), 'stable-thing');
    await sdkError(send(bytes('{"state":{"desired":{"a":2},"bogus":1}}'), 'stable-thing'));
    const doc = JSON.parse(
      new TextDecoder().decode(
        (await ctx.client.send(new GetThingShadowCommand({ thingName: 'stable-thing' }))).payload,
      ),
    );
    expect(doc).toMatchObject({ state: { desired: { a: 1 } }, version: 1 });
  });

  it('counts rejected requests as errors in the stats', () => {
    expect(ctx.emulator.stats().operations.UpdateThingShadow.errors).toBeGreaterThan(10);
  });
});
