/**
 * Progress on stderr, the same way for every long command: NDJSON events with --json; on a
 * terminal a cli-progress bar per phase (or a plain line where a command has no bar); otherwise
 * one plain line every few seconds, so logs stay readable. Results never go here.
 */
import type { CommandContext } from './context.js';

export interface Progress<P> {
  update(p: P): void;
  stop(): void;
}

/** What a phase bar shows for one progress event. */
export interface BarFrame {
  /** A new bar starts whenever the phase changes. */
  phase: string;
  /** cli-progress format, e.g. `rollout [{bar}] {percentage}% | {value}/{total}`. */
  format: string;
  done: number;
  /** Unknown totals grow with `done` (the bar then stays just short of full). */
  total: number | undefined;
  payload?: Record<string, unknown>;
}

export interface ProgressView<P> {
  /** The plain line for an event (logs, and terminals when `bar` gives nothing). */
  line(p: P): string;
  /** On a terminal: the bar frame for an event; undefined prints `line` (a message between bars), null shows nothing. */
  bar?(p: P): BarFrame | undefined | null;
  /** An event that must be shown now (a phase end, a message), not thinned out. */
  urgent?(p: P): boolean;
}

export interface ProgressOptions {
  json?: boolean;
  /** Plain lines at most this often, ms (urgent events always show). Default 5000. */
  everyMs?: number;
}

export async function createProgress<P extends object>(
  ctx: CommandContext,
  view: ProgressView<P>,
  options: ProgressOptions = {},
): Promise<Progress<P>> {
  if (options.json === true)
    return { update: (p) => ctx.err(JSON.stringify({ type: 'progress', ...p })), stop: () => {} };
  const lines = throttledLines(ctx, view, options.everyMs ?? 5000);
  if (!ctx.stderrIsTTY || view.bar === undefined) return lines;
  const bar = await PhaseBar.load();
  const frameOf = view.bar.bind(view);
  return {
    update: (p) => {
      const frame = frameOf(p);
      if (frame === null) return;
      if (frame === undefined) {
        bar.stop();
        ctx.err(view.line(p));
      } else {
        bar.show(frame);
      }
    },
    stop: () => bar.stop(),
  };
}

function throttledLines<P extends object>(ctx: CommandContext, view: ProgressView<P>, everyMs: number): Progress<P> {
  let last = 0;
  let lastLine = '';
  return {
    update: (p) => {
      const now = Date.now();
      const urgent = view.urgent?.(p) ?? (p as { final?: boolean }).final === true;
      if (!urgent && now - last < everyMs) return;
      const text = view.line(p);
      if (text === lastLine) return;
      last = now;
      lastLine = text;
      ctx.err(text);
    },
    stop: () => {},
  };
}

type CliProgress = typeof import('cli-progress');

/** One cli-progress bar at a time on stderr, replaced when the phase changes. */
class PhaseBar {
  readonly #cp: CliProgress;
  #bar: import('cli-progress').SingleBar | undefined;
  #phase = '';

  private constructor(cp: CliProgress) {
    this.#cp = cp;
  }

  /** cli-progress is loaded only when a bar is drawn (it is CommonJS: take its default export). */
  static async load(): Promise<PhaseBar> {
    const mod = await import('cli-progress');
    return new PhaseBar(((mod as unknown as { default?: CliProgress }).default ?? mod) as CliProgress);
  }

  show(f: BarFrame): void {
    if (this.#bar === undefined || this.#phase !== f.phase) {
      this.stop();
      this.#phase = f.phase;
      this.#bar = new this.#cp.SingleBar(
        { format: f.format, stream: process.stderr, hideCursor: true, etaBuffer: 50 },
        this.#cp.Presets.shades_classic,
      );
      this.#bar.start(f.total ?? f.done + 1, f.done, f.payload);
    }
    if (f.total !== undefined) this.#bar.setTotal(f.total);
    else if (f.done >= this.#bar.getTotal()) this.#bar.setTotal(f.done + 1);
    this.#bar.update(f.done, f.payload);
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
    this.#phase = '';
  }
}
