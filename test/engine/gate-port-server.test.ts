import { MessageChannel } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import { BottleneckRateGate } from '../../src/engine/bottleneck-rate-gate.js';
import { GatePortServer } from '../../src/engine/gate-port-server.js';
import { PortWorkerGate } from '../../src/engine/port-worker-gate.js';

describe('the gate port server', () => {
  test('a throttle report posted just before the server closes its ports still reaches the gate', async () => {
    const gate = new BottleneckRateGate({ accountRps: 100 });
    const server = new GatePortServer(gate);
    const { port1, port2 } = new MessageChannel();
    try {
      server.attach(port1);
      // Posted, not yet delivered (delivery waits for the event loop): closing must not drop it.
      port2.postMessage({ t: 'throttle', op: 'GetThingShadow' });
      port2.postMessage({ t: 'throttle', op: 'GetThingShadow' });
      server.close();
      expect(gate.stats().operations.GetThingShadow?.throttles).toBe(2);
      expect(server.size).toBe(0);
    } finally {
      port2.close();
      await gate.close();
    }
  });

  test('a permit request the server never answers fails with an abort once the server closes the port', async () => {
    // A gate whose permits never come (1 per hour, all taken): the worker side waits on the port.
    const gate = new BottleneckRateGate({ accountRps: 1 / 3600 });
    const server = new GatePortServer(gate);
    const { port1, port2 } = new MessageChannel();
    const worker = new PortWorkerGate();
    try {
      server.attach(port1);
      worker.configure(port2, { GetThingShadow: 1 }, undefined);
      await worker.acquire('GetThingShadow', undefined);
      const waiting = worker.acquire('GetThingShadow', undefined);
      server.close();
      await expect(waiting).rejects.toThrow(/rate gate closed/);
      // And a later request does not wait on the closed port either.
      await expect(worker.acquire('GetThingShadow', undefined)).rejects.toThrow(/rate gate closed/);
    } finally {
      await gate.close();
    }
  });
});
