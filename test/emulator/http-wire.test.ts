import { Readable } from 'node:stream';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off', maxRequestBytes: 256 * 1024 });
const call = async (
  method: string,
  path: string,
  body?: string | Buffer | Readable,
  headers: Record<string, string> = {},
) => {
  const res = await request(`${ctx.emulator.url}${path}`, { method: method as 'GET', body, headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: text === '' ? undefined : JSON.parse(text) };
};

describe('the wire format', () => {
  it('sends errors with the status, x-amzn-ErrorType, a request id and a JSON message', async () => {
    const r = await call('GET', '/things/nobody/shadow');
    expect(r.status).toBe(404);
    expect(r.headers['x-amzn-errortype']).toBe('ResourceNotFoundException');
    expect(r.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.json).toEqual({ message: "No shadow exists with name: 'nobody'" });
  });

  it('answers 405 MethodNotAllowedException for other verbs on known paths', async () => {
    for (const [method, path] of [
      ['PUT', '/things/a/shadow'],
      ['GET', '/topics/a'],
      ['POST', '/retainedMessage/a'],
      ['DELETE', '/api/things/shadow/ListNamedShadowsForThing/a'],
    ] as const) {
      const r = await call(method, path);
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers['x-amzn-errortype']).toBe('MethodNotAllowedException');
    }
  });

  it('answers 404 for unknown routes', async () => {
    for (const path of ['/', '/nope', '/things/a/shadows', '/things/a/shadow/extra', '/connections/c1']) {
      const r = await call('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.headers['x-amzn-errortype']).toBeTypeOf('string');
      expect(r.json.message).toBeTypeOf('string');
    }
  });

  it('takes update bodies as raw bytes with any or no content type', async () => {
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'application/json']) {
      const r = await call(
        'POST',
        '/things/ct-thing/shadow',
        '{"state":{"reported":{"a":1}}}',
        type === undefined ? {} : { 'content-type': type },
      );
      expect(r.status, String(type)).toBe(200);
    }
  });

  it('reads chunked bodies without a content length', async () => {
    const r = await call(
      'POST',
      '/things/chunked/shadow',
      Readable.from([Buffer.from('{"state":{"desir'), Buffer.from('ed":{"x":1}}}')]),
    );
    expect(r.status).toBe(200);
    expect(r.json.state).toEqual({ desired: { x: 1 } });
  });

  it('refuses a body announced far over the limit with 413 before reading it', async () => {
    // A stream that would produce 512 MB if read: the answer must come long before that.
    let produced = 0;
    const huge = new Readable({
      read() {
        if (produced > 512 * 1024 * 1024) return this.push(null);
        produced += 65536;
        this.push(Buffer.alloc(65536, 0x20));
      },
    });
    const r = await call('POST', '/things/huge/shadow', huge, {
      'content-length': String(512 * 1024 * 1024 + 65536),
    }).catch((err: Error) => ({ status: 0, err }));
    if (r.status !== 0) {
      expect(r.status).toBe(413);
      expect((r as { headers: Record<string, unknown> }).headers['x-amzn-errortype']).toBe(
        'RequestEntityTooLargeException',
      );
    }
    expect(produced).toBeLessThan(64 * 1024 * 1024);
    const stats = ctx.emulator.stats();
    expect(stats.operations.UpdateThingShadow.errors).toBeGreaterThanOrEqual(1);
  });

  it('refuses a chunked body that grows past the limit with 413', async () => {
    let produced = 0;
    const growing = new Readable({
      read() {
        if (produced >= 1024 * 1024) return this.push(null);
        produced += 65536;
        this.push(Buffer.alloc(65536, 0x20));
      },
    });
    const r = await call('POST', '/topics/big', growing).catch(() => ({ status: 0 }));
    expect([0, 413]).toContain(r.status);
  });

  it('percent-decodes path labels once and accepts literal slashes in publish topics', async () => {
    expect((await call('POST', '/topics/a%2Fb%2Fc?retain=true', 'one')).status).toBe(200);
    expect((await call('POST', '/topics/x/y/z?retain=true', 'two')).status).toBe(200);
    expect((await call('GET', '/retainedMessage/a%2Fb%2Fc')).json.topic).toBe('a/b/c');
    expect((await call('GET', '/retainedMessage/x%2Fy%2Fz')).json.topic).toBe('x/y/z');
    expect((await call('GET', '/things/a%3Ab/shadow')).json.message).toBe("No shadow exists with name: 'a:b'");
    expect((await call('GET', '/things/a%ZZ/shadow')).status).toBe(400);
  });

  it('returns the payload base64-encoded and lastModifiedTime in milliseconds', async () => {
    await call('POST', '/topics/enc?retain=true&qos=1', Buffer.from([1, 2, 3]));
    const r = await call('GET', '/retainedMessage/enc');
    expect(r.json).toEqual({ topic: 'enc', payload: 'AQID', qos: 1, lastModifiedTime: expect.any(Number) });
    expect(r.json.lastModifiedTime).toBeGreaterThan(1e12);
  });

  it('serves the counters at /_emulator/stats', async () => {
    const r = await call('GET', '/_emulator/stats');
    expect(r.status).toBe(200);
    expect(r.json.operations.GetThingShadow.requests).toBeGreaterThan(0);
    expect(r.json.totals).toEqual({
      requests: expect.any(Number),
      throttled: 0,
      faults: 0,
      errors: expect.any(Number),
    });
    expect(r.json.unrouted).toBeGreaterThan(0);
  });
});
