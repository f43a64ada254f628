/**
 * The emulator in its own process for the snapshot benchmark: `node --import tsx
 * bench/snapshot/emulator-child.ts '<EmulatorOptions as JSON>'`. Prints `listening on URL` and
 * closes on SIGTERM or when its parent's stdin closes (it never outlives the benchmark).
 */
import { startEmulator, type EmulatorOptions } from '../../src/emulator/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as EmulatorOptions;
const emu = await startEmulator({ ...options, port: 0, host: '127.0.0.1' });
process.stdout.write(`listening on ${emu.url}\n`);
let closing = false;
const close = (): void => {
  if (closing) return;
  closing = true;
  void emu.close().then(() => process.exit(0));
};
process.on('SIGTERM', close);
process.on('SIGINT', close);
process.stdin.on('end', close);
process.stdin.on('close', close);
process.stdin.resume();
