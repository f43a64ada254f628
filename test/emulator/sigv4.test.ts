import { GetThingShadowCommand, PublishCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { CREDENTIALS, bytes, sdkClient, sdkError, withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off', sigv4: { credentials: [CREDENTIALS] } });

class Sha256 extends Hash {
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    super('sha256', secret);
  }
}

describe('SigV4 verification', () => {
  it('accepts requests the AWS SDK signs with a configured key, encoded labels included', async () => {
    await ctx.client.send(new UpdateThingShadowCommand({ thingName: 'signed:1', shadowName: '$cfg', payload: bytes({ state: { desired: { a: 1 } } }) }));
    await ctx.client.send(new GetThingShadowCommand({ thingName: 'signed:1', shadowName: '$cfg' }));
    await ctx.client.send(new PublishCommand({ topic: "a/b c/(x)!'*", payload: bytes('hi'), qos: 1, retain: true, userProperties: '[{"k":"v"}]' }));
    expect(ctx.emulator.stats().unauthorized).toBe(0);
  });

  it('answers 403 ForbiddenException for a wrong secret or an unknown key', async () => {
    const wrong = sdkClient(ctx.emulator.url, { credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'nope' } });
    expect(await sdkError(wrong.send(new GetThingShadowCommand({ thingName: 'signed:1' })))).toMatchObject({ name: 'ForbiddenException', status: 403 });
    const unknown = sdkClient(ctx.emulator.url, { credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'x' } });
    expect(await sdkError(unknown.send(new GetThingShadowCommand({ thingName: 'signed:1' })))).toMatchObject({ name: 'ForbiddenException', status: 403 });
    wrong.destroy();
    unknown.destroy();
  });

  it('answers 403 for a missing signature and for a body changed after signing', async () => {
    const res = await request(`${ctx.emulator.url}/things/signed:1/shadow`);
    expect(res.statusCode).toBe(403);
    expect(res.headers['x-amzn-errortype']).toBe('ForbiddenException');
    await res.body.dump();

    const url = new URL(ctx.emulator.url);
    const signer = new SignatureV4({ credentials: CREDENTIALS, region: 'us-east-1', service: 'iotdevicegateway', sha256: Sha256 });
    const body = '{"state":{"reported":{"a":1}}}';
    const signed = await signer.sign(
      new HttpRequest({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/things/gw/shadow', headers: { host: url.host }, body }),
    );
    const ok = await request(`${ctx.emulator.url}/things/gw/shadow`, { method: 'POST', headers: signed.headers, body });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    const tampered = await request(`${ctx.emulator.url}/things/gw/shadow`, { method: 'POST', headers: signed.headers, body: body.replace('1', '2') });
    expect(tampered.statusCode).toBe(403);
    await tampered.body.dump();
  });

  it('answers 403 for a credential scoped to another service', async () => {
    const url = new URL(ctx.emulator.url);
    const signer = new SignatureV4({ credentials: CREDENTIALS, region: 'us-east-1', service: 's3', sha256: Sha256 });
    const signed = await signer.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/things/gw/shadow', headers: { host: url.host } }));
    const res = await request(`${ctx.emulator.url}/things/gw/shadow`, { headers: signed.headers });
    expect(res.statusCode).toBe(403);
    expect(await res.body.json()).toEqual({ message: "Credential should be scoped to correct service: 'iotdata'" });
  });
});
