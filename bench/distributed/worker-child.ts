/**
 * A queue worker process for the distributed benchmark (the same loop as `shadowfleet worker`):
 * argument = JSON { redis, queue, prefix, id, concurrency }; JSON-lines logs on stderr; stops on SIGTERM.
 * SIGUSR2 logs the Redis calls it has sent so far (`{"msg":"redis calls","calls":N}`), so the
 * benchmark counts a measured run's calls without the warm-up's.
 */
import { QueueWorker } from '../../src/engine/queue/queue-worker.js';
import { RedisCallCounter } from '../../src/engine/queue/redis-connection.js';

const a = JSON.parse(process.argv[2] ?? '{}') as {
  redis: string;
  queue: string;
  prefix: string;
  id: string;
  concurrency?: number;
};
const counter = new RedisCallCounter();
const worker = await QueueWorker.start({
  counter,
  redisUrl: a.redis,
  queue: a.queue,
  prefix: a.prefix,
  gatePrefix: a.prefix,
  concurrency: a.concurrency ?? 2,
  workerId: a.id,
  log: (e) => process.stderr.write(`${JSON.stringify(e)}\n`),
});
process.on('SIGUSR2', () => process.stderr.write(`${JSON.stringify({ msg: 'redis calls', calls: counter.calls })}\n`));
process.once('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
