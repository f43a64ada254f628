import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { EMPTY_PAYLOAD_HASH, Sha256, SigV4Signer, encodeLabel, payloadHash } from '../../src/client/sigv4-signer.js';

const VECTOR_CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const VECTOR_DATE = Date.UTC(2015, 7, 30, 12, 36, 0);

describe('SigV4Signer', () => {
  it('reproduces the AWS SigV4 test suite get-vanilla signature', async () => {
    const signer = new SigV4Signer({
      region: 'us-east-1',
      service: 'service',
      host: 'example.amazonaws.com',
      applyChecksum: false,
    });
    await signer.prepare(VECTOR_CREDS, VECTOR_DATE);
    expect(signer.isReady(VECTOR_CREDS, VECTOR_DATE)).toBe(true);
    expect(signer.longDate).toBe('20150830T123600Z');
    expect(signer.sign('GET', '/', '', EMPTY_PAYLOAD_HASH)).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('reproduces the get-vanilla-query-order-key-case signature with a sorted query', async () => {
    const signer = new SigV4Signer({
      region: 'us-east-1',
      service: 'service',
      host: 'example.amazonaws.com',
      applyChecksum: false,
    });
    await signer.prepare(VECTOR_CREDS, VECTOR_DATE);
    expect(signer.sign('GET', '/', 'Param1=value1&Param2=value2', EMPTY_PAYLOAD_HASH)).toMatch(
      /Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500$/,
    );
  });

  it('is not ready for another day or other credentials until prepared again', async () => {
    const signer = new SigV4Signer({ region: 'eu-west-1', service: 'iotdata', host: 'h' });
    await signer.prepare(VECTOR_CREDS, VECTOR_DATE);
    expect(signer.isReady(VECTOR_CREDS, VECTOR_DATE + 86_400_000)).toBe(false);
    expect(signer.isReady({ ...VECTOR_CREDS }, VECTOR_DATE)).toBe(false);
  });

  it('produces exactly the Authorization header of @smithy/signature-v4 for any data-plane request', async () => {
    const thing = fc.stringMatching(/^[a-zA-Z0-9:_-]{1,40}$/);
    const shadow = fc.option(fc.stringMatching(/^[$a-zA-Z0-9:_-]{1,20}$/), { nil: undefined });
    const topic = fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' }).filter((t) => t !== '.' && t !== '..');
    const token = fc.option(
      fc.string({ minLength: 1, maxLength: 30 }).map((s) => s.replace(/\s/g, 'x')),
      { nil: undefined },
    );
    const body = fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined });
    const region = fc.constantFrom('us-east-1', 'eu-central-1', 'ap-southeast-2');
    const service = fc.constantFrom('iotdata', 'iotdevicegateway');
    const when = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) });
    await fc.assert(
      fc.asyncProperty(
        thing,
        shadow,
        topic,
        token,
        body,
        region,
        service,
        when,
        fc.boolean(),
        async (t, s, tp, tok, b, reg, svc, now, useTopic) => {
          const host = 'abc-ats.iot.example.com:8443';
          const creds = {
            accessKeyId: 'AKIDTEST',
            secretAccessKey: 'secret/key+1',
            ...(tok ? { sessionToken: tok } : {}),
          };
          const path = useTopic ? `/topics/${encodeLabel(tp)}` : `/things/${encodeLabel(t)}/shadow`;
          const query: Record<string, string> = {};
          if (s !== undefined) query.name = s;
          if (useTopic) query.responseTopic = tp;
          const canonical = Object.keys(query)
            .sort()
            .map((k) => `${encodeLabel(k)}=${encodeLabel(query[k]!)}`)
            .join('&');
          const method = b ? 'POST' : 'GET';

          const ours = new SigV4Signer({ region: reg, service: svc, host });
          await ours.prepare(creds, now);
          const auth = ours.sign(method, path, canonical, payloadHash(b));

          const smithy = new SignatureV4({ credentials: creds, region: reg, service: svc, sha256: Sha256 });
          const req = new HttpRequest({
            method,
            protocol: 'https:',
            hostname: 'abc-ats.iot.example.com',
            port: 8443,
            path,
            query,
            headers: { host },
            ...(b ? { body: b } : {}),
          });
          const signed = await smithy.sign(req, { signingDate: new Date(now) });
          expect(auth).toBe(signed.headers.authorization);
          expect(ours.longDate).toBe(signed.headers['x-amz-date']);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('signs extra MQTT5 headers exactly as @smithy/signature-v4 does', async () => {
    const creds = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', sessionToken: 'tok' };
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    const extra: Array<[string, string]> = [
      ['x-amz-mqtt5-user-properties', 'W3siYSI6IjEifV0='],
      ['x-amz-mqtt5-payload-format-indicator', 'UTF8_DATA'],
    ];
    const ours = new SigV4Signer({ region: 'us-east-1', service: 'iotdata', host: '127.0.0.1:9999' });
    await ours.prepare(creds, now);
    const body = new TextEncoder().encode('hello');
    const auth = ours.sign('POST', '/topics/a%2Fb', 'qos=1&retain=true', payloadHash(body), extra);
    const smithy = new SignatureV4({ credentials: creds, region: 'us-east-1', service: 'iotdata', sha256: Sha256 });
    const signed = await smithy.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9999,
        path: '/topics/a%2Fb',
        query: { qos: '1', retain: 'true' },
        headers: { host: '127.0.0.1:9999', ...Object.fromEntries(extra) },
        body,
      }),
      { signingDate: new Date(now) },
    );
    expect(auth).toBe(signed.headers.authorization);
  });
});

describe('encodeLabel', () => {
  it("encodes like the AWS SDKs, with / as %2F and !'()* escaped", () => {
    expect(encodeLabel('a/b')).toBe('a%2Fb');
    expect(encodeLabel("x!'()*")).toBe('x%21%27%28%29%2A');
    expect(encodeLabel('$aws/things/t:1')).toBe('%24aws%2Fthings%2Ft%3A1');
    expect(encodeLabel('plain-Name_1')).toBe('plain-Name_1');
    expect(encodeLabel('ü')).toBe('%C3%BC');
  });
});
