import { Command, CommanderError, Option } from 'commander';
import { EXIT, exitCodeForError, type CommandContext, type Runner } from './context.js';
import { defineServe } from './commands/serve.js';
import { defineDataPlaneCommands } from './commands/data-plane.js';
import { defineRollout } from './commands/rollout.js';
import { defineRollback } from './commands/rollback.js';
import { defineSnapshot, defineRestore, defineDiff } from './commands/snapshot.js';
import { defineBench } from './commands/bench.js';
import { defineDemo } from './commands/demo.js';
import { defineWorker } from './commands/worker.js';
import { defineStatus } from './commands/status.js';
import { defineAttach } from './commands/attach.js';
import { defineCancel } from './commands/cancel.js';
import { defineSync } from './commands/sync.js';
import { defineFleet } from './commands/fleet.js';
import { applyDistributedFlags, finishDistributed, type DistributedFlags } from './distributed-flags.js';

/** Also exported here, where the command tests take it from; the commands import it from context.ts. */
export type { Runner };

export interface MainIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Parses argv and runs one command. The only place that sets process.exitCode.
 * Exit codes: 0 all done, 1 some items failed or aborted on a threshold, 2 usage or
 * configuration error, 130 interrupted.
 */
export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  // The AWS SDK warns on Node 20 that its releases after January 2027 will need Node 22. The
  // versions this package installs are pinned by its lock file and support Node 20, so the
  // notice would only be noise on every command's stderr; a user can still opt back in.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts === 1) {
      stderr.write(`\nshadowfleet: ${sig} received, finishing in-flight work (press Ctrl-C again to stop at once)\n`);
      controller.abort(new Error(sig));
    } else {
      // A second interrupt means the user wants out now; the journal is append-only, so resume still works.
      process.exit(EXIT.INTERRUPTED);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ctx: CommandContext = {
    signal: controller.signal,
    out: (text) => void stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => void stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    stderrIsTTY: Boolean((stderr as { isTTY?: boolean }).isTTY),
  };

  let code: number = EXIT.OK;
  const run: Runner =
    (action) =>
    async (...args) => {
      // commander passes positional args first, then the options object, then the Command.
      const command = args[args.length - 1] as Command;
      const options = command.opts();
      const positional = args
        .slice(0, -2)
        .flat()
        .filter((a) => a !== undefined)
        .map(String);
      try {
        code = await action(options as never, ctx, positional);
      } catch (err) {
        code = exitCodeForError(err, ctx);
      }
      // Each command decides what an interrupt means: `serve` stops cleanly with 0, a job that
      // was cut short returns 130 itself (after writing its partial report).
    };

  const program = new Command();
  program
    .name('shadowfleet')
    .description('Bulk reads, rollouts, snapshots and benchmarks for AWS IoT device shadows')
    .version(await packageVersion())
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void stdout.write(s),
      writeErr: (s) => void stderr.write(s),
    });

  // Distributed runs (any command; job commands then run their batches on the Redis queue).
  program
    .option(
      '--redis <url>',
      'run job batches on a Redis queue (default: SHADOWFLEET_REDIS); worker/status/attach/cancel use it too',
    )
    .option('--queue <name>', 'queue name on Redis (keeps teams apart)', 'shadowfleet')
    .option('--detach', 'with --redis: submit the job, print its id and return (follow it with attach)')
    .addOption(new Option('--job-id <id>').hideHelp())
    .addOption(new Option('--adopt').hideHelp())
    .hook('preAction', (_program, action) =>
      applyDistributedFlags(action, program.opts<DistributedFlags>(), argv, stdout, stderr),
    )
    .hook('postAction', (_program, action) => finishDistributed(action, code));
  defineServe(program, run);
  defineDataPlaneCommands(program, run);
  defineRollout(program, run);
  defineRollback(program, run);
  defineSnapshot(program, run);
  defineRestore(program, run);
  defineDiff(program, run);
  defineBench(program, run);
  defineDemo(program, run);
  defineWorker(program, run);
  defineStatus(program, run);
  defineAttach(program, run, (takeOverArgv) => main(takeOverArgv));
  defineCancel(program, run);
  defineSync(program, run);
  defineFleet(program, run);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      code = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    } else {
      code = exitCodeForError(err, ctx);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  process.exitCode = code;
  return code;
}

async function packageVersion(): Promise<string> {
  const { VERSION } = await import('../input.js');
  return VERSION;
}
