/**
 * The default BatchRunner: a piscina pool of worker threads on this host (workers/task-worker).
 * Each batch gets a MessagePort to the coordinator's GatePortServer, through which the thread's
 * gate asks the one account gate for permits in weighted batches.
 *
 * The threads start when the runner is built (minThreads = maxThreads), so building the engine
 * before reading targets or opening a journal overlaps thread start-up with that work. Until the
 * first thread has loaded the worker module (a few hundred ms on a busy machine), batches run on
 * this thread (InlineBatchRunner: the same handlers, gate and clients), so the first requests,
 * and the rate gate's initial burst, do not wait for the threads; from then on every batch goes
 * to the threads. Only with the default worker file: another one's handlers may differ.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { BatchRunner, BatchRunnerContext, BatchTask } from './batch-runner.js';
import { GatePortServer } from './gate-port-server.js';
import { InlineBatchRunner } from './inline-batch-runner.js';
import type { ItemResult, WorkerTask } from './task-types.js';
import { workerFile, type WorkerFile } from './worker-file.js';

export interface PoolBatchRunnerOptions extends BatchRunnerContext {
  /** The worker module (default: workers/task-worker via workerFile()). */
  workerFile?: WorkerFile;
}

export class PoolBatchRunner implements BatchRunner {
  #pool: Piscina<WorkerTask, ItemResult[]>;
  #server: GatePortServer;
  /** Runs batches until a thread is ready; undefined from then on (or with a custom worker file). */
  #warmUp: InlineBatchRunner | undefined;
  #warmUpDone: Promise<void> | undefined;

  constructor(options: PoolBatchRunnerOptions) {
    this.#server = new GatePortServer(options.gate);
    const wf = options.workerFile ?? workerFile('task-worker');
    this.#pool = new Piscina<WorkerTask, ItemResult[]>({
      filename: wf.filename,
      execArgv: wf.execArgv,
      // Workers keep keep-alive sockets open between tasks; Atomics.wait would park the thread
      // between tasks and stall those sockets' timers and callbacks.
      atomics: 'disabled',
      minThreads: options.workers,
      maxThreads: options.workers,
      concurrentTasksPerWorker: options.tasksPerWorker,
      idleTimeout: 30_000,
    });
    if (options.workerFile === undefined) {
      const inline = new InlineBatchRunner(options);
      this.#warmUp = inline;
      // The worker module's `ready` export answers once a thread has loaded it.
      this.#warmUpDone = this.#pool.run(undefined as never, { name: 'ready' }).then(
        () => this.#endWarmUp(inline),
        () => this.#endWarmUp(inline),
      );
    }
  }

  /** Batches already on this thread finish here; the runner closes after them. */
  async #endWarmUp(inline: InlineBatchRunner): Promise<void> {
    if (this.#warmUp !== inline) return;
    this.#warmUp = undefined;
    await inline.drained();
    await inline.close();
  }

  /**
   * Resolves once the warm-up is over: every batch from now on goes to the threads, and the
   * main thread's runner has finished its batches and closed its clients (their sockets).
   * At once without a warm-up (a custom worker file).
   */
  warmedUp(): Promise<void> {
    return this.#warmUpDone ?? Promise.resolve();
  }

  /** The pool's filled options (e.g. `atomics`), for inspection. */
  get poolOptions(): Readonly<Piscina['options']> {
    return this.#pool.options;
  }

  run<C>(task: BatchTask<C>, signal?: AbortSignal): Promise<ItemResult[]> {
    if (this.#warmUp !== undefined) return this.#warmUp.run(task, signal);
    const { port1, port2 } = new MessageChannel();
    this.#server.attach(port1);
    const t: WorkerTask<C> = { ...task, gatePort: port2 };
    if (signal === undefined) return this.#pool.run(t as WorkerTask, { transferList: [port2] });
    // A second port carries the interrupt into the thread, where it aborts the handler's signal.
    const cancel = new MessageChannel();
    t.cancelPort = cancel.port2;
    const onAbort = (): void => cancel.port1.postMessage('cancel');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    return this.#pool.run(t as WorkerTask, { transferList: [port2, cancel.port2] }).finally(() => {
      signal.removeEventListener('abort', onAbort);
      cancel.port1.close();
    });
  }

  async close(): Promise<void> {
    const inline = this.#warmUp;
    this.#warmUp = undefined;
    await Promise.all([this.#pool.destroy(), inline?.close(), this.#warmUpDone]);
    this.#server.close();
  }
}
