/**
 * Which file a worker thread loads. From TypeScript sources (tests, tsx) the pool points at
 * `workers/<name>.ts` and preloads tsx in the thread (Node 20 cannot load .ts in a worker on its
 * own); from the build it points at `dist/workers/<name>.js`. The choice is made here only.
 */
import { fileURLToPath } from 'node:url';
import type { TaskHandler, TaskKind } from './task-types.js';

export interface WorkerFile {
  /** file: URL of the worker module. */
  filename: string;
  /** Node flags for the thread (`--import <tsx>` when running from .ts). */
  execArgv: string[];
}

const HERE = import.meta.url;
const FROM_SOURCE = HERE.endsWith('.ts');

/** `name` without extension, e.g. 'task-worker'. */
export function workerFile(name = 'task-worker'): WorkerFile {
  if (FROM_SOURCE) {
    // src/engine/worker-file.ts -> ../../workers/<name>.ts
    // tsx is resolved from this package, not from the current directory, so running from source
    // works wherever the process was started.
    return {
      filename: new URL(`../../workers/${name}.ts`, HERE).href,
      execArgv: ['--import', import.meta.resolve('tsx')],
    };
  }
  // dist/src/engine/worker-file.js -> ../../workers/<name>.js (dist/workers)
  return { filename: new URL(`../../workers/${name}.js`, HERE).href, execArgv: [] };
}

/** The worker file path (not URL), for messages. */
export function workerPath(name = 'task-worker'): string {
  return fileURLToPath(workerFile(name).filename);
}

/**
 * The thread pool's task handlers (workers/handlers/index), loaded into this thread from beside
 * the pool's worker file, for running batches without a worker thread (the inline runner, a
 * queue worker).
 */
export async function loadTaskHandlers(): Promise<Readonly<Partial<Record<TaskKind, TaskHandler<never>>>>> {
  const mod = (await import(workerFile('handlers/index').filename)) as {
    HANDLERS: Readonly<Partial<Record<TaskKind, TaskHandler<never>>>>;
  };
  return mod.HANDLERS;
}
