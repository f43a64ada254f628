import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IotDataClient } from '../../src/client/index.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { HandlerContext, TargetItem, WorkerGate } from '../../src/engine/task-types.js';
import type { RollbackTaskConfig } from '../../src/engine/wave-task-types.js';
import { beforeImage, type UndoRecord } from '../../src/shadow/before-image.js';
import { stringifyJson, type JsonObject } from '../../src/shadow/index.js';
import rollback from '../../workers/handlers/rollback.js';
import { ManualClock } from '../emulator/manual-clock.js';

/** The handlers run in this thread, their client straight at the emulator (no rate gates). */
const openGate: WorkerGate = {
  acquire: async () => {},
  release: () => {},
  takeUsage: () => ({ requests: 0, throttles: 0 }),
};
const ctxOf = <C>(client: IotDataClient, config: C): HandlerContext<C> => ({ client, config, gate: openGate });

describe('the rollback handler against the emulator', () => {
  let emulator: Emulator;
  let client: IotDataClient;
  const clock = new ManualClock();
  beforeAll(async () => {
    emulator = await startEmulator({
      quotas: 'off',
      simulateDevices: { delayMs: 10, clock, unhealthyWhen: 'fw=1.5.0', unhealthyShare: 0.5 },
    });
    client = new IotDataClient({ endpoint: emulator.url, region: 'us-east-1' });
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  /** Writes `update` onto the thing's desired state as a rollout does, and returns its undo record. */
  async function write(thingName: string, update: JsonObject): Promise<UndoRecord> {
    const doc = await client.getThingShadow({ thingName }).catch(() => undefined);
    const undo = { before: beforeImage(doc?.state.desired, update), wrote: update };
    await client.updateThingShadow({ thingName, payload: { state: { desired: update } } });
    return undo;
  }
  const desiredOf = (t: string) => emulator.store.get(t)?.state.desired;
  const item = (thingName: string, undo: UndoRecord): TargetItem => ({
    thingName,
    data: { undo: stringifyJson(undo) },
  });

  it('rolls back written keys to their previous values, deleting keys that did not exist', async () => {
    await client.updateThingShadow({ thingName: 'rb-1', payload: { state: { desired: { fw: '1.4.0', led: 'off' } } } });
    const undo = await write('rb-1', { fw: '1.5.0', extra: { a: 1 } });
    const [r] = await rollback([item('rb-1', undo)], ctxOf<RollbackTaskConfig>(client, {}));
    expect(r).toMatchObject({ outcome: 'rolled-back', detail: { restored: 2 } });
    expect(desiredOf('rb-1')).toEqual({ fw: '1.4.0', led: 'off' });
    // a second pass finds nothing to do
    const [again] = await rollback([item('rb-1', undo)], ctxOf<RollbackTaskConfig>(client, {}));
    expect(again!.outcome).toBe('unchanged');
  });

  it('keeps and reports a key someone changed after the write, restoring the rest', async () => {
    await client.updateThingShadow({ thingName: 'rb-2', payload: { state: { desired: { fw: '1.4.0', led: 'off' } } } });
    const undo = await write('rb-2', { fw: '1.5.0', led: 'on' });
    await client.updateThingShadow({ thingName: 'rb-2', payload: { state: { desired: { fw: '1.5.1' } } } });
    const [r] = await rollback([item('rb-2', undo)], ctxOf<RollbackTaskConfig>(client, {}));
    expect(r).toMatchObject({
      outcome: 'rolled-back',
      detail: { restored: 1, kept: [{ path: ['fw'], wrote: '1.5.0', current: '1.5.1' }] },
    });
    expect(desiredOf('rb-2')).toEqual({ fw: '1.5.1', led: 'off' });
  });

  it('writes nothing in a dry run and says kept when every key was changed since', async () => {
    await client.updateThingShadow({ thingName: 'rb-3', payload: { state: { desired: { fw: '1.4.0' } } } });
    const undo = await write('rb-3', { fw: '1.5.0' });
    const [dry] = await rollback([item('rb-3', undo)], ctxOf<RollbackTaskConfig>(client, { dryRun: true }));
    expect(dry!.outcome).toBe('would-write');
    expect(desiredOf('rb-3')).toEqual({ fw: '1.5.0' });
    await client.updateThingShadow({ thingName: 'rb-3', payload: { state: { desired: { fw: '2.0.0' } } } });
    const [r] = await rollback([item('rb-3', undo)], ctxOf<RollbackTaskConfig>(client, {}));
    expect(r!.outcome).toBe('kept');
    expect(desiredOf('rb-3')).toEqual({ fw: '2.0.0' });
  });

  it('fails an item without an undo record and carries on with the others', async () => {
    await client.updateThingShadow({ thingName: 'rb-4', payload: { state: { desired: { fw: '1.4.0' } } } });
    const undo = await write('rb-4', { fw: '1.5.0' });
    const results = await rollback(
      [{ thingName: 'rb-none' }, item('rb-4', undo)],
      ctxOf<RollbackTaskConfig>(client, {}),
    );
    expect(results.map((r) => r.outcome)).toEqual(['failed', 'rolled-back']);
    expect(results[0]!.error!.message).toContain('thing "rb-none" has no undo record');
  });

  it('restores a number a double cannot hold with every digit', async () => {
    const big = '12345678901234567891';
    const res = await fetch(`${emulator.url}/things/rb-exact/shadow`, {
      method: 'POST',
      body: `{"state":{"desired":{"serial":${big},"fw":"1.4.0"}}}`,
    });
    expect(res.status).toBe(200);
    const undo = await write('rb-exact', { serial: 1, fw: '1.5.0' });
    const [r] = await rollback([item('rb-exact', undo)], ctxOf<RollbackTaskConfig>(client, {}));
    expect(r!.outcome).toBe('rolled-back');
    const text = await (await fetch(`${emulator.url}/things/rb-exact/shadow`)).text();
    expect(text).toContain(`"desired":{"serial":${big},"fw":"1.4.0"}`);
  });
});
