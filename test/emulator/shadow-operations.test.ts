import {
  DeleteThingShadowCommand,
  GetThingShadowCommand,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { describe, expect, it } from 'vitest';
import { bytes, json, sdkError, withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off' });
const update = (thingName: string, payload: unknown, shadowName?: string) =>
  ctx.client
    .send(new UpdateThingShadowCommand({ thingName, shadowName, payload: bytes(payload) }))
    .then((r) => json(r.payload));
const get = (thingName: string, shadowName?: string) =>
  ctx.client.send(new GetThingShadowCommand({ thingName, shadowName })).then((r) => json(r.payload));
const del = (thingName: string, shadowName?: string) =>
  ctx.client.send(new DeleteThingShadowCommand({ thingName, shadowName })).then((r) => json(r.payload));

describe('shadow operations through the AWS SDK', () => {
  it('creates a shadow on the first update of an unknown thing and answers the accepted document', async () => {
    const accepted = await update('lamp-1', {
      state: { desired: { color: 'red', cfg: { mode: 'eco', levels: [1, 2] } } },
      clientToken: 'c-1',
    });
    expect(accepted).toMatchObject({
      state: { desired: { color: 'red', cfg: { mode: 'eco', levels: [1, 2] } } },
      version: 1,
      clientToken: 'c-1',
    });
    const t = accepted.timestamp;
    expect(accepted.metadata).toEqual({
      desired: {
        color: { timestamp: t },
        cfg: { mode: { timestamp: t }, levels: [{ timestamp: t }, { timestamp: t }] },
      },
    });
  });

  it('answers only what was sent and serves the merged document with delta on GET', async () => {
    const accepted = await update('lamp-1', {
      state: { reported: { color: 'blue', cfg: { mode: 'eco' }, fw: '1.2' } },
      version: 1,
    });
    expect(accepted.state).toEqual({ reported: { color: 'blue', cfg: { mode: 'eco' }, fw: '1.2' } });
    expect(accepted.version).toBe(2);
    expect(accepted.clientToken).toBeUndefined();
    const doc = await get('lamp-1');
    expect(doc.state).toEqual({
      desired: { color: 'red', cfg: { mode: 'eco', levels: [1, 2] } },
      reported: { color: 'blue', cfg: { mode: 'eco' }, fw: '1.2' },
      delta: { color: 'red', cfg: { levels: [1, 2] } },
    });
    expect(Object.keys(doc)).toEqual(['state', 'metadata', 'version', 'timestamp']);
    expect(doc.metadata.reported.fw.timestamp).toBeTypeOf('number');
    expect(doc.metadata.delta).toBeUndefined();
  });

  it('rejects a stale version with ConflictException "Version conflict"', async () => {
    const e = await sdkError(
      update('lamp-1', { state: { desired: { color: 'green' } }, version: 1, clientToken: 'c-3' }),
    );
    expect(e).toMatchObject({ name: 'ConflictException', message: 'Version conflict', status: 409 });
    expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await get('lamp-1')).version).toBe(2);
  });

  it('deletes with a version bump, then 404s, then continues the numbering on re-creation', async () => {
    expect(await del('lamp-1')).toEqual({ version: 3, timestamp: expect.any(Number) });
    expect(await sdkError(get('lamp-1'))).toMatchObject({
      name: 'ResourceNotFoundException',
      message: "No shadow exists with name: 'lamp-1'",
      status: 404,
    });
    expect(await sdkError(del('lamp-1'))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    expect((await update('lamp-1', { state: { desired: { color: 'red' } } })).version).toBe(4);
    expect((await get('lamp-1')).state).toEqual({ desired: { color: 'red' }, delta: { color: 'red' } });
  });

  it('keeps named shadows independent of the classic one and names them in 404s', async () => {
    await update('pump-17', { state: { desired: { rpm: 100 } } });
    expect((await update('pump-17', { state: { reported: { rpm: 90 } } }, 'config')).version).toBe(1);
    expect((await get('pump-17', 'config')).state).toEqual({ reported: { rpm: 90 } });
    expect((await get('pump-17')).state.desired).toEqual({ rpm: 100 });
    expect(await sdkError(get('pump-17', 'firmware'))).toMatchObject({
      name: 'ResourceNotFoundException',
      message: "No shadow exists with name: 'firmware'",
    });
    expect((await del('pump-17', 'config')).version).toBe(2);
    expect((await get('pump-17')).version).toBe(1);
  });

  it('deletes a key with null, drops sections with null and keeps empty objects as values', async () => {
    await update('t-null', { state: { desired: { a: 1, b: { c: 3 }, d: {} }, reported: { x: 1 } } });
    await update('t-null', { state: { desired: { a: null, b: { c: {} } }, reported: null } });
    expect((await get('t-null')).state).toEqual({ desired: { b: { c: {} }, d: {} }, delta: { b: { c: {} }, d: {} } });
  });

  it('clears the state on "state": null and keeps the shadow', async () => {
    await update('t-clear', { state: { desired: { a: 1 } } });
    const accepted = await update('t-clear', { state: null });
    expect(accepted).toEqual({
      state: null,
      metadata: { timestamp: accepted.timestamp },
      version: 2,
      timestamp: accepted.timestamp,
    });
    const doc = await get('t-clear');
    expect(doc).toEqual({ state: {}, metadata: {}, version: 2, timestamp: expect.any(Number) });
  });

  it('creates a shadow even from an empty state', async () => {
    expect((await update('t-empty', { state: {} })).version).toBe(1);
    expect((await get('t-empty')).state).toEqual({});
  });

  it('increments the version on every accepted update, no-ops included', async () => {
    await update('t-noop', { state: { desired: { a: 1 } } });
    expect((await update('t-noop', { state: { desired: { a: 1 } } })).version).toBe(2);
  });

  it('keeps the old metadata time of untouched leaves', async () => {
    await update('t-meta', { state: { reported: { id: 1, v: 1 } } });
    const before = (await get('t-meta')).metadata.reported.id.timestamp;
    await update('t-meta', { state: { reported: { v: 2 } } });
    const doc = await get('t-meta');
    expect(doc.metadata.reported.id.timestamp).toBe(before);
  });

  it('accepts thing names with colons (percent-encoded on the wire) and $ in shadow names', async () => {
    await update('arn:thing_1-x', { state: { desired: { a: 1 } } }, '$package');
    expect((await get('arn:thing_1-x', '$package')).state.desired).toEqual({ a: 1 });
  });
});
