import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { resolveDataEndpoint } from '../../src/client/index.js';

const CREDS = { accessKeyId: 'AKIDCONTROL', secretAccessKey: 'control-secret' };

/** A stand-in for the IoT control plane's DescribeEndpoint (GET /endpoint), on loopback. */
let server: http.Server;
let url: string;
const seen: Array<{ url: string; auth: string }> = [];
let answer: { status: number; body: unknown } = {
  status: 200,
  body: { endpointAddress: 'a1b2c3d4e5-ats.iot.eu-west-1.amazonaws.com' },
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: String(req.headers.authorization ?? '') });
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      ...(answer.status >= 400 ? { 'x-amzn-ErrorType': 'UnauthorizedException' } : {}),
    });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('resolveDataEndpoint', () => {
  it('asks DescribeEndpoint for iot:Data-ATS, signed for the iot service, and returns an https URL', async () => {
    const endpoint = await resolveDataEndpoint({ region: 'eu-west-1', credentials: CREDS, controlPlaneEndpoint: url });
    expect(endpoint).toBe('https://a1b2c3d4e5-ats.iot.eu-west-1.amazonaws.com');
    expect(seen.at(-1)!.url).toBe('/endpoint?endpointType=iot%3AData-ATS');
    expect(seen.at(-1)!.auth).toMatch(/Credential=AKIDCONTROL\/\d{8}\/eu-west-1\/iot\/aws4_request/);
  });

  it('turns a control-plane failure into a ConfigError naming the region', async () => {
    answer = { status: 401, body: { message: 'not allowed' } };
    const err = await resolveDataEndpoint({ region: 'eu-west-1', credentials: CREDS, controlPlaneEndpoint: url }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('could not find the iot:Data-ATS endpoint in eu-west-1');
    expect((err as Error).message).not.toContain('control-secret');
  });
});
