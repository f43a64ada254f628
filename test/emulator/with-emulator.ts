import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';

export const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

/** An AWS SDK client aimed at an emulator; retries off so each error surfaces as sent. */
export function sdkClient(
  url: string,
  options: { maxAttempts?: number; credentials?: { accessKeyId: string; secretAccessKey: string } } = {},
): IoTDataPlaneClient {
  return new IoTDataPlaneClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { ...(options.credentials ?? CREDENTIALS) },
    maxAttempts: options.maxAttempts ?? 1,
  });
}

/** Starts an emulator for the file (port 0) and closes it afterwards. */
export function withEmulator(options: EmulatorOptions = {}): {
  readonly emulator: Emulator;
  readonly client: IoTDataPlaneClient;
} {
  const ctx = {} as { emulator: Emulator; client: IoTDataPlaneClient };
  beforeAll(async () => {
    ctx.emulator = await startEmulator(options);
    ctx.client = sdkClient(ctx.emulator.url);
  });
  afterAll(async () => {
    ctx.client?.destroy();
    await ctx.emulator?.close();
  });
  return ctx;
}

export const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
export const json = (b: Uint8Array | undefined): any => JSON.parse(text(b));
export const bytes = (v: unknown): Uint8Array => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

/** The error an SDK call rejects with (fails the test if it resolves). */
export async function sdkError(
  p: Promise<unknown>,
): Promise<{ name: string; message: string; status: number | undefined; requestId: string | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode, requestId: e.$metadata?.requestId };
  }
  throw new Error('expected the call to fail');
}

/**
 * Polls `check` until it returns true or the deadline passes. The deadline only bounds a hang
 * (a state reached at once on a fast machine may take seconds on a loaded one), so it is long.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  deadlineMs = 30_000,
  stepMs = 10,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
