import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EMULATOR_OPTIONS, startEmulator, type Emulator } from '../../src/emulator/index.js';

/** A raw TCP connection to the emulator that records what the server sends and whether it closed. */
async function open(
  emulator: Emulator,
): Promise<{ socket: Socket; closed: Promise<{ data: string; error: Error | undefined }> }> {
  const socket = connect(emulator.port, emulator.host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let data = '';
  let error: Error | undefined;
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', (err) => (error = err));
  const closed = new Promise<{ data: string; error: Error | undefined }>((resolve) =>
    socket.once('close', () => resolve({ data, error })),
  );
  return { socket, closed };
}

const HEAD = 'POST /things/slow/shadow HTTP/1.1\r\nHost: emulator\r\nContent-Length: 100\r\n\r\n';

describe('connection limits', () => {
  it('default to a few seconds for headers, tens of seconds for a request, and thousands of connections', () => {
    expect(DEFAULT_EMULATOR_OPTIONS.headersTimeoutMs).toBe(10_000);
    expect(DEFAULT_EMULATOR_OPTIONS.bodyTimeoutMs).toBe(20_000);
    expect(DEFAULT_EMULATOR_OPTIONS.maxConnections).toBe(4096);
  });

  it('close a connection whose headers never finish with 408', { timeout: 30_000 }, async () => {
    const emulator = await startEmulator({ quotas: 'off', headersTimeoutMs: 200, bodyTimeoutMs: 60_000 });
    try {
      const { socket, closed } = await open(emulator);
      socket.write('GET /things/slow/shadow HTTP/1.1\r\nHost: emulator\r\n');
      const { data } = await closed;
      expect(data).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await emulator.close();
    }
  });

  it('close a connection whose body stalls with 408 and store nothing', { timeout: 30_000 }, async () => {
    const emulator = await startEmulator({ quotas: 'off', headersTimeoutMs: 100, bodyTimeoutMs: 300 });
    try {
      const { socket, closed } = await open(emulator);
      socket.write(HEAD + '{"state":');
      const { data } = await closed;
      expect(data).toMatch(/^HTTP\/1\.1 408 /);
      expect(emulator.store.get('slow')).toBeUndefined();
    } finally {
      await emulator.close();
    }
  });

  it('close connections beyond maxConnections cleanly and keep serving the open ones', {
    timeout: 30_000,
  }, async () => {
    const emulator = await startEmulator({ quotas: 'off', maxConnections: 2 });
    try {
      const a = await open(emulator);
      const b = await open(emulator);
      const c = await open(emulator);
      const refused = await c.closed;
      expect(refused).toEqual({ data: '', error: undefined });
      expect(emulator.stats().connectionsRefused).toBe(1);
      for (const conn of [a, b]) {
        const answered = new Promise<void>((resolve) =>
          conn.socket.on('data', (chunk: Buffer) => chunk.toString().startsWith('HTTP/1.1 404') && resolve()),
        );
        conn.socket.write('GET /things/none/shadow HTTP/1.1\r\nHost: emulator\r\n\r\n');
        await answered;
      }
      a.socket.end();
      await a.closed;
      // A slot is free again once the server has seen the close.
      let served = false;
      while (!served) {
        const d = await open(emulator);
        d.socket.write('GET /things/none/shadow HTTP/1.1\r\nHost: emulator\r\nConnection: close\r\n\r\n');
        served = (await d.closed).data.startsWith('HTTP/1.1 404');
      }
      b.socket.destroy();
    } finally {
      await emulator.close();
    }
  });

  it('refuses a body timeout shorter than the headers timeout, naming both', async () => {
    await expect(startEmulator({ headersTimeoutMs: 5000, bodyTimeoutMs: 1000 })).rejects.toThrow(
      'bodyTimeoutMs must be at least headersTimeoutMs (5000), got 1000',
    );
  });
});
