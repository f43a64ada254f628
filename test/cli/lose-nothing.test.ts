import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from './spawn-cli.js';

/**
 * An endpoint nothing listens on: port 1, below the range the system hands free ports out from.
 * A free port taken and closed again could be handed to another process (another run of the suite
 * on this machine) before the command connects to it.
 */
const CLOSED_ENDPOINT = 'http://127.0.0.1:1';

// Each test spawns the CLI (tsx compiles it on start): generous timeouts for a busy machine.
describe('the command line loses nothing and leaks nothing', { timeout: 120_000 }, () => {
  let emu: Emulator;
  let dir: string;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, quotas: 'off' });
    dir = await mkdtemp(join(tmpdir(), 'sf-lose-nothing-'));
  });
  afterAll(async () => {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses update --payload @/dev/zero with exit 2 and names the file, without reading it', async () => {
    const r = await runCli(['update', '--endpoint', emu.url, '--thing', 'z', '--payload', '@/dev/zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--payload: \/dev\/zero is a character device/);
  });

  it('refuses a --payload file beyond the limit, with the limit in the message, and a directory by its path', async () => {
    const big = join(dir, 'big.json');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(big, `{"state":{"desired":{"x":"${'a'.repeat(200_000)}"}}}`),
    );
    const r = await runCli(['update', '--endpoint', emu.url, '--thing', 'z', '--payload', `@${big}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--payload: ${big} is larger than the limit of 131072 bytes`);
    const d = await runCli(['update', '--endpoint', emu.url, '--thing', 'z', '--payload', `@${dir}`]);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain(`--payload: ${dir} is a directory`);
  });

  it('refuses rollout targets and specs that are devices or have endless lines, naming the file and the limit', async () => {
    const zero = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      '/dev/zero',
      '--set',
      '{"x":1}',
      '--journal',
      join(dir, 'zero.journal'),
    ]);
    expect(zero.stderr).toMatch(/targets: \/dev\/zero is a character device/);
    expect(zero.code).toBe(2);
    const long = join(dir, 'long-line.txt');
    await import('node:fs/promises').then((fs) => fs.writeFile(long, `ok-1\n${'x'.repeat(200_000)}\n`));
    const l = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      long,
      '--set',
      '{"x":1}',
      '--journal',
      join(dir, 'long.journal'),
    ]);
    expect(l.stderr).toContain(`${long}:2: a line longer than the limit of 65536 characters`);
    expect(l.code).toBe(2);
    const stdin = await runCli(
      ['rollout', '--endpoint', emu.url, '--things', '-', '--set', '{"x":1}', '--journal', join(dir, 'stdin.journal')],
      { input: 'y'.repeat(100_000) },
    );
    expect(stdin.stderr).toContain('<stdin>:1: a line longer than the limit of 65536 characters');
    expect(stdin.code).toBe(2);
    const spec = await runCli(['rollout', '--endpoint', emu.url, '--things', long, '--spec', '/dev/zero']);
    expect(spec.stderr).toMatch(/\/dev\/zero is a character device/);
    expect(spec.code).toBe(2);
    expect(emu.stats().totals.requests).toBe(0);
  });

  it('fails snapshot --out /proc/x at once with exit 2, naming /proc, having read nothing', async () => {
    const before = emu.stats().totals.requests;
    const r = await runCli(['snapshot', '--endpoint', emu.url, '--out', '/proc/shadowfleet-x', '--all-things']);
    expect(r.stderr).toMatch(/\/proc\/shadowfleet-x: \/proc is on procfs/);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/proc\/shadowfleet-x: \/proc is on procfs/);
    expect(emu.stats().totals.requests).toBe(before);
  });

  it('fails bench --report /proc/nope/x.html before the load starts, with exit 2 naming the path', async () => {
    const before = emu.stats().totals.requests;
    const r = await runCli(['bench', '--endpoint', emu.url, '--duration', '20s', '--report', '/proc/nope/x.html']);
    expect(r.stderr).toMatch(/report \/proc\/nope\/x\.html: \/proc is on procfs/);
    expect(r.code).toBe(2);
    expect(emu.stats().totals.requests).toBe(before);
  });

  it('refuses credentials in the endpoint URL for snapshot and bench, and never prints or stores them', async () => {
    const url = new URL(emu.url);
    const withCreds = `http://admin:hunter2-secret@${url.host}`;
    const out = join(dir, 'snap-creds');
    const s = await runCli(['snapshot', '--endpoint', withCreds, '--out', out, '--all-things']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--endpoint must not carry credentials/);
    expect(s.stdout + s.stderr).not.toContain('hunter2-secret');
    expect(existsSync(out)).toBe(false);
    const report = join(dir, 'bench-creds.html');
    const b = await runCli(['bench', '--endpoint', withCreds, '--duration', '1s', '--report', report]);
    expect(b.code).toBe(2);
    expect(b.stdout + b.stderr).not.toContain('hunter2-secret');
    expect(existsSync(report)).toBe(false);
    const e = await runCli(['get', '--thing', 't'], { env: { SHADOWFLEET_ENDPOINT: withCreds } });
    expect(e.code).toBe(2);
    expect(e.stdout + e.stderr).not.toContain('hunter2-secret');
  });

  describe('against a server that sends no timestamp and then goes away', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ results: ['config'] }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((r) => server.close(r));
    });

    it('list-named prints only what the server sent: no timestamp 0', async () => {
      const r = await runCli(['list-named', '--endpoint', url, '--thing', 'pump-1', '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ results: ['config'] });
    });

    it('a list-named error names the thing and never speaks of a classic shadow', async () => {
      const r = await runCli([
        'list-named',
        '--endpoint',
        CLOSED_ENDPOINT,
        '--thing',
        'pump-1',
        '--timeout-ms',
        '5000',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/ListNamedShadowsForThing.*thing "pump-1"/);
      expect(r.stderr).not.toMatch(/classic/);
    });
  });

  it('diff --live against an endpoint it cannot read names the failures and exits 1, reporting nothing as removed', async () => {
    const snap = join(dir, 'diff-base');
    const things = join(dir, 'diff-things.txt');
    await import('node:fs/promises').then((fs) => fs.writeFile(things, 'dl-1\ndl-2\n'));
    for (const t of ['dl-1', 'dl-2']) {
      const u = await runCli([
        'update',
        '--endpoint',
        emu.url,
        '--thing',
        t,
        '--payload',
        '{"state":{"desired":{"on":true}}}',
      ]);
      expect(u.code).toBe(0);
    }
    const s = await runCli(['snapshot', '--endpoint', emu.url, '--things', things, '--out', snap]);
    expect(s.code).toBe(0);
    const d = await runCli(['diff', snap, '--live', '--endpoint', CLOSED_ENDPOINT, '--rate', 'off', '--json']);
    expect(d.code).toBe(1);
    const result = JSON.parse(d.stdout);
    expect(result.summary.removed).toBe(0);
    expect(result.summary.unreadable).toBe(2);
    expect([...new Set(result.unreadable.items.map((f: { thing: string }) => f.thing))].sort()).toEqual([
      'dl-1',
      'dl-2',
    ]);
    const human = await runCli(['diff', snap, '--live', '--endpoint', CLOSED_ENDPOINT, '--rate', 'off']);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/could not read 2 things of the live fleet/);
    expect(human.stdout).toMatch(/! dl-1/);
  });

  it('snapshots a thing the server does not know as one with no shadows when ListNamedShadowsForThing answers 404', async () => {
    // An endpoint that answers as AWS does for an unknown thing: 404 ResourceNotFoundException to both calls.
    const aws = createServer((req, res) => {
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException:' });
      res.end(
        JSON.stringify({
          message: req.url?.includes('ListNamedShadowsForThing')
            ? 'No thing exists with name: ghost'
            : "No shadow exists with name: 'ghost'",
        }),
      );
    });
    await new Promise<void>((r) => aws.listen(0, '127.0.0.1', r));
    try {
      const things = join(dir, 'ghost.txt');
      await import('node:fs/promises').then((fs) => fs.writeFile(things, 'ghost\n'));
      const out = join(dir, 'ghost-snap');
      const r = await runCli([
        'snapshot',
        '--endpoint',
        `http://127.0.0.1:${(aws.address() as AddressInfo).port}`,
        '--things',
        things,
        '--out',
        out,
        '--json',
      ]);
      expect(r.code).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(result.failed).toBe(0);
      expect(result.manifest.counts).toEqual({ 'no-shadows': 1 });
      expect(result.manifest.failures.total).toBe(0);
    } finally {
      await new Promise((r) => aws.close(r));
    }
  });

  it('snapshot --overwrite against an endpoint it cannot read keeps the previous snapshot and exits 1', async () => {
    const things = join(dir, 'ow-things.txt');
    await import('node:fs/promises').then((fs) => fs.writeFile(things, 'ow-1\n'));
    const u = await runCli([
      'update',
      '--endpoint',
      emu.url,
      '--thing',
      'ow-1',
      '--payload',
      '{"state":{"desired":{"v":1}}}',
    ]);
    expect(u.code).toBe(0);
    const out = join(dir, 'ow-snap');
    expect((await runCli(['snapshot', '--endpoint', emu.url, '--things', things, '--out', out])).code).toBe(0);
    const before = await import('node:fs/promises').then((fs) => fs.readFile(join(out, 'manifest.json'), 'utf8'));
    const r = await runCli([
      'snapshot',
      '--endpoint',
      CLOSED_ENDPOINT,
      '--things',
      things,
      '--out',
      out,
      '--overwrite',
    ]);
    expect(r.stderr).toMatch(/snapshot not replaced: 1 things could not be read .* was kept/);
    expect(r.code).toBe(1);
    expect(await import('node:fs/promises').then((fs) => fs.readFile(join(out, 'manifest.json'), 'utf8'))).toBe(before);
    expect((await readdir(out)).filter((n) => n.includes('.partial'))).toEqual([]);
  });

  it('the snapshot library refuses an endpoint with credentials before anything is read or written', async () => {
    const { runSnapshot } = await import('../../src/jobs/snapshot/snapshot.js');
    const url = new URL(emu.url);
    const out = join(dir, 'lib-creds');
    const err = await runSnapshot({ endpoint: `http://admin:hunter2-secret@${url.host}`, out, things: ['t-1'] }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/endpoint must not carry credentials/);
    expect((err as Error).message).not.toContain('hunter2-secret');
    expect(existsSync(out)).toBe(false);
  });

  it('leaves no directory behind for a refused snapshot destination', async () => {
    expect(await readdir(dir)).not.toContain('snap-creds');
  });
});
