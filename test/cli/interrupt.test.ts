import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './spawn-cli.js';

// An endpoint that accepts connections and never answers: only an abort ends a request before its timeout.
describe('Ctrl-C against an endpoint that never answers', { timeout: 300_000 }, () => {
  let server: Server;
  let url: string;
  let dir: string;
  const sockets = new Set<Socket>();
  let requestsSeen = 0;

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => {
        requestsSeen += 1;
      });
      socket.on('close', () => sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'sf-interrupt-'));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('rollout aborts its requests in flight on SIGINT and exits 130 long before the request timeout, journal and report written', async () => {
    const things = join(dir, 'things.txt');
    await writeFile(things, Array.from({ length: 8 }, (_, i) => `hang-${i}`).join('\n') + '\n');
    const journal = join(dir, 'hang.journal');
    const report = join(dir, 'hang-report.ndjson');
    requestsSeen = 0;
    let sent = false;
    let signalled!: () => void;
    const signalSent = new Promise<void>((resolve) => (signalled = resolve));
    const exited = new Promise<CliRun>((resolve, reject) => {
      runCli(
        [
          'rollout',
          '--endpoint',
          url,
          '--things',
          things,
          '--set',
          '{"x":1}',
          '--journal',
          journal,
          '--report',
          report,
          '--request-timeout',
          '10m',
          '--rate',
          'off',
        ],
        {
          onStart: (child) => {
            // SIGINT once the endpoint holds requests (waits for a state, not for a time).
            const poll = setInterval(() => {
              if (requestsSeen > 0 && !sent) {
                sent = true;
                clearInterval(poll);
                child.kill('SIGINT');
                signalled();
              }
            }, 20);
            child.on('exit', () => clearInterval(poll));
          },
        },
      ).then(resolve, reject);
    });
    // The request timeout is 10 minutes: an exit within 60 s of SIGINT can only come from the
    // abort. The window opens at the signal, not at the start (starting the CLI takes seconds on
    // a loaded machine).
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      exited,
      signalSent.then(
        () =>
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('the rollout did not exit within 60 s of SIGINT')), 60_000);
          }),
      ),
    ]).finally(() => clearTimeout(timer));
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    const lines = (await readFile(journal, 'utf8')).trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    const outcomes = (await readFile(report, 'utf8'))
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.every((o: { outcome: string }) => o.outcome === 'failed')).toBe(true);
  });
});
