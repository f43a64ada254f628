/**
 * The distributed flags every command accepts (`--redis URL`, `--queue NAME`, `--detach`), and
 * what they do before a job command runs: with a Redis URL (flag or SHADOWFLEET_REDIS), check
 * that Redis answers (a clear error naming the URL, exit 2), then either start the job in a
 * detached process and print its id (`--detach`), or build the job's placement on the queue
 * and hand it to that command (its options' `placement`, read with `placementFrom`): one
 * command line, one placement, one run id, however many JobRuns the job opens. After the
 * command, `finishDistributed` ends the run. Without a Redis URL nothing changes and nothing
 * touches Redis.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { type Command, CommanderError } from 'commander';
import { ConfigError } from '../input.js';
import type { JobPlacement, QueuePlacement } from '../engine/queue/index.js';

export interface DistributedFlags {
  redis?: string;
  queue?: string;
  detach?: boolean;
  /** Internal: the run id a detached submitter or a take-over uses. */
  jobId?: string;
  /** Internal: take over the run `jobId` (its submitter died). */
  adopt?: boolean;
}

/** The commands whose batches may run on the queue. */
export const JOB_COMMANDS: ReadonlySet<string> = new Set([
  'rollout',
  'snapshot',
  'restore',
  'diff',
  'bench',
  'sync',
  'plan',
  'apply',
  'drift',
]);

/** The option a job command's placement rides in (set on the command before its action runs). */
const PLACEMENT_OPTION = 'placement';

/** The placement `applyDistributedFlags` built for this command (undefined: the local thread pool). */
export function placementFrom(flags: object): JobPlacement | undefined {
  return (flags as { [PLACEMENT_OPTION]?: JobPlacement })[PLACEMENT_OPTION];
}

/** Runs after a job command's action (main.ts's postAction hook): ends its run on the queue, if any. */
export async function finishDistributed(command: Command, exitCode: number): Promise<void> {
  const placement = command.getOptionValue(PLACEMENT_OPTION) as QueuePlacement | undefined;
  // Exit 2 is a usage or configuration error: the job did not run as submitted.
  await placement?.finish(exitCode === 2 ? 'failed' : 'done');
}

/** The option the program's distributed flags ride in on the command that runs (set before its action). */
const DISTRIBUTED_OPTION = 'distributed';

/** The distributed flags of this command line, from a command's own flags (its action's first argument). */
export function distributedFlags(flags: object): Readonly<DistributedFlags> {
  return (flags as { [DISTRIBUTED_OPTION]?: DistributedFlags })[DISTRIBUTED_OPTION] ?? {};
}

/** The command line without the internal and detach flags (what `attach` re-runs). */
export function submittedArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--detach' || a === '--adopt') continue;
    if (a === '--job-id') {
      i += 1;
      continue;
    }
    if (a.startsWith('--job-id=')) continue;
    out.push(a);
  }
  return out;
}

/** Runs before a command's action (main.ts's preAction hook). */
export async function applyDistributedFlags(
  action: Command,
  flags: DistributedFlags,
  argv: readonly string[],
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Promise<void> {
  action.setOptionValue(DISTRIBUTED_OPTION, flags);
  const command = action.name();
  if (!JOB_COMMANDS.has(command)) return;
  // The queue entry (BullMQ, ioredis: 0.1-0.3 s of CPU at start-up, more on a busy machine)
  // loads only when a Redis URL is given.
  const wanted = flags.redis !== undefined || (process.env.SHADOWFLEET_REDIS ?? '') !== '';
  const q = wanted ? await import('../engine/queue/index.js') : undefined;
  const url = q?.redisUrlFrom(flags.redis, process.env, false);
  if (q === undefined || url === undefined) {
    if (flags.detach === true)
      throw new ConfigError('--detach needs --redis URL (or SHADOWFLEET_REDIS): a detached job runs on the queue');
    return;
  }
  const queue = q.validateQueueName(flags.queue ?? q.DEFAULT_QUEUE_NAME);
  const redis = await q.connectRedis(url);
  if (flags.detach === true) {
    const id = q.newRunId();
    // The record exists before this returns, so `attach`/`status` work at once; the detached
    // submitter counts as alive for its first 60 s while it starts.
    const store = new q.RunStore(redis, new q.QueueNames(queue));
    await store.create(
      id,
      { kind: command, detail: { argv: submittedArgv(argv), cwd: process.cwd() } },
      'detached (starting)',
    );
    await redis.hset(new q.QueueNames(queue).run(id), 'submitterSeenAt', Date.now() + 60_000);
    redis.disconnect();
    const log = `shadowfleet-${id}.log`;
    const fd = openSync(log, 'a');
    const child = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1] as string, ...submittedArgv(argv), '--job-id', id],
      { detached: true, stdio: ['ignore', fd, fd], env: process.env },
    );
    child.unref();
    stdout.write(`${id}\n`);
    stderr.write(
      `shadowfleet: job ${id} submitted to queue "${queue}"; its submitter logs to ${log}. Follow it: shadowfleet attach ${id}\n`,
    );
    // Ends the command line here with exit code 0: the job runs on in the detached process.
    throw new CommanderError(0, 'shadowfleet.detached', '');
  }
  redis.disconnect();
  const placement = q.queuePlacement({
    redisUrl: url,
    queue,
    ...(flags.jobId === undefined ? {} : { runId: flags.jobId }),
    adopt: flags.adopt === true,
    kind: command,
    detail: { argv: submittedArgv(argv), cwd: process.cwd() },
    onRun: (id) =>
      void stderr.write(`shadowfleet: job ${id} runs on queue "${queue}" (status: shadowfleet status ${id})\n`),
    // A cancel from anywhere acts as an interrupt: in-flight batches drain, partial report, exit 130.
    onCancel: () => void process.emit('SIGINT', 'SIGINT'),
  });
  action.setOptionValue(PLACEMENT_OPTION, placement);
}
