import { isShadowError } from '../input.js';

/** Exit codes of the command-line contract (see README). */
export const EXIT = Object.freeze({ OK: 0, FAILED: 1, USAGE: 2, INTERRUPTED: 130 });

/** What every command action receives besides its parsed options. */
export interface CommandContext {
  /** Aborted on the first SIGINT/SIGTERM; long jobs drain and return a partial result. */
  readonly signal: AbortSignal;
  /** Results go here (stdout). */
  out(text: string): void;
  /** Progress and logs go here (stderr). */
  err(text: string): void;
  /** True when stderr is a terminal (progress bars are drawn only then). */
  readonly stderrIsTTY: boolean;
}

/** A command action: returns the exit code; main() is the only place that sets process.exitCode. */
export type CommandAction<O> = (options: O, ctx: CommandContext, args: string[]) => Promise<number>;

/** Wraps a command action so that its result (or error) becomes the process exit code (main() builds it). */
export type Runner = <O>(action: CommandAction<O>) => (...args: unknown[]) => Promise<void>;

/** Maps an error thrown by a command to an exit code, printing one clear line on stderr. */
export function exitCodeForError(err: unknown, ctx: Pick<CommandContext, 'err' | 'signal'>): number {
  if (ctx.signal.aborted) {
    // Say what the interrupt left behind (e.g. "nothing was written to ..."), then exit 130.
    if (isShadowError(err)) ctx.err(`shadowfleet: ${err.message}`);
    return EXIT.INTERRUPTED;
  }
  if (isShadowError(err)) {
    ctx.err(`shadowfleet: ${err.message}`);
    return err.code === 'SHADOW_ERR_INVALID_ARGUMENT' || err.code === 'SHADOW_ERR_CONFIG' ? EXIT.USAGE : EXIT.FAILED;
  }
  const message = err instanceof Error ? err.message : String(err);
  ctx.err(`shadowfleet: ${message}`);
  return EXIT.FAILED;
}
