/**
 * The piscina entry of every bulk task. One TaskRunner per thread (src/engine/task-runner.ts):
 * one IotDataClient per client config, its hooks wired to the thread's gate (account permits +
 * per-thing limit); the task's `kind` picks the handler from workers/handlers/index.ts.
 */
import { TaskRunner } from '../src/engine/task-runner.js';
import type { ItemResult, WorkerTask } from '../src/engine/task-types.js';
import { HANDLERS } from './handlers/index.js';

const runner = new TaskRunner(HANDLERS);

export default function runTask(task: WorkerTask): Promise<ItemResult[]> {
  return runner.run(task);
}

/** Answers once this thread has loaded the module (the pool runs batches inline until then). */
export function ready(): boolean {
  return true;
}
