/**
 * The paths where the caller expects a 404 or vouches for the payload: getThingShadowIfExists /
 * deleteThingShadowIfExists give undefined for a missing shadow (the hooks still see the
 * NotFoundError, built without a stack), other failures throw as before; updateSerializedShadow
 * sends text the engine serialized without re-parsing it; getThingShadow keeps its full error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IotDataClient, type AttemptOutcome } from '../../src/client/index.js';
import { updateSerializedShadow } from '../../src/client/iot-data-client.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ConfigError, InvalidArgumentError, NotFoundError, ServiceError } from '../../src/errors.js';

const CREDS = { accessKeyId: 'AKIDNOTFOUNDTEST', secretAccessKey: 'not-found-secret' };

describe('expected not-found and serialized updates', () => {
  let emu: Emulator;
  let client: IotDataClient;
  const outcomes: AttemptOutcome[] = [];

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, quotas: 'off' });
    client = new IotDataClient({
      endpoint: emu.url,
      credentials: CREDS,
      connections: 2,
      retry: { maxAttempts: 1 },
      hooks: { afterAttempt: (_op, _ref, outcome) => void outcomes.push(outcome) },
    });
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it('getThingShadowIfExists: undefined for a missing shadow, the document otherwise', async () => {
    outcomes.length = 0;
    expect(await client.getThingShadowIfExists({ thingName: 'nf-1' })).toBeUndefined();
    expect(await client.getThingShadowIfExists({ thingName: 'nf-1', shadowName: 'cfg' })).toBeUndefined();
    expect(outcomes.map((o) => o.statusCode)).toEqual([404, 404]);
    // The gate still sees the typed error of the attempt.
    expect(outcomes[0]!.error).toBeInstanceOf(NotFoundError);
    expect(outcomes[0]!.error!.code).toBe('SHADOW_ERR_NOT_FOUND');
    expect(outcomes[0]!.error!.stack).toBe(outcomes[0]!.error!.toString());

    await client.updateThingShadow({ thingName: 'nf-1', payload: { state: { desired: { on: true } } } });
    const doc = await client.getThingShadowIfExists({ thingName: 'nf-1' });
    expect(doc?.state.desired).toEqual({ on: true });
    expect(doc?.version).toBe(1);
  });

  it('getThingShadow still throws a NotFoundError with its stack', async () => {
    const err = await client.getThingShadow({ thingName: 'nf-missing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).awsErrorType).toBe('ResourceNotFoundException');
    expect((err as NotFoundError).stack).toMatch(/\n\s+at /);
  });

  it('getThingShadowIfExists throws every other failure', async () => {
    await expect(client.getThingShadowIfExists({ thingName: 'bad name!' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const aborted = new AbortController();
    aborted.abort();
    await expect(
      client.getThingShadowIfExists({ thingName: 'nf-1' }, { signal: aborted.signal }),
    ).rejects.toMatchObject({ code: 'SHADOW_ERR_ABORTED' });
    const closed = new IotDataClient({ endpoint: emu.url, credentials: CREDS });
    await closed.close();
    await expect(closed.getThingShadowIfExists({ thingName: 'nf-1' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('deleteThingShadowIfExists: undefined for a missing shadow, the version deleted otherwise', async () => {
    expect(await client.deleteThingShadowIfExists({ thingName: 'nf-del' })).toBeUndefined();
    await client.updateThingShadow({ thingName: 'nf-del', payload: { state: { reported: { a: 1 } } } });
    const out = await client.deleteThingShadowIfExists({ thingName: 'nf-del' });
    expect(typeof out?.version).toBe('number');
    expect(await client.deleteThingShadowIfExists({ thingName: 'nf-del' })).toBeUndefined();
    await expect(client.deleteThingShadow({ thingName: 'nf-del' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('updateSerializedShadow sends the text as it is; the service refuses a bad document', async () => {
    const raw = await updateSerializedShadow(client, {
      thingName: 'nf-ser',
      shadowName: 'cfg',
      payload: '{"state":{"desired":{"big":12345678901234567891}}}',
    });
    expect(JSON.parse(Buffer.from(raw).toString()).version).toBe(1);
    const text = Buffer.from(await client.getThingShadowRaw({ thingName: 'nf-ser', shadowName: 'cfg' })).toString();
    expect(text).toContain('12345678901234567891');

    await expect(updateSerializedShadow(client, { thingName: 'bad name!', payload: '{}' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      updateSerializedShadow(client, { thingName: 'nf-ser', payload: 5 as unknown as string }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    const err = await updateSerializedShadow(client, { thingName: 'nf-ser', payload: '{"state":5}' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).statusCode).toBe(400);
  });

  it('updateThingShadowRaw keeps its checks of text the caller wrote', async () => {
    const bad = (payload: string) => client.updateThingShadowRaw({ thingName: 'nf-raw', payload });
    await expect(bad('{nope')).rejects.toThrow('UpdateThingShadow: payload is not valid JSON');
    await expect(bad('[1]')).rejects.toThrow('UpdateThingShadow: payload must be a JSON object');
    await expect(bad('{"state":{"desired":{"x":1e400}}}')).rejects.toBeInstanceOf(InvalidArgumentError);
    const ok = await client.updateThingShadowRaw({
      thingName: 'nf-raw',
      payload: '{"state":{"desired":{"x":0.1000000000000000055511151231257827}}}',
    });
    expect(JSON.parse(Buffer.from(ok).toString()).version).toBe(1);
  });
});
