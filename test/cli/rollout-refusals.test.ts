import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from './spawn-cli.js';

/**
 * An endpoint nothing listens on: port 1, below the range the system hands free ports out from.
 * A free port taken and closed again could be handed to another process (another run of the suite
 * on this machine) before the command connects to it.
 */
const CLOSED_ENDPOINT = 'http://127.0.0.1:1';

// Each test spawns the CLI (tsx compiles it on start): generous timeouts for a busy machine.
describe('rollout: nothing written before everything is checked, and reports that are true', {
  timeout: 180_000,
}, () => {
  let emu: Emulator;
  let dir: string;
  let things: string;
  const names = Array.from({ length: 20 }, (_, i) => `rf-${String(i).padStart(2, '0')}`);
  const requests = (): number => emu.stats().totals.requests;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, quotas: 'off' });
    dir = await mkdtemp(join(tmpdir(), 'sf-rollout-refusals-'));
    things = join(dir, 'things.txt');
    await writeFile(things, names.join('\n') + '\n');
  });
  afterAll(async () => {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  });
  let before = 0;
  beforeEach(() => {
    before = requests();
  });

  const rollout = (...args: string[]) => runCli(['rollout', '--endpoint', emu.url, '--things', things, ...args]);

  it.each([
    ['a number beyond a double', ['--set', '{"x":1e400}'], /1e400/],
    ['a null in an array', ['--set', '{"x":[null]}'], /desired: the change can never be applied/],
    [
      'a document deeper than 6 levels',
      ['--set', '{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}'],
      /desired: the change can never be applied/,
    ],
    ['more than 8 KB of state', ['--set', JSON.stringify({ big: 'x'.repeat(9000) })], /more than the 8192 bytes/],
    [
      'a shadow name AWS rejects',
      ['--set', '{"x":1}', '--shadow', 'bad/name'],
      /shadow: "bad\/name" is not a shadow name/,
    ],
  ])('refuses %s with exit 2 before the first request', async (_what, args, message) => {
    const r = await rollout(...args, '--journal', join(dir, `j-${Math.random()}.journal`));
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(requests()).toBe(before);
  });

  it('refuses a spec whose shadow is a name AWS rejects, with exit 2 before the first request', async () => {
    const spec = join(dir, 'bad-shadow.yaml');
    await writeFile(spec, 'shadow: bad/name\ndesired:\n  x: 1\n');
    const r = await rollout('--spec', spec, '--journal', join(dir, 'spec.journal'));
    expect(r.stderr).toMatch(/shadow: "bad\/name" is not a shadow name/);
    expect(r.code).toBe(2);
    expect(requests()).toBe(before);
  });

  it('checks --report-page before the run: a bad path exits 2 having written nothing', async () => {
    const r = await rollout(
      '--set',
      '{"x":2}',
      '--journal',
      join(dir, 'page.journal'),
      '--report-page',
      '/proc/nope/x.html',
    );
    expect(r.stderr).toMatch(/--report-page \/proc\/nope\/x\.html: \/proc is on procfs/);
    expect(r.code).toBe(2);
    expect(requests()).toBe(before);
  });

  it('refuses --report /dev/full before the first request instead of printing done', async () => {
    const r = await rollout('--set', '{"x":3}', '--journal', join(dir, 'full.journal'), '--report', '/dev/full');
    expect(r.stderr).toMatch(/report \/dev\/full is not a regular file/);
    expect(r.code).toBe(2);
    expect(requests()).toBe(before);
  });

  it('names the path when --things is a directory or --journal DIR --resume is given', async () => {
    const t = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      '/etc',
      '--set',
      '{"x":1}',
      '--journal',
      join(dir, 'etc.journal'),
    ]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('/etc');
    const jdir = join(dir, 'journal-dir');
    await mkdir(jdir);
    const j = await rollout('--set', '{"x":1}', '--journal', jdir, '--resume');
    expect(j.code).toBe(2);
    expect(j.stderr).toContain(jdir);
    expect(requests()).toBe(before);
  });

  it('leaves an existing report untouched when a resume is refused for a mismatched journal or the blast-radius cap', async () => {
    const journal = join(dir, 'keep.journal');
    const report = join(dir, 'keep-report.ndjson');
    const first = await rollout('--set', '{"keep":1}', '--journal', journal, '--report', report);
    expect(first.code).toBe(0);
    const good = await readFile(report, 'utf8');
    expect(good.trim().split('\n')).toHaveLength(20);
    const mismatch = await rollout('--set', '{"keep":2}', '--journal', journal, '--resume', '--report', report);
    expect(mismatch.stderr).toMatch(/different change/);
    expect(mismatch.code).toBe(2);
    expect(await readFile(report, 'utf8')).toBe(good);
    const capped = await rollout(
      '--set',
      '{"keep":3}',
      '--journal',
      join(dir, 'cap.journal'),
      '--report',
      report,
      '--max-things',
      '5',
    );
    expect(capped.stderr).toMatch(/blast-radius cap/);
    expect(capped.code).toBe(2);
    expect(await readFile(report, 'utf8')).toBe(good);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  it('bills only requests the server answered: connections that never reached it cost nothing', async () => {
    const r = await runCli([
      'rollout',
      '--endpoint',
      CLOSED_ENDPOINT,
      '--things',
      things,
      '--set',
      '{"b":1}',
      '--journal',
      join(dir, 'closed.journal'),
      '--json',
    ]);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result.summary.failed).toBe(20);
    expect(result.summary.requests).toBeGreaterThan(0);
    expect(result.summary.billedOperations).toBe(0);
  });

  it('counts on resume only the things that are targets again, not every journal entry', async () => {
    const journal = join(dir, 'count.journal');
    const first = await rollout('--set', '{"count":1}', '--journal', journal, '--json');
    expect(first.code).toBe(0);
    const fewer = join(dir, 'fewer.txt');
    await writeFile(fewer, names.slice(0, 12).join('\n') + '\n');
    const r = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      fewer,
      '--set',
      '{"count":1}',
      '--journal',
      journal,
      '--resume',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.summary.things).toBe(12);
    expect(result.summary.resumed).toBe(12);
  });
});
