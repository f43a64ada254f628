import type { Command } from 'commander';
import { EXIT, type Runner } from '../context.js';
import { distributedFlags } from '../distributed-flags.js';
import { positiveIntFlag } from '../flags.js';

interface WorkerFlags {
  concurrency?: string;
  lockMs?: string;
  id?: string;
}

/**
 * `shadowfleet worker`: takes batches of distributed jobs from a Redis queue and runs them with
 * this host's own client and credentials. Logs JSON lines on stderr; on SIGINT/SIGTERM it takes
 * no new batch, finishes the ones in hand and exits 0.
 */
export function defineWorker(program: Command, run: Runner): void {
  program
    .command('worker')
    .description('Take batches of distributed jobs from a Redis queue and run them (JSON-lines logs on stderr)')
    .option('--concurrency <n>', 'batches worked on at once (default 2)')
    .option('--lock-ms <n>', "a batch's lock: a dead worker's batch is taken again after this (default 30000)")
    .option('--id <name>', 'worker name in logs and status (default host:pid)')
    .action(
      run<WorkerFlags>(async (flags, ctx) => {
        const { QueueWorker, redisUrlFrom } = await import('../../engine/queue/index.js');
        const redisUrl = redisUrlFrom(distributedFlags(flags).redis) as string;
        const concurrency = positiveIntFlag('--concurrency', flags.concurrency);
        const lockDurationMs = positiveIntFlag('--lock-ms', flags.lockMs);
        const log = (e: Record<string, unknown>): void =>
          ctx.err(JSON.stringify({ time: new Date().toISOString(), ...e }));
        const worker = await QueueWorker.start({
          redisUrl,
          queue: distributedFlags(flags).queue ?? 'shadowfleet',
          log,
          ...(concurrency === undefined ? {} : { concurrency }),
          ...(lockDurationMs === undefined ? {} : { lockDurationMs }),
          ...(flags.id === undefined ? {} : { workerId: flags.id }),
        });
        if (!ctx.signal.aborted)
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        await worker.close();
        return EXIT.OK;
      }),
    );
}
