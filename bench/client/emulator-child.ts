/**
 * The benchmark's emulator, in its own process so its CPU is not billed to the client under
 * test. Prints one JSON line `{ "url": ... }` on stdout when listening; exits when stdin closes.
 */
import { startEmulator } from '../../src/emulator/index.js';

const emulator = await startEmulator({ port: 0, host: '127.0.0.1', quotas: 'off' });
process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
const stop = async (): Promise<void> => {
  await emulator.close();
  process.exit(0);
};
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
