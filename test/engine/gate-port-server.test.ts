import { MessageChannel } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import { BottleneckRateGate } from '../../src/engine/bottleneck-rate-gate.js';
import { GatePortServer } from '../../src/engine/gate-port-server.js';

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
});
