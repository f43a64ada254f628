import http from 'node:http';
import { LosslessNumber } from 'lossless-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IotDataClient } from '../../src/client/index.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { isExactNumber, stringifyJson } from '../../src/shadow/index.js';

const BIG = '12345678901234567891';
const FINE = '0.1000000000000000055511151231257827';

/** One request with node:http alone (no code of this project on the client side). */
function raw(url: string, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, url),
      { method, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let emu: Emulator;
let client: IotDataClient;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quotas: 'off' });
  client = new IotDataClient({
    endpoint: emu.url,
    credentials: { accessKeyId: 'AKIDEXACT', secretAccessKey: 'exact-secret' },
    connections: 2,
    retry: { maxAttempts: 1 },
  });
});

afterAll(async () => {
  await client.close();
  await emu.close();
});

describe('IotDataClient keeps numbers exact', () => {
  it('reads back byte for byte a big integer and a long decimal written with raw HTTP', async () => {
    const put = await raw(
      emu.url,
      'POST',
      '/things/exact-1/shadow',
      `{"state":{"reported":{"counter":${BIG},"ratio":${FINE},"n":7}}}`,
    );
    expect(put.status).toBe(200);
    const doc = await client.getThingShadow({ thingName: 'exact-1' });
    const r = doc.state.reported!;
    expect(isExactNumber(r.counter) && r.counter.value).toBe(BIG);
    expect(isExactNumber(r.ratio) && r.ratio.value).toBe(FINE);
    expect(r.n).toBe(7);
    expect(stringifyJson(doc.state)).toBe(`{"reported":{"counter":${BIG},"ratio":${FINE},"n":7}}`);
  });

  it('sends a document read with exact numbers back unchanged, and the server holds the same text', async () => {
    await raw(emu.url, 'POST', '/things/exact-2/shadow', `{"state":{"desired":{"counter":${BIG}}}}`);
    const doc = await client.getThingShadow({ thingName: 'exact-2' });
    const answer = await client.updateThingShadow({
      thingName: 'exact-2',
      shadowName: 'copy',
      payload: { state: { desired: doc.state.desired! } },
    });
    expect(isExactNumber(answer.state.desired?.counter) && answer.state.desired.counter.value).toBe(BIG);
    const back = await raw(emu.url, 'GET', '/things/exact-2/shadow?name=copy');
    expect(back.text).toContain(`"desired":{"counter":${BIG}}`);
  });

  it('sends a LosslessNumber made by the caller as its text', async () => {
    await client.updateThingShadow({
      thingName: 'exact-3',
      payload: { state: { desired: { big: new LosslessNumber('98765432109876543210987') } } },
    });
    expect((await raw(emu.url, 'GET', '/things/exact-3/shadow')).text).toContain(
      '"desired":{"big":98765432109876543210987}',
    );
  });

  it('refuses a number outside the range of a double before sending, naming the path', async () => {
    const before = emu.stats().operations.UpdateThingShadow.requests;
    const tries: Array<Promise<unknown>> = [
      client.updateThingShadow({
        thingName: 'exact-4',
        payload: { state: { desired: { limit: new LosslessNumber('1e400') } } },
      }),
      client.updateThingShadow({
        thingName: 'exact-4',
        payload: { state: { desired: { limit: Number.POSITIVE_INFINITY } } },
      }),
      client.updateThingShadowRaw({ thingName: 'exact-4', payload: '{"state":{"desired":{"a":{"limit":-1E+400}}}}' }),
    ];
    for (const p of tries) {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(
        /^UpdateThingShadow: payload at \/state\/desired\/(a\/)?limit: -?(1e400|Infinity|1E\+400) is outside the range of a double/,
      );
    }
    expect(emu.stats().operations.UpdateThingShadow.requests).toBe(before);
  });
});
