import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { defineDataPlaneCommands } from '../../src/cli/commands/data-plane.js';
import { exitCodeForError, type CommandAction, type CommandContext } from '../../src/cli/context.js';
import type { Runner } from '../../src/cli/main.js';

const CREDS = { accessKeyId: 'AKIDCLITEST', secretAccessKey: 'cli-test-secret' };
const ENV_KEYS = { AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey };

/** Runs the data-plane commands in-process the way main() does, capturing stdout/stderr and the exit code. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CommandContext = {
    signal: new AbortController().signal,
    out: (t) => void out.push(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => void err.push(t.endsWith('\n') ? t : `${t}\n`),
    stderrIsTTY: false,
  };
  let code = 0;
  const run: Runner =
    <O>(action: CommandAction<O>) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      try {
        code = await action(command.opts() as O, ctx, args.slice(0, -2).flat().map(String));
      } catch (e) {
        code = exitCodeForError(e, ctx);
      }
    };
  const program = new Command()
    .exitOverride()
    .configureOutput({ writeOut: (s) => void out.push(s), writeErr: (s) => void err.push(s) });
  defineDataPlaneCommands(program, run);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.exitCode === 0 ? 0 : 2;
  }
  return { code, out: out.join(''), err: err.join('') };
}

let emu: Emulator;
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quotas: 'off', sigv4: { credentials: [CREDS] } });
  dir = await mkdtemp(join(tmpdir(), 'sf-cli-'));
  Object.assign(process.env, ENV_KEYS);
  delete process.env.SHADOWFLEET_ENDPOINT;
});

afterAll(async () => {
  process.env = saved;
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

describe('data-plane commands', () => {
  it('update then get prints the document, as JSON with --json', async () => {
    const u = await cli([
      'update',
      '--endpoint',
      emu.url,
      '--thing',
      'cli-1',
      '--payload',
      '{"state":{"desired":{"on":true}}}',
    ]);
    expect(u.code).toBe(0);
    expect(u.out).toContain('updated thing "cli-1" classic shadow: version 1');
    const g = await cli(['get', '--endpoint', emu.url, '--thing', 'cli-1', '--json']);
    expect(g.code).toBe(0);
    const doc = JSON.parse(g.out);
    expect(doc.state.desired).toEqual({ on: true });
    expect(doc.version).toBe(1);
    expect(g.err).toBe('');
  });

  it('reads the update payload from @file and targets a named shadow', async () => {
    const file = join(dir, 'update.json');
    await writeFile(file, '{"state":{"reported":{"fw":"2.0"}}}');
    const u = await cli([
      'update',
      '--endpoint',
      emu.url,
      '--thing',
      'cli-2',
      '--shadow',
      'firmware',
      '--payload',
      `@${file}`,
      '--json',
    ]);
    expect(u.code).toBe(0);
    expect(JSON.parse(u.out).state.reported).toEqual({ fw: '2.0' });
    const l = await cli(['list-named', '--endpoint', emu.url, '--thing', 'cli-2']);
    expect(l.out.trim()).toBe('firmware');
    const lj = await cli(['list-named', '--endpoint', emu.url, '--thing', 'cli-2', '--json', '--page-size', '10']);
    expect(JSON.parse(lj.out).results).toEqual(['firmware']);
  });

  it('delete prints the new version and a later get exits 1 with the error on stderr', async () => {
    await cli(['update', '--endpoint', emu.url, '--thing', 'cli-3', '--payload', '{"state":{"desired":{"x":1}}}']);
    const d = await cli(['delete', '--endpoint', emu.url, '--thing', 'cli-3', '--json']);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.out).version).toBe(2);
    const g = await cli(['get', '--endpoint', emu.url, '--thing', 'cli-3']);
    expect(g.code).toBe(1);
    expect(g.out).toBe('');
    expect(g.err).toContain('GetThingShadow failed with 404 ResourceNotFoundException: thing "cli-3" classic shadow');
  });

  it('publishes a retained message, reads it back and lists it as a table', async () => {
    const p = await cli([
      'publish',
      '--endpoint',
      emu.url,
      '--topic',
      'cli/alerts',
      '--payload',
      'hi there',
      '--qos',
      '1',
      '--retain',
      '--user-property',
      'site=berlin',
    ]);
    expect(p.code).toBe(0);
    expect(p.out).toContain('published 8 bytes to "cli/alerts" (qos 1, retained)');
    const g = await cli(['get-retained', '--endpoint', emu.url, '--topic', 'cli/alerts']);
    expect(g.out).toContain('payload:        hi there');
    expect(g.out).toContain('user properties: [{"site":"berlin"}]');
    const gj = await cli(['get-retained', '--endpoint', emu.url, '--topic', 'cli/alerts', '--json']);
    expect(Buffer.from(JSON.parse(gj.out).payload, 'base64').toString()).toBe('hi there');
    const l = await cli(['list-retained', '--endpoint', emu.url]);
    expect(l.out).toMatch(/^topic\s+qos\s+bytes\s+last modified\n-+/);
    expect(l.out).toMatch(/cli\/alerts\s+1\s+8\s+20\d\d-/);
    const lj = await cli(['list-retained', '--endpoint', emu.url, '--json', '--max-results', '5']);
    expect(JSON.parse(lj.out).retainedTopics[0]).toMatchObject({ topic: 'cli/alerts', qos: 1, payloadSize: 8 });
  });

  it.each([
    [['get', '--thing', 'cli-1'], 'no data endpoint'],
    [['get', '--endpoint', 'http://127.0.0.1:1', '--thing', 'bad name'], 'invalid thingName'],
    [['update', '--endpoint', 'http://127.0.0.1:1', '--thing', 't', '--payload', '{oops'], 'payload is not valid JSON'],
    [['update', '--endpoint', 'http://127.0.0.1:1', '--thing', 't'], '--payload is required'],
    [['publish', '--endpoint', 'http://127.0.0.1:1', '--topic', 't', '--qos', '2'], '--qos must be 0 or 1'],
    [
      ['list-named', '--endpoint', 'http://127.0.0.1:1', '--thing', 't', '--page-size', '0'],
      '--page-size must be an integer from 1 to 100',
    ],
    [['get', '--endpoint', 'http://127.0.0.1:1'], "required option '--thing <name>' not specified"],
  ])('exits 2 for the usage error in %j', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.out).toBe('');
  });
});

describe('the shadowfleet binary', () => {
  const exec = promisify(execFile);
  const bin = (args: string[], env: Record<string, string> = {}) =>
    exec(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], {
      env: { ...process.env, ...ENV_KEYS, ...env },
      timeout: 30_000,
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('exits 0 and prints only the JSON document on stdout', async () => {
    await cli(['update', '--endpoint', emu.url, '--thing', 'bin-1', '--payload', '{"state":{"desired":{"a":1}}}']);
    const r = await bin(['get', '--thing', 'bin-1', '--json'], { SHADOWFLEET_ENDPOINT: emu.url });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).state.desired).toEqual({ a: 1 });
  });

  it('exits 1 for a service error and 2 for a usage error', async () => {
    expect((await bin(['get', '--endpoint', emu.url, '--thing', 'missing-thing'])).code).toBe(1);
    const usage = await bin(['get', '--endpoint', emu.url, '--thing', 'bad name']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('invalid thingName');
  });
});
