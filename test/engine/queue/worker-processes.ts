/** Starting and stopping queue worker processes for the distributed tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REDIS_URL } from './redis-fixture.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/queue-worker-process.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the first log line matching `pred`. */
  waitFor(pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWorker(env: {
  prefix: string;
  queue?: string;
  id: string;
  concurrency?: number;
  lockMs?: number;
}): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: {
      ...process.env,
      SF_REDIS: REDIS_URL,
      SF_PREFIX: env.prefix,
      SF_QUEUE: env.queue ?? 'shadowfleet',
      SF_WORKER_ID: env.id,
      SF_CONCURRENCY: String(env.concurrency ?? 2),
      SF_LOCK_MS: String(env.lockMs ?? 30000),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const watchers: Array<{
    pred: (e: Record<string, unknown>) => boolean;
    resolve: (e: Record<string, unknown>) => void;
  }> = [];
  let buf = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line) as Record<string, unknown>;
      } catch {
        e = { level: 'raw', msg: line };
      }
      logs.push(e);
      for (const w of [...watchers]) {
        if (w.pred(e)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    logs,
    exited,
    waitFor(pred) {
      const hit = logs.find(pred);
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve) => watchers.push({ pred, resolve }));
    },
  };
}

export async function stopWorker(w: WorkerProcess): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGTERM');
  await w.exited;
}
