/**
 * What runs a batch where its requests are made: the gate (account permits through the
 * coordinator's port, per-thing limits), one IotDataClient per client config, the handler of
 * the task's `kind`, and the interrupt. A worker thread has one for its life (workers/task-worker);
 * the inline runner has one per run, on the main thread.
 */
import { setMaxListeners } from 'node:events';
import type { IotDataClient } from '../client/index.js';
import { AbortError, WorkerError } from '../errors.js';
import { newBatchClient } from './batch-client.js';
import { PortWorkerGate } from './port-worker-gate.js';
import type {
  HandlerContext,
  ItemResult,
  TaskHandler,
  TaskKind,
  WorkerClientConfig,
  WorkerTask,
} from './task-types.js';

export type TaskHandlers = Readonly<Partial<Record<TaskKind, TaskHandler<never>>>>;

export class TaskRunner {
  readonly #gate = new PortWorkerGate();
  readonly #clients = new Map<string, IotDataClient>();
  readonly #handlers: TaskHandlers;

  constructor(handlers: TaskHandlers) {
    this.#handlers = handlers;
  }

  async run(task: WorkerTask): Promise<ItemResult[]> {
    const gate = this.#gate;
    gate.configure(task.gatePort, task.permits, task.thingLimits);
    const handler = this.#handlerFor(task.kind);
    const ctx: HandlerContext<unknown> = { config: task.config, client: this.#clientFor(task.client), gate };
    const cancel = task.cancelPort;
    if (cancel === undefined) return handler(task.items, ctx);
    // An interrupt (Ctrl-C, SIGTERM) arrives as one message: requests in flight and retry waits abort.
    const controller = new AbortController();
    // Every request and retry wait of the batch listens on this one signal (each removes its
    // listener when it settles), so more than Node's default of 10 at once is normal, not a leak.
    setMaxListeners(0, controller.signal);
    cancel.once('message', () => controller.abort(new AbortError('interrupted')));
    ctx.signal = controller.signal;
    try {
      return await handler(task.items, ctx);
    } finally {
      cancel.close();
    }
  }

  /** Closes the clients (their sockets). */
  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }

  #handlerFor(kind: TaskKind): TaskHandler<unknown> {
    const h = this.#handlers[kind];
    if (h === undefined) throw new WorkerError(`no worker handler for task kind "${kind}"`);
    return h as TaskHandler<unknown>;
  }

  #clientFor(cfg: WorkerClientConfig): IotDataClient {
    const key = JSON.stringify(cfg);
    let client = this.#clients.get(key);
    if (client === undefined) {
      client = newBatchClient(cfg, this.#gate);
      this.#clients.set(key, client);
    }
    return client;
  }
}
