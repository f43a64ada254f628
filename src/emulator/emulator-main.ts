/**
 * The entry file of an emulator in its own process (started by startEmulatorProcess, or by hand:
 * `node dist/src/emulator/emulator-main.js '{"port":0,"quotas":"off"}'`). Its one argument is
 * the EmulatorOptions as JSON. Its first stdout line is exactly `listening on http://HOST:PORT`;
 * SIGINT or SIGTERM closes the server and the process exits 0. Options the emulator refuses are
 * printed on stderr and the process exits 2, like a usage error of the CLI.
 */
import { isShadowError } from '../errors.js';
import { startEmulator } from './emulator.js';
import type { EmulatorOptions } from './emulator-options.js';

function fail(message: string): void {
  process.stderr.write(`shadowfleet emulator: ${message}\n`);
  process.exitCode = 2;
}

async function main(arg: string | undefined): Promise<void> {
  let options: EmulatorOptions;
  try {
    options = JSON.parse(arg ?? '{}') as EmulatorOptions;
  } catch (err) {
    fail(`the options argument is not JSON (${(err as Error).message})`);
    return;
  }
  const emulator = await startEmulator(options).catch((err: unknown) => {
    if (isShadowError(err) && err.code === 'SHADOW_ERR_INVALID_ARGUMENT') {
      fail(err.message);
      return undefined;
    }
    throw err;
  });
  if (emulator === undefined) return;
  const stop = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    void emulator.close().then(() => {
      process.exitCode = 0;
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`listening on ${emulator.url}\n`);
}

await main(process.argv[2]);
