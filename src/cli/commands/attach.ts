import type { Command } from 'commander';
import { EXIT, type CommandContext, type Runner } from '../context.js';
import { distributedFlags } from '../distributed-flags.js';
import { formatPairs } from '../output.js';

interface AttachFlags {
  staleMs?: string;
}

/** A submitter that has not beaten for this long is taken to be gone. */
const DEFAULT_STALE_MS = 5000;

/**
 * `shadowfleet attach JOB`: follows a distributed job from anywhere (progress on stderr, a
 * summary on stdout, the exit code of the job). When the job's submitter is gone (killed, its
 * host lost), attach takes the job over: it runs the submitted command again in the submitter's
 * directory with `--resume`, as the same job; the batches the old submitter queued and did not
 * collect are waited for and their results adopted (each thing counted once), the rest is
 * queued as usual, and the journal, outcome file and report come out as from a local run.
 */
export function defineAttach(
  program: Command,
  run: Runner,
  /** Runs a command line in this process (main itself; main imports this module, not the other way). */
  takeOverWith: (argv: string[]) => Promise<number>,
): void {
  program
    .command('attach')
    .description('Follow a distributed job from anywhere; take it over when its submitter is gone')
    .argument('<job>', 'job id')
    .option('--stale-ms <n>', 'a submitter silent this long is gone (default 5000)')
    .action(
      run<AttachFlags>(async (flags, ctx, args) => {
        const q = await import('../../engine/queue/index.js');
        const url = q.redisUrlFrom(distributedFlags(flags).redis) as string;
        const queue = distributedFlags(flags).queue ?? q.DEFAULT_QUEUE_NAME;
        const id = q.validateRunId(args[0]);
        const staleMs = flags.staleMs === undefined ? DEFAULT_STALE_MS : Number(flags.staleMs);
        const redis = await q.connectRedis(url);
        const store = new q.RunStore(redis, new q.QueueNames(queue));
        let takeOver: { argv: string[]; cwd: string } | undefined;
        try {
          for (;;) {
            const s = await store.status(id);
            if (s === undefined) {
              ctx.err(`shadowfleet: no job "${id}" on queue "${queue}" at ${q.redactRedisUrl(url)}`);
              return EXIT.USAGE;
            }
            if (s.state !== 'running') return summary(ctx, s);
            if (Date.now() - s.submitterSeenAt > staleMs) {
              const d = s.detail as { argv?: unknown; cwd?: unknown } | null;
              if (d === null || !Array.isArray(d.argv) || typeof d.cwd !== 'string') {
                ctx.err(
                  `shadowfleet: job ${id}'s submitter is gone and the job does not say how it was submitted; it cannot be taken over`,
                );
                return EXIT.FAILED;
              }
              takeOver = { argv: d.argv.map(String), cwd: d.cwd };
              break;
            }
            ctx.err(
              `job ${id} (${s.kind}): ${s.done} of ${s.items} queued things done${s.failed > 0 ? `, ${s.failed} failed` : ''}; ${s.workers.length} worker(s)`,
            );
            if (ctx.signal.aborted) return EXIT.INTERRUPTED;
            await new Promise((r) => setTimeout(r, 1000));
          }
        } finally {
          redis.disconnect();
        }
        ctx.err(`shadowfleet: job ${id}'s submitter is gone; taking the job over in ${takeOver.cwd}`);
        process.chdir(takeOver.cwd);
        const argv = [...takeOver.argv];
        if (argv.includes('--journal') && !argv.includes('--resume')) argv.push('--resume');
        return takeOverWith([...argv, '--redis', url, '--queue', queue, '--job-id', id, '--adopt']);
      }),
    );
}

function summary(
  ctx: CommandContext,
  s: {
    id: string;
    kind: string;
    state: string;
    done: number;
    items: number;
    failed: number;
    byOutcome: Record<string, number>;
  },
): number {
  ctx.out(
    formatPairs([
      ['job', s.id],
      ['kind', s.kind],
      ['state', s.state],
      ['done', `${s.done} of ${s.items}${s.failed > 0 ? ` (${s.failed} failed)` : ''}`],
      [
        'outcomes',
        Object.entries(s.byOutcome)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || '-',
      ],
    ]),
  );
  if (s.state === 'cancelled') return EXIT.INTERRUPTED;
  return s.failed > 0 ? EXIT.FAILED : EXIT.OK;
}
