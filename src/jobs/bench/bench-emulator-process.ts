/**
 * Runs the emulator in its own child process (`shadowfleet serve --port 0`), so a benchmark or
 * the demo never measures an emulator sharing the engine's event loop. From the TypeScript
 * sources the child is `node --import tsx src/cli/bin.ts serve`, from the build
 * `node dist/src/cli/bin.js serve`. The child's first stdout line is `listening on URL`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.js';

export interface EmulatorProcessOptions {
  /** 'aws' (AWS large-region quotas, the emulator's default) or 'off'. */
  quotas?: 'aws' | 'off';
  accountRps?: number;
  thingRps?: number;
  faultRate?: number;
  latencyMs?: number;
  seed?: number;
  simulateDevices?: boolean;
  deviceDelayMs?: number;
  deviceSilentShare?: number;
  seedThings?: number;
  /** Extra `serve` flags, passed as given. */
  extraArgs?: string[];
  /** How long to wait for the `listening on` line. Default 60 s (tsx compiles on first start). */
  startTimeoutMs?: number;
}

export interface EmulatorProcess {
  url: string;
  pid: number;
  /** The emulator's counters (GET /_emulator/stats). */
  stats(): Promise<unknown>;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the child has exited. */
  close(): Promise<void>;
}

const HERE = import.meta.url;
const FROM_SOURCE = HERE.endsWith('.ts');

/** The node arguments that run the shadowfleet CLI from wherever this module runs. */
export function cliCommand(): string[] {
  // tsx resolved here, not from the child's working directory (which may be anywhere).
  if (FROM_SOURCE) return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../../cli/bin.ts', HERE))];
  return [fileURLToPath(new URL('../../cli/bin.js', HERE))];
}

function serveArgs(o: EmulatorProcessOptions): string[] {
  const args = ['serve', '--port', '0', '--host', '127.0.0.1'];
  if (o.quotas !== undefined) args.push('--quotas', o.quotas);
  if (o.accountRps !== undefined) args.push('--account-rps', String(o.accountRps));
  if (o.thingRps !== undefined) args.push('--thing-rps', String(o.thingRps));
  if (o.faultRate !== undefined) args.push('--fault-rate', String(o.faultRate));
  if (o.latencyMs !== undefined) args.push('--latency-ms', String(o.latencyMs));
  if (o.seed !== undefined) args.push('--seed', String(o.seed));
  if (o.simulateDevices) args.push('--simulate-devices');
  if (o.deviceDelayMs !== undefined) args.push('--device-delay-ms', String(o.deviceDelayMs));
  if (o.deviceSilentShare !== undefined) args.push('--device-silent-share', String(o.deviceSilentShare));
  if (o.seedThings !== undefined) args.push('--seed-things', String(o.seedThings));
  args.push(...(o.extraArgs ?? []));
  return args;
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

export async function startEmulatorProcess(options: EmulatorProcessOptions = {}): Promise<EmulatorProcess> {
  killAllOnExit();
  const child = spawn(process.execPath, [...cliCommand(), ...serveArgs(options)], {
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
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(`no "listening on" line within ${options.startTimeoutMs ?? 60_000} ms`), options.startTimeoutMs ?? 60_000);
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      void close();
      reject(new ConfigError(`the emulator process did not start: ${why}${stderr ? `\n${stderr.trim()}` : ''}`));
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
    const onExit = (code: number | null, signal: string | null): void => fail(`it exited with ${signal ?? `code ${code}`}`);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });

  return {
    url,
    pid: child.pid!,
    async stats() {
      const res = await fetch(`${url}/_emulator/stats`);
      return res.json();
    },
    close,
  };
}
