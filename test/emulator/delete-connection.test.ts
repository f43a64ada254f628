import { DeleteConnectionCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { ManualClock } from './manual-clock.js';
import { bytes, sdkClient, sdkError, withEmulator } from './with-emulator.js';

const clock = new ManualClock();
const ctx = withEmulator({ quotas: 'off', simulateDevices: { delayMs: 10, reconnectDelayMs: 1000, clock } });
const desire = (thingName: string, desired: Record<string, unknown>, shadowName?: string) =>
  ctx.client.send(new UpdateThingShadowCommand({ thingName, shadowName, payload: bytes({ state: { desired } }) }));
const deleteConnection = (clientId: string, extra: { cleanSession?: boolean; preventWillMessage?: boolean } = {}) =>
  ctx.client.send(new DeleteConnectionCommand({ clientId, ...extra }));

describe('DeleteConnection through the AWS SDK', () => {
  it('takes the device offline: it stops answering deltas until it reconnects after the delay', async () => {
    await desire('dev-a', { x: 1 });
    clock.advance(10);
    expect(ctx.emulator.store.get('dev-a')!.state.reported).toEqual({ x: 1 });
    expect(ctx.emulator.devices!.isConnected('dev-a')).toBe(true);

    const out = await deleteConnection('dev-a', { cleanSession: true, preventWillMessage: true });
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(ctx.emulator.devices!.isConnected('dev-a')).toBe(false);
    await desire('dev-a', { x: 2 });
    await desire('dev-a', { mode: 'eco' }, 'cfg');
    clock.advance(999);
    expect(ctx.emulator.store.get('dev-a')!.state.delta).toEqual({ x: 2 });
    expect(ctx.emulator.store.get('dev-a', 'cfg')!.state.delta).toEqual({ mode: 'eco' });

    clock.advance(1);
    expect(ctx.emulator.devices!.isConnected('dev-a')).toBe(true);
    clock.advance(10);
    expect(ctx.emulator.store.get('dev-a')!.state.delta).toBeUndefined();
    expect(ctx.emulator.store.get('dev-a')!.state.reported).toEqual({ x: 2 });
    expect(ctx.emulator.store.get('dev-a', 'cfg')!.state.reported).toEqual({ mode: 'eco' });
  });

  it('drops a report that was pending when the connection was deleted', async () => {
    await desire('dev-b', { level: 3 });
    await deleteConnection('dev-b');
    clock.advance(10);
    expect(ctx.emulator.store.get('dev-b')!.state.delta).toEqual({ level: 3 });
    clock.advance(1000);
    clock.advance(10);
    expect(ctx.emulator.store.get('dev-b')!.state.delta).toBeUndefined();
  });

  it('answers 404 ResourceNotFoundException for an unknown clientId and for a device already offline', async () => {
    expect(await sdkError(deleteConnection('nobody'))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    await desire('dev-c', { a: 1 });
    await deleteConnection('dev-c');
    expect(await sdkError(deleteConnection('dev-c'))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  it('answers 400 InvalidRequestException for a clientId starting with $ or longer than 128, and a non-boolean flag', async () => {
    expect(await sdkError(deleteConnection('$reserved'))).toMatchObject({
      name: 'InvalidRequestException',
      status: 400,
    });
    expect(await sdkError(deleteConnection('c'.repeat(129)))).toMatchObject({
      name: 'InvalidRequestException',
      status: 400,
    });
    const res = await request(`${ctx.emulator.url}/connections/dev-a?cleanSession=maybe`, { method: 'DELETE' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('InvalidRequestException');
    await res.body.dump();
  });

  it('answers 404 for every clientId when devices are not simulated', async () => {
    const emulator = await startEmulator({ quotas: 'off' });
    const client = sdkClient(emulator.url);
    try {
      await client.send(
        new UpdateThingShadowCommand({ thingName: 'lonely', payload: bytes({ state: { desired: { a: 1 } } }) }),
      );
      expect(await sdkError(client.send(new DeleteConnectionCommand({ clientId: 'lonely' })))).toMatchObject({
        name: 'ResourceNotFoundException',
        status: 404,
      });
    } finally {
      client.destroy();
      await emulator.close();
    }
  });
});
