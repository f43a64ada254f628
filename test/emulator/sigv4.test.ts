import { GetThingShadowCommand, PublishCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { CREDENTIALS, bytes, sdkClient, sdkError, withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off', sigv4: { credentials: [CREDENTIALS] } });

class Sha256 extends Hash {
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    super('sha256', secret);
  }
}

describe('SigV4 verification', () => {
  it('accepts requests the AWS SDK signs with a configured key, encoded labels included', async () => {
    await ctx.client.send(
      new UpdateThingShadowCommand({
        thingName: 'signed:1',
        shadowName: '$cfg',
        payload: bytes({ state: { desired: { a: 1 } } }),
      }),
    );
    await ctx.client.send(new GetThingShadowCommand({ thingName: 'signed:1', shadowName: '$cfg' }));
    await ctx.client.send(
      new PublishCommand({
        topic: "a/b c/(x)!'*",
        payload: bytes('hi'),
        qos: 1,
        retain: true,
        userProperties: '[{"k":"v"}]',
      }),
    );
    expect(ctx.emulator.stats().unauthorized).toBe(0);
  });

  it('answers 403 ForbiddenException for a wrong secret or an unknown key', async () => {
    const wrong = sdkClient(ctx.emulator.url, {
      credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'nope' },
    });
    expect(await sdkError(wrong.send(new GetThingShadowCommand({ thingName: 'signed:1' })))).toMatchObject({
      name: 'ForbiddenException',
      status: 403,
    });
    const unknown = sdkClient(ctx.emulator.url, { credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'x' } });
    expect(await sdkError(unknown.send(new GetThingShadowCommand({ thingName: 'signed:1' })))).toMatchObject({
      name: 'ForbiddenException',
      status: 403,
    });
    wrong.destroy();
    unknown.destroy();
  });

  it('answers 403 for a missing signature and for a body changed after signing', async () => {
    const res = await request(`${ctx.emulator.url}/things/signed:1/shadow`);
    expect(res.statusCode).toBe(403);
    expect(res.headers['x-amzn-errortype']).toBe('ForbiddenException');
    await res.body.dump();

    const url = new URL(ctx.emulator.url);
    const signer = new SignatureV4({
      credentials: CREDENTIALS,
      region: 'us-east-1',
      service: 'iotdevicegateway',
      sha256: Sha256,
    });
    const body = '{"state":{"reported":{"a":1}}}';
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/things/gw/shadow',
        headers: { host: url.host },
        body,
      }),
    );
    const ok = await request(`${ctx.emulator.url}/things/gw/shadow`, { method: 'POST', headers: signed.headers, body });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    const tampered = await request(`${ctx.emulator.url}/things/gw/shadow`, {
      method: 'POST',
      headers: signed.headers,
      body: body.replace('1', '2'),
    });
    expect(tampered.statusCode).toBe(403);
    await tampered.body.dump();
  });

  it('answers 403 for a credential scoped to another service', async () => {
    const url = new URL(ctx.emulator.url);
    const signer = new SignatureV4({ credentials: CREDENTIALS, region: 'us-east-1', service: 's3', sha256: Sha256 });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'GET',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/things/gw/shadow',
        headers: { host: url.host },
      }),
    );
    const res = await request(`${ctx.emulator.url}/things/gw/shadow`, { headers: signed.headers });
    expect(res.statusCode).toBe(403);
    expect(await res.body.json()).toEqual({ message: "Credential should be scoped to correct service: 'iotdata'" });
  });
});

/** Signs a request for the emulator as the AWS SDK does; `unsigned` claims UNSIGNED-PAYLOAD. */
async function signedRequest(emulator: Emulator, method: string, path: string, body?: string, unsigned = false) {
  const url = new URL(emulator.url);
  const signer = new SignatureV4({ credentials: CREDENTIALS, region: 'us-east-1', service: 'iotdata', sha256: Sha256 });
  const headers: Record<string, string> = { host: url.host };
  if (unsigned) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const signed = await signer.sign(
    new HttpRequest({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, headers, body }),
  );
  return signed.headers;
}

describe('SigV4 verification of everything else', () => {
  it('puts /_emulator/stats behind the same check: 403 unsigned, 200 signed', async () => {
    const anon = await request(`${ctx.emulator.url}/_emulator/stats`);
    expect(anon.statusCode).toBe(403);
    expect(anon.headers['x-amzn-errortype']).toBe('ForbiddenException');
    expect(await anon.body.text()).not.toContain('operations');
    const signed = await request(`${ctx.emulator.url}/_emulator/stats`, {
      headers: await signedRequest(ctx.emulator, 'GET', '/_emulator/stats'),
    });
    expect(signed.statusCode).toBe(200);
    expect(((await signed.body.json()) as { unauthorized: number }).unauthorized).toBeGreaterThan(0);
    const other = await request(`${ctx.emulator.url}/_emulator/anything`);
    expect(other.statusCode).toBe(403);
    await other.body.dump();
  });

  it('refuses a body signed as UNSIGNED-PAYLOAD by default, so a changed body cannot pass', async () => {
    const body = '{"state":{"reported":{"a":1}}}';
    const headers = await signedRequest(ctx.emulator, 'POST', '/things/unsigned/shadow', body, true);
    const tampered = await request(`${ctx.emulator.url}/things/unsigned/shadow`, {
      method: 'POST',
      headers,
      body: body.replace('1', '666'),
    });
    expect(tampered.statusCode).toBe(403);
    expect(tampered.headers['x-amzn-errortype']).toBe('ForbiddenException');
    await tampered.body.dump();
    const asSigned = await request(`${ctx.emulator.url}/things/unsigned/shadow`, { method: 'POST', headers, body });
    expect(asSigned.statusCode).toBe(403);
    await asSigned.body.dump();
    expect(ctx.emulator.store.get('unsigned')).toBeUndefined();
  });

  it('accepts UNSIGNED-PAYLOAD only when allowUnsignedPayload is set', async () => {
    const emulator = await startEmulator({
      quotas: 'off',
      sigv4: { credentials: [CREDENTIALS], allowUnsignedPayload: true },
    });
    try {
      const body = '{"state":{"reported":{"a":1}}}';
      const headers = await signedRequest(emulator, 'POST', '/things/unsigned/shadow', body, true);
      const res = await request(`${emulator.url}/things/unsigned/shadow`, { method: 'POST', headers, body });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      await emulator.close();
    }
  });

  it('takes the secret from an environment variable or a file instead of the options', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigv4-'));
    const file = join(dir, 'secret');
    writeFileSync(file, `${CREDENTIALS.secretAccessKey}\n`, { mode: 0o600 });
    process.env.SHADOWFLEET_TEST_SECRET = CREDENTIALS.secretAccessKey;
    try {
      for (const source of [{ secretAccessKeyEnv: 'SHADOWFLEET_TEST_SECRET' }, { secretAccessKeyFile: file }]) {
        const emulator = await startEmulator({
          quotas: 'off',
          sigv4: { credentials: [{ accessKeyId: CREDENTIALS.accessKeyId, ...source }] },
        });
        const client = sdkClient(emulator.url);
        try {
          await client.send(
            new UpdateThingShadowCommand({
              thingName: 'from-source',
              payload: bytes({ state: { desired: { a: 1 } } }),
            }),
          );
          expect(emulator.stats().unauthorized).toBe(0);
        } finally {
          client.destroy();
          await emulator.close();
        }
      }
      const id = CREDENTIALS.accessKeyId;
      await expect(
        startEmulator({ sigv4: { credentials: [{ accessKeyId: id, secretAccessKeyEnv: 'SHADOWFLEET_TEST_UNSET' }] } }),
      ).rejects.toThrow(
        'sigv4.credentials[0].secretAccessKeyEnv: environment variable SHADOWFLEET_TEST_UNSET is not set or empty',
      );
      await expect(
        startEmulator({ sigv4: { credentials: [{ accessKeyId: id, secretAccessKeyFile: join(dir, 'missing') }] } }),
      ).rejects.toThrow(`sigv4.credentials[0].secretAccessKeyFile: cannot read '${join(dir, 'missing')}'`);
      await expect(
        startEmulator({ sigv4: { credentials: [{ accessKeyId: id, secretAccessKeyFile: dir }] } }),
      ).rejects.toThrow(`'${dir}' is not a regular file`);
      await expect(
        startEmulator({
          sigv4: { credentials: [{ accessKeyId: id, secretAccessKey: 'x', secretAccessKeyFile: file }] },
        }),
      ).rejects.toThrow(
        'sigv4.credentials[0] must have exactly one non-empty secretAccessKey, secretAccessKeyEnv or secretAccessKeyFile',
      );
    } finally {
      delete process.env.SHADOWFLEET_TEST_SECRET;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
