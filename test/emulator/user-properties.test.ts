import { GetRetainedMessageCommand, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { bytes, sdkError, text, withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off' });

/** Python's `json.dumps(value, separators=(',', ':'))` for a str (ensure_ascii: non-ASCII as \uXXXX). */
function pythonJsonDumpsString(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) =>
    c === '\u007f' ? c : '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}

/** botocore's percent_encode of a URI label: only `-_.~` and alphanumerics stay as they are. */
function botocoreLabel(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * A Publish as botocore (boto3, the AWS CLI) sends it: the `userProperties` member is a
 * `jsonvalue` header, serialized as base64(json.dumps(value, separators=(',', ':'))), where the
 * value the caller passes is the documented JSON string.
 */
async function botocorePublish(topic: string, payload: string, userProperties: string) {
  const header = Buffer.from(pythonJsonDumpsString(userProperties), 'utf8').toString('base64');
  const res = await request(`${ctx.emulator.url}/topics/${botocoreLabel(topic)}?qos=1&retain=true`, {
    method: 'POST',
    headers: {
      'x-amz-mqtt5-user-properties': header,
      'user-agent': 'Boto3/1.40 md/Botocore#1.43.11',
      'content-length': String(Buffer.byteLength(payload)),
    },
    body: payload,
  });
  return { status: res.statusCode, body: await res.body.text(), header };
}

const getRetained = (topic: string) => ctx.client.send(new GetRetainedMessageCommand({ topic }));

describe('Publish user properties', () => {
  it('accept the JS SDK encoding (base64 of the JSON array) and give the array back byte for byte', async () => {
    const props = '[{"deviceName":"alpha"},{"deviceCnt":"45"}]';
    await ctx.client.send(
      new PublishCommand({ topic: 'up/js', payload: bytes('x'), retain: true, userProperties: props }),
    );
    const m = await getRetained('up/js');
    expect(text(m.userProperties)).toBe(props);
  });

  it('accept the botocore encoding (base64 of a JSON string holding the array) and give the array back', async () => {
    const props = '[{"deviceName":"alpha"},{"city":"Zürich"},{"quote":"say \\"hi\\""}]';
    const sent = await botocorePublish('plant/line-2', 'hello', props);
    expect(Buffer.from(sent.header, 'base64').toString('utf8')).toMatch(
      /^"\[\{\\"deviceName\\":\\"alpha\\"\},\{\\"city\\":\\"Z\\u00fcrich\\"\}/,
    );
    expect(sent.status).toBe(200);
    const m = await getRetained('plant/line-2');
    expect(text(m.payload)).toBe('hello');
    expect(text(m.userProperties)).toBe(props);
    const raw = await request(`${ctx.emulator.url}/retainedMessage/plant%2Fline-2`);
    const body = (await raw.body.json()) as { userProperties: string };
    expect(Buffer.from(body.userProperties, 'base64').toString('utf8')).toBe(props);
  });

  it('refuse a JSON string that does not hold an array of string-valued objects', async () => {
    for (const bad of ['{"k":"v"}', '[{"k":1}]', 'not json', '"[]"']) {
      const sent = await botocorePublish('up/bad', 'x', bad);
      expect(sent.status, bad).toBe(400);
    }
    expect(await sdkError(getRetained('up/bad'))).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
