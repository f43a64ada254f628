import diagnosticsChannel from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import {
  AbortError,
  ConfigError,
  ConflictError,
  InvalidArgumentError,
  NetworkError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceError,
  ServiceUnavailableError,
  ThrottlingError,
  TimeoutError,
  UnauthorizedError,
  isShadowError,
} from '../../src/errors.js';
import { IotDataClient, type IotDataClientOptions, type OperationName } from '../../src/client/index.js';
import { LOCAL_CREDENTIALS } from '../../src/client/credential-source.js';

const CREDS = { accessKeyId: 'AKIDCLIENTTEST', secretAccessKey: 'client-test-secret' };

interface Recorder {
  delays: number[];
  before: Array<[OperationName, string | undefined]>;
  after: Array<{ op: OperationName; statusCode?: number; error?: string }>;
}

function recorder(): Recorder {
  return { delays: [], before: [], after: [] };
}

/** A client whose retries record their delay instead of sleeping. */
function clientFor(
  emu: Emulator,
  rec: Recorder = recorder(),
  extra: Partial<IotDataClientOptions> = {},
): IotDataClient {
  return new IotDataClient({
    endpoint: emu.url,
    credentials: CREDS,
    connections: 4,
    ...extra,
    retry: {
      maxAttempts: 3,
      random: () => 0.5,
      sleep: async (ms) => {
        rec.delays.push(ms);
      },
      ...extra.retry,
    },
    hooks: {
      beforeAttempt: (op, ref) => {
        rec.before.push([op, ref?.thingName]);
      },
      afterAttempt: (op, _ref, outcome) => {
        const entry: Recorder['after'][number] = { op };
        if (outcome.statusCode !== undefined) entry.statusCode = outcome.statusCode;
        if (outcome.error !== undefined) entry.error = outcome.error.name;
        rec.after.push(entry);
      },
      ...extra.hooks,
    },
  });
}

const emulators: Emulator[] = [];
const clients: IotDataClient[] = [];
async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const e = await startEmulator({
    port: 0,
    quotas: 'off',
    sigv4: { credentials: [CREDS, LOCAL_CREDENTIALS] },
    ...options,
  });
  emulators.push(e);
  return e;
}
function track(c: IotDataClient): IotDataClient {
  clients.push(c);
  return c;
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(emulators.map((e) => e.close()));
});

describe('IotDataClient against the emulator', () => {
  let emu: Emulator;
  let client: IotDataClient;
  let rec: Recorder;

  beforeAll(async () => {
    emu = await emulator();
    rec = recorder();
    client = track(clientFor(emu, rec));
  });

  it('updates a classic shadow and reads it back with its delta', async () => {
    const accepted = await client.updateThingShadow({
      thingName: 'lamp-1',
      payload: { state: { desired: { color: 'red', level: 3 } }, clientToken: 'c-1' },
    });
    expect(accepted.version).toBe(1);
    expect(accepted.clientToken).toBe('c-1');
    expect(accepted.state.desired).toEqual({ color: 'red', level: 3 });
    await client.updateThingShadow({
      thingName: 'lamp-1',
      payload: { state: { reported: { color: 'blue', level: 3 } } },
    });
    const doc = await client.getThingShadow({ thingName: 'lamp-1' });
    expect(doc.version).toBe(2);
    expect(doc.state.delta).toEqual({ color: 'red' });
    expect(doc.metadata.desired).toHaveProperty('color');
  });

  it('keeps named shadows apart from the classic one and deletes them', async () => {
    await client.updateThingShadow({
      thingName: 'lamp-2',
      shadowName: 'config',
      payload: { state: { desired: { mode: 'eco' } } },
    });
    await client.updateThingShadow({ thingName: 'lamp-2', payload: { state: { desired: { mode: 'classic' } } } });
    expect((await client.getThingShadow({ thingName: 'lamp-2', shadowName: 'config' })).state.desired).toEqual({
      mode: 'eco',
    });
    const deleted = await client.deleteThingShadow({ thingName: 'lamp-2', shadowName: 'config' });
    expect(deleted.version).toBe(2);
    expect(typeof deleted.timestamp).toBe('number');
    const err = await client.getThingShadow({ thingName: 'lamp-2', shadowName: 'config' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    const nf = err as NotFoundError;
    expect(nf.statusCode).toBe(404);
    expect(nf.awsErrorType).toBe('ResourceNotFoundException');
    expect(nf.requestId).toBeTruthy();
    expect(nf.message).toContain(
      'GetThingShadow failed with 404 ResourceNotFoundException: thing "lamp-2" shadow "config"',
    );
    expect((await client.getThingShadow({ thingName: 'lamp-2' })).state.desired).toEqual({ mode: 'classic' });
  });

  it('forwards raw bytes untouched in both directions', async () => {
    const out = await client.updateThingShadowRaw({
      thingName: 'raw-1',
      shadowName: '$package',
      payload: '{"state":{"reported":{"fw":"1.0"}}}',
    });
    expect(JSON.parse(Buffer.from(out).toString()).version).toBe(1);
    await client.updateThingShadowRaw({
      thingName: 'raw-1',
      shadowName: '$package',
      payload: new TextEncoder().encode('{"state":{"reported":{"fw":"1.1"}}}'),
    });
    const raw = await client.getThingShadowRaw({ thingName: 'raw-1', shadowName: '$package' });
    expect(raw).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(Buffer.from(raw).toString()).state.reported).toEqual({ fw: '1.1' });
  });

  it('turns a stale version into a ConflictError without retrying it', async () => {
    await client.updateThingShadow({
      thingName: 'pump-17',
      shadowName: 'config',
      payload: { state: { desired: { a: 1 } } },
    });
    rec.after.length = 0;
    const err = await client
      .updateThingShadow({
        thingName: 'pump-17',
        shadowName: 'config',
        payload: { state: { desired: { a: 2 } }, version: 7 },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).message).toBe(
      'UpdateThingShadow failed with 409 ConflictException: thing "pump-17" shadow "config" (Version conflict)',
    );
    expect((err as ConflictError).retryable).toBe(false);
    expect(rec.after).toEqual([{ op: 'UpdateThingShadow', statusCode: 409, error: 'ConflictError' }]);
  });

  it('reports an oversized document as PayloadTooLargeError', async () => {
    const big = 'x'.repeat(9000);
    const err = await client
      .updateThingShadow({ thingName: 'big-1', payload: { state: { desired: { big } } } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect((err as PayloadTooLargeError).statusCode).toBe(413);
  });

  it('reports a document the service rejects as a non-retryable 400 ServiceError', async () => {
    rec.after.length = 0;
    const err = await client
      .updateThingShadowRaw({ thingName: 'bad-1', payload: '{"state":5}' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).statusCode).toBe(400);
    expect((err as ServiceError).awsErrorType).toBe('InvalidRequestException');
    expect((err as ServiceError).retryable).toBe(false);
    expect(rec.after).toHaveLength(1);
  });

  it('lists named shadows page by page and through the paginator with a cap and a starting token', async () => {
    for (const s of ['a', 'b', 'c', 'd', 'e'])
      await client.updateThingShadow({ thingName: 'multi', shadowName: s, payload: { state: { reported: { s } } } });
    await client.updateThingShadow({ thingName: 'multi', payload: { state: { reported: { classic: true } } } });
    const first = await client.listNamedShadowsForThing({ thingName: 'multi', pageSize: 2 });
    expect(first.results).toHaveLength(2);
    expect(first.nextToken).toBeTruthy();
    expect(typeof first.timestamp).toBe('number');
    const all: string[] = [];
    for await (const name of client.paginateNamedShadowsForThing({ thingName: 'multi', pageSize: 2 })) all.push(name);
    expect(all.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const capped: string[] = [];
    for await (const name of client.paginateNamedShadowsForThing({ thingName: 'multi', pageSize: 2, maxItems: 3 }))
      capped.push(name);
    expect(capped).toHaveLength(3);
    const rest: string[] = [];
    for await (const name of client.paginateNamedShadowsForThing({
      thingName: 'multi',
      pageSize: 2,
      startingToken: first.nextToken!,
    }))
      rest.push(name);
    expect([...first.results, ...rest].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect((await client.listNamedShadowsForThing({ thingName: 'nobody' })).results).toEqual([]);
  });

  it('publishes, retains, reads and lists retained messages, with a / in the topic', async () => {
    await client.publish({
      topic: 'fleet/alerts',
      payload: 'hello',
      qos: 1,
      retain: true,
      userProperties: [{ site: 'berlin' }],
      contentType: 'text/plain',
    });
    await client.publish({ topic: 'fleet/config', payload: new Uint8Array([1, 2, 3]), retain: true });
    await client.publish({ topic: 'fleet/transient', payload: 'not kept' });
    const m = await client.getRetainedMessage({ topic: 'fleet/alerts' });
    expect(m.topic).toBe('fleet/alerts');
    expect(Buffer.from(m.payload).toString()).toBe('hello');
    expect(m.qos).toBe(1);
    expect(m.lastModifiedTime).toBeGreaterThan(1e12);
    expect(m.userProperties).toEqual([{ site: 'berlin' }]);
    const list = await client.listRetainedMessages({ maxResults: 1 });
    expect(list.retainedTopics).toHaveLength(1);
    expect(list.nextToken).toBeTruthy();
    const topics: string[] = [];
    for await (const t of client.paginateRetainedMessages({ maxResults: 1 })) topics.push(t.topic);
    expect(topics.sort()).toEqual(['fleet/alerts', 'fleet/config']);
    const capped: unknown[] = [];
    for await (const t of client.paginateRetainedMessages({ maxResults: 1, maxItems: 1 })) capped.push(t);
    expect(capped).toHaveLength(1);
    await client.publish({ topic: 'fleet/config', retain: true });
    await expect(client.getRetainedMessage({ topic: 'fleet/config' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it.each([
    ['a thing name AWS rejects', (c: IotDataClient) => c.getThingShadow({ thingName: 'bad name!' })],
    ['an empty thing name', (c: IotDataClient) => c.deleteThingShadow({ thingName: '' })],
    ['a shadow name AWS rejects', (c: IotDataClient) => c.getThingShadow({ thingName: 't', shadowName: 'has/slash' })],
    [
      'a raw payload that is not JSON',
      (c: IotDataClient) => c.updateThingShadowRaw({ thingName: 't', payload: '{nope' }),
    ],
    [
      'a payload that is not a document',
      (c: IotDataClient) => c.updateThingShadow({ thingName: 't', payload: 5 as never }),
    ],
    ['a qos other than 0 or 1', (c: IotDataClient) => c.publish({ topic: 'a', qos: 2 as never })],
    ['a wildcard topic', (c: IotDataClient) => c.publish({ topic: 'a/+/b' })],
    [
      'a retained message on a reserved topic',
      (c: IotDataClient) => c.publish({ topic: '$aws/things/t/shadow/update', payload: '{}', retain: true }),
    ],
    ['a topic with too many levels', (c: IotDataClient) => c.getRetainedMessage({ topic: 'a/b/c/d/e/f/g/h/i' })],
    ['a page size above 100', (c: IotDataClient) => c.listNamedShadowsForThing({ thingName: 't', pageSize: 101 })],
    ['maxResults of 0', (c: IotDataClient) => c.listRetainedMessages({ maxResults: 0 })],
  ])('refuses %s with InvalidArgumentError before any request', async (_what, call) => {
    rec.before.length = 0;
    const err = await call(client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(rec.before).toHaveLength(0);
  });

  it('encodes names and topics exactly like the AWS SDK, so each reads what the other wrote', async () => {
    const {
      IoTDataPlaneClient,
      GetRetainedMessageCommand,
      PublishCommand,
      UpdateThingShadowCommand,
      GetThingShadowCommand,
    } = await import('@aws-sdk/client-iot-data-plane');
    const sdk = new IoTDataPlaneClient({ endpoint: emu.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
    try {
      await sdk.send(
        new PublishCommand({
          topic: "sdk/a (b)!/c*'d",
          payload: new TextEncoder().encode('from-sdk'),
          retain: true,
          qos: 1,
        }),
      );
      expect(Buffer.from((await client.getRetainedMessage({ topic: "sdk/a (b)!/c*'d" })).payload).toString()).toBe(
        'from-sdk',
      );
      await client.publish({ topic: 'ours/ü/x y', payload: 'from-ours', retain: true });
      const got = await sdk.send(new GetRetainedMessageCommand({ topic: 'ours/ü/x y' }));
      expect(Buffer.from(got.payload!).toString()).toBe('from-ours');
      await sdk.send(
        new UpdateThingShadowCommand({
          thingName: 'ns:thing_1',
          shadowName: '$cfg',
          payload: new TextEncoder().encode('{"state":{"desired":{"v":1}}}'),
        }),
      );
      expect((await client.getThingShadow({ thingName: 'ns:thing_1', shadowName: '$cfg' })).state.desired).toEqual({
        v: 1,
      });
      await client.updateThingShadow({
        thingName: 'ns:thing_1',
        shadowName: '$cfg',
        payload: { state: { desired: { v: 2 } } },
      });
      const doc = await sdk.send(new GetThingShadowCommand({ thingName: 'ns:thing_1', shadowName: '$cfg' }));
      expect(JSON.parse(Buffer.from(doc.payload!).toString()).state.desired).toEqual({ v: 2 });
    } finally {
      sdk.destroy();
    }
  });

  it('awaits beforeAttempt before sending and reports every attempt to afterAttempt', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = track(
      new IotDataClient({
        endpoint: emu.url,
        credentials: CREDS,
        hooks: {
          beforeAttempt: async () => {
            order.push('gate');
            await gate;
            order.push('released');
          },
          afterAttempt: (op, ref, o) =>
            order.push(`after ${op} ${ref?.thingName} ${o.statusCode} ${o.durationMs >= 0}`),
        },
      }),
    );
    const p = c.updateThingShadow({ thingName: 'gated', payload: { state: { desired: { x: 1 } } } });
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['gate']);
    release();
    await p;
    expect(order).toEqual(['gate', 'released', 'after UpdateThingShadow gated 200 true']);
  });

  it('gives back what beforeAttempt granted when the signal aborts while the gate was being waited for', async () => {
    // A gate that counts what it hands out (a permit, a per-thing slot) and what comes back.
    let held = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ac = new AbortController();
    const c = track(
      new IotDataClient({
        endpoint: emu.url,
        credentials: CREDS,
        hooks: {
          beforeAttempt: async () => {
            await gate;
            held += 1;
          },
          afterAttempt: () => {
            held -= 1;
          },
        },
      }),
    );
    const p = c.getThingShadow({ thingName: 'gated-abort' }, { signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    ac.abort();
    release();
    expect(await p).toBeInstanceOf(AbortError);
    expect(held).toBe(0);
  });

  it('publishes diagnostics events only to subscribers', async () => {
    const starts: unknown[] = [];
    const onStart = (m: unknown): void => void starts.push(m);
    diagnosticsChannel.subscribe('shadowfleet:request:start', onStart);
    try {
      await client.getThingShadow({ thingName: 'lamp-1' });
    } finally {
      diagnosticsChannel.unsubscribe('shadowfleet:request:start', onStart);
    }
    expect(starts).toEqual([{ operation: 'GetThingShadow', thingName: 'lamp-1', shadowName: undefined, attempt: 1 }]);
  });

  it('signs with iotdevicegateway when asked and the emulator accepts it', async () => {
    const c = track(new IotDataClient({ endpoint: emu.url, credentials: CREDS, signingName: 'iotdevicegateway' }));
    expect((await c.getThingShadow({ thingName: 'lamp-1' })).version).toBe(2);
  });

  it('signs session tokens and calls a credentials provider once while its keys are fresh', async () => {
    const provider = vi.fn(async () => ({
      ...CREDS,
      sessionToken: 'session/token+1',
      expiration: new Date(Date.now() + 3600_000),
    }));
    const c = track(new IotDataClient({ endpoint: emu.url, credentials: provider }));
    await Promise.all([c.getThingShadow({ thingName: 'lamp-1' }), c.getThingShadow({ thingName: 'lamp-1' })]);
    await c.getThingShadow({ thingName: 'lamp-1' });
    expect(provider).toHaveBeenCalledTimes(1);
  });

  it('refreshes credentials that are about to expire', async () => {
    const provider = vi.fn(async () => ({ ...CREDS, expiration: new Date(Date.now() + 60_000) }));
    const c = track(new IotDataClient({ endpoint: emu.url, credentials: provider }));
    await c.getThingShadow({ thingName: 'lamp-1' });
    await c.getThingShadow({ thingName: 'lamp-1' });
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('keeps still-valid keys when an early refresh fails, and fails with ConfigError once none are usable', async () => {
    let calls = 0;
    const provider = async () => {
      calls++;
      if (calls === 1) return { ...CREDS, expiration: new Date(Date.now() + 120_000) };
      throw new Error('metadata service down');
    };
    const c = track(new IotDataClient({ endpoint: emu.url, credentials: provider }));
    await c.getThingShadow({ thingName: 'lamp-1' });
    await c.getThingShadow({ thingName: 'lamp-1' });
    expect(calls).toBe(2);
    const none = track(
      new IotDataClient({
        endpoint: emu.url,
        credentials: async () => {
          throw new Error('no keys');
        },
      }),
    );
    const err = await none.getThingShadow({ thingName: 'lamp-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('could not resolve AWS credentials: no keys');
  });

  it('rejects a wrong secret as UnauthorizedError without leaking keys or signatures', async () => {
    const c = track(
      new IotDataClient({
        endpoint: emu.url,
        credentials: { accessKeyId: CREDS.accessKeyId, secretAccessKey: 'wrong-secret-value' },
      }),
    );
    const err = await c.getThingShadow({ thingName: 'lamp-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect((err as UnauthorizedError).statusCode).toBe(403);
    const text = `${(err as Error).message} ${JSON.stringify(err)}`;
    expect(text).not.toContain('wrong-secret-value');
    expect(text).not.toMatch(/Signature=/);
  });

  it('falls back to the local keys for a loopback endpoint when no credentials resolve', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/credentials');
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/config');
    try {
      const c = track(new IotDataClient({ endpoint: emu.url }));
      expect((await c.getThingShadow({ thingName: 'lamp-1' })).version).toBe(2);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('takes the endpoint from SHADOWFLEET_ENDPOINT and refuses to guess without one', async () => {
    vi.stubEnv('SHADOWFLEET_ENDPOINT', emu.url);
    try {
      const c = track(new IotDataClient({ credentials: CREDS }));
      expect(c.endpoint).toBe(emu.url.replace(/\/$/, ''));
      expect((await c.getThingShadow({ thingName: 'lamp-1' })).version).toBe(2);
      vi.stubEnv('SHADOWFLEET_ENDPOINT', '');
      expect(() => new IotDataClient({ credentials: CREDS })).toThrow(ConfigError);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('validates options once with messages that name the option', () => {
    expect(() => new IotDataClient({ endpoint: emu.url, connections: 0 })).toThrow(
      'IotDataClientOptions.connections must be an integer >= 1, got 0',
    );
    expect(() => new IotDataClient({ endpoint: emu.url, signingName: 'iot' as never })).toThrow(
      "IotDataClientOptions.signingName must be 'iotdata' or 'iotdevicegateway', got \"iot\"",
    );
    expect(() => new IotDataClient({ endpoint: emu.url, region: 'US East' })).toThrow(
      'IotDataClientOptions.region must be a bare region like us-east-1',
    );
    expect(() => new IotDataClient({ endpoint: 'ftp://x' })).toThrow(ConfigError);
    expect(() => new IotDataClient({ endpoint: emu.url, credentials: { accessKeyId: '' } as never })).toThrow(
      InvalidArgumentError,
    );
  });

  it('refuses calls after close()', async () => {
    const c = new IotDataClient({ endpoint: emu.url, credentials: CREDS });
    await c.close();
    await expect(c.getThingShadow({ thingName: 'lamp-1' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('fails with AbortError at once for a signal that is already aborted, sending nothing', async () => {
    rec.before.length = 0;
    const ac = new AbortController();
    ac.abort();
    await expect(client.getThingShadow({ thingName: 'lamp-1' }, { signal: ac.signal })).rejects.toBeInstanceOf(
      AbortError,
    );
    expect(rec.before).toHaveLength(0);
  });
});

describe('IotDataClient retries', () => {
  it('retries 503s from fault injection with backoff and gives up with ServiceUnavailableError', async () => {
    const emu = await emulator({ faults: { rate: 1, kinds: { unavailable: 1, internalError: 0, reset: 0 } } });
    const rec = recorder();
    const c = track(clientFor(emu, rec));
    const retries: unknown[] = [];
    const onRetry = (m: unknown): void => void retries.push(m);
    diagnosticsChannel.subscribe('shadowfleet:request:retry', onRetry);
    let err: unknown;
    try {
      err = await c
        .updateThingShadow({ thingName: 'flaky', payload: { state: { desired: { a: 1 } } } })
        .catch((e: unknown) => e);
    } finally {
      diagnosticsChannel.unsubscribe('shadowfleet:request:retry', onRetry);
    }
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as ServiceUnavailableError).retryable).toBe(true);
    expect(rec.delays).toEqual([50, 100]);
    expect(rec.before).toHaveLength(3);
    expect(rec.after.map((a) => a.statusCode)).toEqual([503, 503, 503]);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatchObject({ operation: 'UpdateThingShadow', thingName: 'flaky', attempt: 1, delayMs: 50 });
  });

  it('stops waiting for the next attempt when the signal aborts during the backoff', async () => {
    const emu = await emulator({ faults: { rate: 1, kinds: { unavailable: 1, internalError: 0, reset: 0 } } });
    const ac = new AbortController();
    const c = track(
      new IotDataClient({
        endpoint: emu.url,
        credentials: CREDS,
        retry: { maxAttempts: 5, baseDelayMs: 600_000, maxDelayMs: 600_000, random: () => 0.99 },
        hooks: { afterAttempt: () => setImmediate(() => ac.abort()) },
      }),
    );
    const t0 = Date.now();
    const err = await c.getThingShadow({ thingName: 'x' }, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    // Returned long before the backoff (at least 10 minutes) would have ended, at any speed.
    expect(Date.now() - t0).toBeLessThan(600_000 * 0.5);
  });

  it('retries 500s as transient', async () => {
    const emu = await emulator({ faults: { rate: 1, kinds: { unavailable: 0, internalError: 1, reset: 0 } } });
    const rec = recorder();
    const c = track(clientFor(emu, rec));
    const err = await c.getThingShadow({ thingName: 'x' }).catch((e: unknown) => e);
    expect((err as ServiceError).statusCode).toBe(500);
    expect(rec.after).toHaveLength(3);
  });

  it('retries connection resets and surfaces a NetworkError after the last attempt', async () => {
    const emu = await emulator({ faults: { rate: 1, kinds: { unavailable: 0, internalError: 0, reset: 1 } } });
    const rec = recorder();
    const c = track(clientFor(emu, rec));
    const err = await c.getThingShadow({ thingName: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(isShadowError(err)).toBe(true);
    expect(rec.after.map((a) => a.error)).toEqual(['NetworkError', 'NetworkError', 'NetworkError']);
    expect(rec.delays).toHaveLength(2);
  });

  it('rides through a seeded 50% fault rate when attempts allow it', async () => {
    const emu = await emulator({ faults: { rate: 0.5, seed: 7 } });
    const rec = recorder();
    const c = track(clientFor(emu, rec, { retry: { maxAttempts: 20 } }));
    for (let i = 0; i < 10; i++)
      await c.updateThingShadow({ thingName: `t-${i}`, payload: { state: { reported: { i } } } });
    expect(rec.delays.length).toBeGreaterThan(0);
    expect(rec.after.filter((a) => a.statusCode === 200)).toHaveLength(10);
  });

  it('retries throttling from the per-thing quota and then surfaces ThrottlingError', async () => {
    // One token per 20 s: the retries meet an empty bucket however slow the machine.
    const emu = await emulator({ quotas: { thingRps: 0.05, accountRps: 1000, thingInFlight: 10 } });
    const rec = recorder();
    const c = track(clientFor(emu, rec));
    await c.updateThingShadow({ thingName: 'hot', payload: { state: { desired: { a: 1 } } } });
    const err = await c.getThingShadow({ thingName: 'hot' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottlingError);
    expect((err as ThrottlingError).statusCode).toBe(429);
    expect(rec.after.slice(1).map((a) => a.statusCode)).toEqual([429, 429, 429]);
    expect(rec.delays).toHaveLength(2);
  });
});

describe('IotDataClient aborts and timeouts', () => {
  // The emulator holds every GetThingShadow this long before answering, and the tests abort once
  // the request is at the emulator: an answer can never come first, however slow the machine, and
  // a client that waited for it would take at least this long.
  const LATENCY_MS = 30_000;
  let emu: Emulator;
  beforeAll(async () => {
    emu = await emulator({ faults: { perOperation: { GetThingShadow: { latencyMs: LATENCY_MS } } } });
  });
  /** Resolves once the emulator has received `n` more GetThingShadow requests than `before`. */
  async function arrived(before: number, n: number): Promise<void> {
    while (emu.stats().operations.GetThingShadow.requests < before + n) await new Promise((r) => setTimeout(r, 5));
  }

  it('aborts an in-flight request with AbortError', async () => {
    const c = track(new IotDataClient({ endpoint: emu.url, credentials: CREDS }));
    const ac = new AbortController();
    const before = emu.stats().operations.GetThingShadow.requests;
    const t0 = Date.now();
    const p = c.getThingShadow({ thingName: 'slow' }, { signal: ac.signal });
    void arrived(before, 1).then(() => ac.abort());
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).message).toContain('GetThingShadow was aborted');
    expect(Date.now() - t0).toBeLessThan(LATENCY_MS);
  });

  it('aborts a request still queued behind a busy connection without waiting for it', async () => {
    const c = track(new IotDataClient({ endpoint: emu.url, credentials: CREDS, connections: 1 }));
    const first = new AbortController();
    const second = new AbortController();
    const before = emu.stats().operations.GetThingShadow.requests;
    const busy = c.getThingShadow({ thingName: 'slow' }, { signal: first.signal }).catch((e: unknown) => e);
    const queued = c.getThingShadow({ thingName: 'slow' }, { signal: second.signal }).catch((e: unknown) => e);
    const t0 = Date.now();
    // The first request holds the one connection at the emulator: the second is queued behind it.
    void arrived(before, 1).then(() => second.abort());
    expect(await queued).toBeInstanceOf(AbortError);
    expect(Date.now() - t0).toBeLessThan(LATENCY_MS);
    expect(emu.stats().operations.GetThingShadow.requests).toBe(before + 1);
    first.abort();
    expect(await busy).toBeInstanceOf(AbortError);
  });

  it('times out a slow response with TimeoutError', async () => {
    const c = track(
      new IotDataClient({ endpoint: emu.url, credentials: CREDS, requestTimeoutMs: 100, retry: { maxAttempts: 1 } }),
    );
    const err = await c.getThingShadow({ thingName: 'slow' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).operation).toBe('GetThingShadow');
  });
});
