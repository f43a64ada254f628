/**
 * The piscina entry of every bulk task. One IotDataClient per thread (per client config),
 * its hooks wired to the thread's gate (account permits + per-thing limit); the task's `kind`
 * picks the handler from workers/handlers/index.ts.
 */
import { setMaxListeners } from 'node:events';
import { IotDataClient, type IotDataClientOptions } from '../src/client/index.js';
import { credentialSourceProvider, hasCredentialSource } from '../src/client/credential-source.js';
import { AbortError, WorkerError } from '../src/errors.js';
import { PortWorkerGate } from '../src/engine/port-worker-gate.js';
import type {
  HandlerContext,
  ItemResult,
  TaskHandler,
  TaskKind,
  WorkerClientConfig,
  WorkerTask,
} from '../src/engine/task-types.js';
import { HANDLERS } from './handlers/index.js';

const gate = new PortWorkerGate();
const clients = new Map<string, IotDataClient>();

function clientFor(cfg: WorkerClientConfig): IotDataClient {
  const key = JSON.stringify(cfg);
  let client = clients.get(key);
  if (client === undefined) {
    const retry: NonNullable<IotDataClientOptions['retry']> = {};
    if (cfg.maxAttempts !== undefined) retry.maxAttempts = cfg.maxAttempts;
    if (cfg.baseDelayMs !== undefined) retry.baseDelayMs = cfg.baseDelayMs;
    if (cfg.maxDelayMs !== undefined) retry.maxDelayMs = cfg.maxDelayMs;
    const options: IotDataClientOptions = {
      endpoint: cfg.endpoint,
      region: cfg.region,
      retry,
      hooks: {
        beforeAttempt: (op, ref) => gate.acquire(op, ref),
        afterAttempt: (op, ref, outcome) => gate.release(op, ref, outcome),
      },
    };
    if (cfg.signingName !== undefined) options.signingName = cfg.signingName as 'iotdata' | 'iotdevicegateway';
    if (cfg.credentials !== undefined) options.credentials = cfg.credentials;
    // A profile or a role: this thread resolves the account's credentials and refreshes them.
    else if (hasCredentialSource(cfg)) options.credentials = credentialSourceProvider(cfg, cfg.region);
    if (cfg.connections !== undefined) options.connections = cfg.connections;
    if (cfg.requestTimeoutMs !== undefined) options.requestTimeoutMs = cfg.requestTimeoutMs;
    client = new IotDataClient(options);
    clients.set(key, client);
  }
  return client;
}

function handlerFor(kind: TaskKind): TaskHandler<unknown> {
  const h = HANDLERS[kind];
  if (h === undefined) throw new WorkerError(`no worker handler for task kind "${kind}"`);
  return h as TaskHandler<unknown>;
}

export default async function runTask(task: WorkerTask): Promise<ItemResult[]> {
  gate.configure(task.gatePort, task.permits, task.thingLimits);
  const handler = handlerFor(task.kind);
  const ctx: HandlerContext<unknown> = { config: task.config, client: clientFor(task.client), gate };
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
