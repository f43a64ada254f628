import type { Command } from 'commander';
import { EXIT, type Runner } from '../context.js';
import { distributedFlags } from '../distributed-flags.js';

type CancelFlags = Record<string, never>;

/** `shadowfleet cancel JOB`: removes a distributed job's waiting batches, and tells its workers and submitter to stop. */
export function defineCancel(program: Command, run: Runner): void {
  program
    .command('cancel')
    .description(
      'Cancel a distributed job: its waiting batches are removed, workers abort its batches in hand, its submitter stops',
    )
    .argument('<job>', 'job id')
    .action(
      run<CancelFlags>(async (flags, ctx, args) => {
        const { cancelRun, redisUrlFrom } = await import('../../engine/queue/index.js');
        const url = redisUrlFrom(distributedFlags(flags).redis) as string;
        const id = args[0] as string;
        const { removed } = await cancelRun(url, id, { queue: distributedFlags(flags).queue ?? 'shadowfleet' });
        ctx.out(`cancelled ${id}: ${removed} waiting batch${removed === 1 ? '' : 'es'} removed`);
        return EXIT.OK;
      }),
    );
}
