import type { Command } from 'commander';
import { EXIT, type Runner } from '../context.js';
import { distributedFlags } from '../distributed-flags.js';
import { formatJson, formatPairs, formatTable } from '../output.js';

interface StatusFlags {
  json?: boolean;
}

/** `shadowfleet status JOB`: a distributed job's state, counts and per-worker throughput, read from Redis (any host). */
export function defineStatus(program: Command, run: Runner): void {
  program
    .command('status')
    .description('Show a distributed job (or the latest jobs) from Redis: state, counts, per-worker throughput')
    .argument('[job]', 'job id (as printed by --detach); none lists the latest jobs')
    .option('--json', 'print one JSON document')
    .action(
      run<StatusFlags>(async (flags, ctx, args) => {
        const { connectRedis, redactRedisUrl, QueueNames, RunStore, redisUrlFrom, validateRunId } = await import(
          '../../engine/queue/index.js'
        );
        const url = redisUrlFrom(distributedFlags(flags).redis) as string;
        const names = new QueueNames(distributedFlags(flags).queue ?? 'shadowfleet');
        const redis = await connectRedis(url);
        try {
          const store = new RunStore(redis, names);
          const id = args[0];
          if (id === undefined) {
            const list = [];
            for (const runId of await store.list(20)) {
              const s = await store.status(runId);
              if (s !== undefined) list.push(s);
            }
            if (flags.json === true) ctx.out(formatJson(list));
            else if (list.length === 0) ctx.out(`no jobs on queue "${names.queue}"`);
            else
              ctx.out(
                formatTable(
                  list.map((s) => ({
                    job: s.id,
                    kind: s.kind,
                    state: s.state,
                    done: s.done,
                    queued: s.items,
                    failed: s.failed,
                    started: new Date(s.createdAt).toISOString(),
                  })),
                ),
              );
            return EXIT.OK;
          }
          const s = await store.status(validateRunId(id));
          if (s === undefined) {
            ctx.err(`shadowfleet: no job "${id}" on queue "${names.queue}" at ${redactRedisUrl(url)}`);
            return EXIT.USAGE;
          }
          if (flags.json === true) {
            ctx.out(formatJson(s));
            return EXIT.OK;
          }
          ctx.out(
            formatPairs([
              ['job', s.id],
              ['kind', s.kind],
              ['state', s.state],
              ['submitter', s.submitter],
              ['started', new Date(s.createdAt).toISOString()],
              ['queued', `${s.items} things in ${s.batches} batches${s.sourceDone ? '' : ' (still queueing)'}`],
              ['done', `${s.done}${s.failed > 0 ? ` (${s.failed} failed)` : ''}`],
              [
                'outcomes',
                Object.entries(s.byOutcome)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', ') || '-',
              ],
              ['requests', `${s.requests} (${s.throttles} throttled)`],
            ]),
          );
          if (s.workers.length > 0) {
            ctx.out(
              formatTable(
                s.workers.map((w) => ({
                  worker: w.worker,
                  things: w.items,
                  batches: w.batches,
                  'things/s': Math.round(w.itemsPerSecond),
                  'last seen': new Date(w.lastSeenAt).toISOString(),
                })),
              ),
            );
          }
          return EXIT.OK;
        } finally {
          redis.disconnect();
        }
      }),
    );
}
