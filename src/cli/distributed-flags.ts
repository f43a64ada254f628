/**
 * The distributed flags every command accepts (`--redis URL`, `--queue NAME`, `--detach`), and
 * what they do before a job command runs: with a Redis URL (flag or SHADOWFLEET_REDIS), check
 * that Redis answers (a clear error naming the URL, exit 2), then either start the job in a
 * detached process and print its id (`--detach`), or place the job's batches on the queue.
 * Without a Redis URL nothing changes and nothing touches Redis.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { CommanderError } from 'commander';
import { ConfigError } from '../input.js';

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
export const JOB_COMMANDS: ReadonlySet<string> = new Set(['rollout', 'snapshot', 'restore', 'diff', 'bench']);

let current: DistributedFlags = {};

/** The distributed flags as parsed for this command line. */
export function distributedFlags(): Readonly<DistributedFlags> {
  return current;
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
  command: string,
  flags: DistributedFlags,
  argv: readonly string[],
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Promise<void> {
  current = flags;
  if (!JOB_COMMANDS.has(command)) return;
  const q = await import('../engine/queue/index.js');
  const url = q.redisUrlFrom(flags.redis, process.env, false);
  if (url === undefined) {
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
  q.setJobPlacement(
    q.queuePlacement({
      redisUrl: url,
      queue,
      ...(flags.jobId === undefined ? {} : { runId: flags.jobId }),
      adopt: flags.adopt === true,
      detail: { argv: submittedArgv(argv), cwd: process.cwd() },
      onRun: (id) =>
        void stderr.write(`shadowfleet: job ${id} runs on queue "${queue}" (status: shadowfleet status ${id})\n`),
      // A cancel from anywhere acts as an interrupt: in-flight batches drain, partial report, exit 130.
      onCancel: () => void process.emit('SIGINT', 'SIGINT'),
    }),
  );
}
