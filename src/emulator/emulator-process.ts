/**
 * Runs the emulator in its own child process, so a benchmark or the demo never measures an
 * emulator sharing the engine's event loop (and a test can kill it). The child runs
 * emulator-main (from the TypeScript sources through tsx, from the build as plain JavaScript),
 * takes the options as JSON, and announces itself with `listening on URL` on stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { resolveEmulatorOptions, type EmulatorOptions } from './emulator-options.js';
import type { EmulatorStats } from './emulator-stats.js';

export interface EmulatorProcessOptions extends EmulatorOptions {
  /** How long to wait for the `listening on` line, ms. Default 60 s (tsx compiles the sources on a first start). */
  startTimeoutMs?: number;
}

export interface EmulatorProcess {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  url: string;
  pid: number;
  /** The emulator's counters (GET /_emulator/stats). */
  stats(): Promise<EmulatorStats>;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the child has exited. */
  close(): Promise<void>;
}

export const DEFAULT_EMULATOR_PROCESS_OPTIONS = Object.freeze({ startTimeoutMs: 60_000, killAfterMs: 5000 });

const HERE = import.meta.url;
const FROM_SOURCE = HERE.endsWith('.ts');

/** The node arguments that run the emulator's entry file from wherever this module runs. */
export function emulatorProcessCommand(): string[] {
  // tsx resolved here, not from the child's working directory (which may be anywhere).
  if (FROM_SOURCE) return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./emulator-main.ts', HERE))];
  return [fileURLToPath(new URL('./emulator-main.js', HERE))];
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A parent that exits (or crashes) must not leave an emulator behind.
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** Resolves with the URL of the child's `listening on` line; rejects (after stopping it) when it exits or stays silent. */
function waitForUrl(
  child: ChildProcess,
  timeoutMs: number,
  stderr: () => string,
  close: () => Promise<void>,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(`no "listening on" line within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      void close();
      const err = stderr().trim();
      reject(new ConfigError(`the emulator process did not start: ${why}${err ? `\n${err}` : ''}`));
    };
    const onData = (d: string): void => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        child.stdout!.resume(); // keep draining later output
        resolve(m[1]!.replace(/\/$/, ''));
      }
    };
    const onExit = (code: number | null, signal: string | null): void =>
      fail(`it exited with ${signal ?? `code ${code}`}`);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Starts an emulator in a child process and resolves once it listens. The options are the
 * EmulatorOptions of startEmulator (checked here first, so bad options throw before anything is
 * spawned; `port` defaults to 0, a free port) plus `startTimeoutMs`.
 */
export async function startEmulatorProcess(options: EmulatorProcessOptions = {}): Promise<EmulatorProcess> {
  const { startTimeoutMs = DEFAULT_EMULATOR_PROCESS_OPTIONS.startTimeoutMs, ...emulatorOptions } = options;
  resolveEmulatorOptions(emulatorOptions);
  killAllOnExit();
  const child = spawn(process.execPath, [...emulatorProcessCommand(), JSON.stringify(emulatorOptions)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    if (stderr.length < 8192) stderr += d;
  });

  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), DEFAULT_EMULATOR_PROCESS_OPTIONS.killAfterMs);
    await exited;
    clearTimeout(timer);
  };

  const url = await waitForUrl(child, startTimeoutMs, () => stderr, close);
  return {
    url,
    pid: child.pid!,
    async stats() {
      const res = await fetch(`${url}/_emulator/stats`);
      return (await res.json()) as EmulatorStats;
    },
    close,
  };
}
