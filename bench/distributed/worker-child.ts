/**
 * A queue worker process for the distributed benchmark (the same loop as `shadowfleet worker`):
 * argument = JSON { redis, queue, prefix, id, concurrency }; JSON-lines logs on stderr; stops on SIGTERM.
 */
import { QueueWorker } from '../../src/engine/queue/queue-worker.js';

const a = JSON.parse(process.argv[2] ?? '{}') as {
  redis: string;
  queue: string;
  prefix: string;
  id: string;
  concurrency?: number;
};
const worker = await QueueWorker.start({
  redisUrl: a.redis,
  queue: a.queue,
  prefix: a.prefix,
  gatePrefix: a.prefix,
  concurrency: a.concurrency ?? 2,
  workerId: a.id,
  log: (e) => process.stderr.write(`${JSON.stringify(e)}\n`),
});
process.once('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
