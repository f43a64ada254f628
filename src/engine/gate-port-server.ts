/**
 * The coordinator side of the worker gates: answers permit requests from worker threads over
 * MessagePorts with permits from the one RateGate, and forwards throttle reports to it.
 * A port is forgotten when the worker closes it.
 *
 * Closing a port discards the messages queued on it and not yet delivered, and a report posted
 * just before (the last 429 of a batch on the pool's warm-up runner, closed as soon as its
 * batches are done; a thread's last report when the pool stops) is still queued then: close()
 * first takes every queued message off each port and hands its throttle reports to the gate.
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { isShadowError } from '../errors.js';
import type { GateReply, GateRequest } from './gate-messages.js';
import type { RateGate } from './rate-gate.js';

export class GatePortServer {
  #gate: RateGate;
  #ports = new Set<MessagePort>();

  constructor(gate: RateGate) {
    this.#gate = gate;
  }

  attach(port: MessagePort): void {
    this.#ports.add(port);
    port.on('message', (msg: GateRequest) => this.#onRequest(port, msg));
    port.once('close', () => this.#ports.delete(port));
    port.unref();
  }

  /** Ports currently open (one per worker thread that adopted one). */
  get size(): number {
    return this.#ports.size;
  }

  /** Counts the throttle reports still queued on the ports, then closes them (permit requests go unanswered). */
  close(): void {
    for (const port of this.#ports) {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        const msg = m.message as GateRequest;
        if (msg.t === 'throttle') this.#gate.throttled(msg.op);
      }
      port.close();
    }
    this.#ports.clear();
  }

  #onRequest(port: MessagePort, msg: GateRequest): void {
    if (msg.t === 'throttle') {
      this.#gate.throttled(msg.op);
    } else if (msg.t === 'take') {
      this.#gate.take(msg.op, msg.want).then(
        (n) => this.#reply(port, { t: 'grant', op: msg.op, n }),
        (err: unknown) =>
          this.#reply(port, {
            t: 'grant',
            op: msg.op,
            n: 0,
            error: err instanceof Error ? err.message : String(err),
            aborted: isShadowError(err) && err.code === 'SHADOW_ERR_ABORTED',
          }),
      );
    }
  }

  #reply(port: MessagePort, msg: GateReply): void {
    if (this.#ports.has(port)) port.postMessage(msg);
  }
}
