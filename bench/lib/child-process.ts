/**
 * The benchmarks' child processes: a side or a measurement that must own its process (its peak
 * RSS, its CPU) runs as `node --import tsx FILE '<args as JSON>'` and prints its result as the
 * last JSON line of stdout. The emulator itself runs through `startEmulatorProcess`
 * (src/emulator/emulator-process.ts), the same way `shadowfleet bench` and the demo run it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** Runs `file` under tsx with `args` as its one JSON argument; resolves with the last JSON line it printed. */
export async function runChild<T>(file: string, args: unknown, label: string): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${label} exited with ${code}`);
  return JSON.parse(text.trim().split('\n').pop()!) as T;
}

/** Writes `count` names, one a line, to `file` (a target list), honouring back-pressure. */
export async function writeNames(file: string, count: number, name: (i: number) => string): Promise<void> {
  const ws = createWriteStream(file);
  for (let i = 0; i < count; i++) if (!ws.write(`${name(i)}\n`)) await once(ws, 'drain');
  ws.end();
  await once(ws, 'finish');
}
