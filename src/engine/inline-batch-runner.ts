/**
 * A BatchRunner on the calling thread: the task handlers run here, with the same gate (a port
 * to the coordinator's GatePortServer), the same clients and the same interrupt as in a worker
 * thread, but without starting one. For a job whose targets fit in one batch (a one-thing
 * rollout), where starting a thread and loading its modules costs more than the batch itself;
 * the engine chooses it (Coordinator option `expectedItems`), never the job. The thread pool
 * also runs its first batches on one while its threads start (PoolBatchRunner).
 *
 * The batch is copied (structuredClone) as it would be crossing to a thread, so a handler never
 * shares objects with the coordinator.
 */
import { MessageChannel } from 'node:worker_threads';
import type { BatchRunner, BatchRunnerContext, BatchTask } from './batch-runner.js';
import { GatePortServer } from './gate-port-server.js';
import { TaskRunner } from './task-runner.js';
import type { ItemResult, WorkerTask } from './task-types.js';
import { loadTaskHandlers } from './worker-file.js';

export class InlineBatchRunner implements BatchRunner {
  #server: GatePortServer;
  /** Loading starts at once: it overlaps with the job reading its targets. */
  #runner: Promise<TaskRunner>;
  #inFlight = 0;
  #hold: ReturnType<typeof setInterval> | undefined;
  #idle: Array<() => void> = [];

  constructor(options: BatchRunnerContext) {
    this.#server = new GatePortServer(options.gate);
    this.#runner = loadTaskHandlers().then((handlers) => new TaskRunner(handlers));
    // A failed load is reported by run(); it must not be an unhandled rejection meanwhile.
    this.#runner.catch(() => undefined);
  }

  async run<C>(task: BatchTask<C>, signal?: AbortSignal): Promise<ItemResult[]> {
    this.#inFlight += 1;
    // A batch may wait on nothing but its gate port, which is unref'd (as in a worker thread,
    // which the pool keeps alive). Here nothing else may hold the process open (an interrupted
    // run whose targets have ended, waiting for its last permits), so hold it while a batch runs.
    this.#hold ??= setInterval(() => undefined, 1 << 30);
    try {
      return await this.#run(await this.#runner, task, signal);
    } finally {
      this.#inFlight -= 1;
      if (this.#inFlight === 0) {
        clearInterval(this.#hold);
        this.#hold = undefined;
        for (const wake of this.#idle.splice(0)) wake();
      }
    }
  }

  /** Resolves once no batch is running here. */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #run<C>(runner: TaskRunner, task: BatchTask<C>, signal: AbortSignal | undefined): Promise<ItemResult[]> {
    const { port1, port2 } = new MessageChannel();
    this.#server.attach(port1);
    const t: WorkerTask<C> = { ...structuredClone(task), gatePort: port2 };
    if (signal === undefined) return runner.run(t as WorkerTask);
    const cancel = new MessageChannel();
    t.cancelPort = cancel.port2;
    const onAbort = (): void => cancel.port1.postMessage('cancel');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await runner.run(t as WorkerTask);
    } finally {
      signal.removeEventListener('abort', onAbort);
      cancel.port1.close();
    }
  }

  async close(): Promise<void> {
    const runner = await this.#runner.catch(() => undefined);
    await runner?.close();
    this.#server.close();
  }
}
