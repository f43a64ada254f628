/**
 * The command-line processes of a test file that runs jobs on the real Redis: started from
 * source (tsx, resolved here: the commands may run in a temporary directory where `--import tsx`
 * would not resolve), their output collected, waited for, and every one of them stopped when
 * the file ends (SIGTERM, SIGKILL after 10 s: workers stop after their batches, and a test that
 * failed half-way leaves no process behind); and the Redis keys of a queue and of an account's
 * rate gate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { deleteKeys } from '../engine/queue/redis-fixture.js';
import { ROOT } from './spawn-cli.js';

const BIN = join(ROOT, 'src/cli/bin.ts');
const TSX = import.meta.resolve('tsx');

/** A unique queue name for one test file. */
export function testQueue(name: string): string {
  return `sftest-${name}-${process.pid}-${Date.now().toString(36)}`;
}

/** What a command printed, and its exit code. */
export interface CliOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** The exit code, once the process has exited and its output is read. */
  exited: Promise<number | null>;
  /** Resolves once stderr holds a match of `re`. */
  waitErr(re: RegExp): Promise<RegExpMatchArray>;
}

export class CliProcesses {
  readonly #started: ChildProcess[] = [];

  /** Starts `shadowfleet <args>` in `cwd`, with this process's environment and `env` over it. */
  start(args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv }): CliProc {
    const child = spawn(process.execPath, ['--import', TSX, BIN, ...args], {
      cwd: o.cwd,
      ...(o.env === undefined ? {} : { env: { ...process.env, ...o.env } }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#started.push(child);
    const p: CliProc = {
      child,
      stdout: '',
      stderr: '',
      exited: new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => resolve(code));
      }),
      waitErr(re) {
        return new Promise((resolve) => {
          const check = (): void => {
            const m = p.stderr.match(re);
            if (m !== null) {
              child.stderr?.off('data', check);
              resolve(m);
            }
          };
          child.stderr?.on('data', check);
          check();
        });
      },
    };
    // Registered before waitErr's listeners, so a check sees the chunk that matched.
    child.stdout?.on('data', (d: Buffer) => (p.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (p.stderr += d.toString()));
    return p;
  }

  /** Runs a command to its end. */
  async run(args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliProc & { code: number | null }> {
    const p = this.start(args, o);
    const code = await p.exited;
    return Object.assign(p, { code });
  }

  /** Stops every process started here: SIGTERM, then SIGKILL for any still running after 10 s. */
  async stopAll(): Promise<void> {
    const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;
    const started = this.#started;
    for (const c of started) if (alive(c)) c.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const c of started) if (alive(c)) c.kill('SIGKILL');
    }, 10_000);
    await Promise.all(started.map((c) => (alive(c) ? new Promise((resolve) => c.once('exit', resolve)) : undefined)));
    clearTimeout(killer);
  }
}

/** Polls `read()` until it matches `re`. */
export async function waitForText(read: () => string, re: RegExp): Promise<void> {
  while (!re.test(read())) await new Promise((r) => setTimeout(r, 100));
}

/** The rate gate keys of the account at `endpoint` (`<prefix>:gate:<host>:<port>:...`), with KEYS (SCAN would cover a part of a shared Redis per call). */
export function gateKeys(admin: Redis, endpoint: string): Promise<string[]> {
  return admin.keys(`*:gate:${new URL(endpoint).host}:*`);
}

/** Deletes the rate gate of the account at `endpoint` (its host:port only, not a longer port's with the same first digits). */
export async function deleteGateKeys(admin: Redis, endpoint: string): Promise<void> {
  await deleteKeys(admin, `shadowfleet:gate:${new URL(endpoint).host}:`);
}

/** Deletes the queue's keys and the rate gates of the accounts at `endpoints`. */
export async function deleteQueueKeys(
  admin: Redis,
  queue: string,
  endpoints: ReadonlyArray<string | undefined>,
): Promise<void> {
  await deleteKeys(admin, `shadowfleet:${queue}`);
  for (const e of endpoints) if (e !== undefined) await deleteGateKeys(admin, e);
}
