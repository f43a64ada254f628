import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from './spawn-cli.js';

// Each test spawns the CLI (tsx compiles it on start): generous timeouts for a busy machine.
describe('sync, plan, apply and drift on the command line', { timeout: 240_000 }, () => {
  let source: Emulator;
  let dest: Emulator;
  let dir: string;
  let fleet: string;

  beforeAll(async () => {
    source = await startEmulator({ port: 0, quotas: 'off' });
    dest = await startEmulator({ port: 0, quotas: 'off' });
    dir = await mkdtemp(join(tmpdir(), 'sf-sync-cli-'));
    for (let i = 0; i < 12; i++)
      source.store.update(`c-${i}`, i % 3 === 0 ? 'config' : undefined, {
        state: { desired: { v: i }, reported: { v: i - 1 } },
      });
    fleet = join(dir, 'fleet.yaml');
    await writeFile(fleet, 'fleet: { all: true }\nrules:\n  - name: rate\n    desired: { hz: 5 }\n');
  });
  afterAll(async () => {
    await Promise.all([source?.close(), dest?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('syncs, then a watch pass over an unchanged source writes nothing, one JSON report per pass', async () => {
    const r = await runCli([
      'sync',
      '--from',
      source.url,
      '--to',
      dest.url,
      '--from-rate',
      'off',
      '--to-rate',
      'off',
      '--watch',
      '1ms',
      '--passes',
      '2',
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/shadowfleet:/);
    expect(r.code).toBe(0);
    const passes = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(passes.map((p) => [p.pass, p.written, p.sent])).toEqual([
      [1, 12, 12],
      [2, 0, 0],
    ]);
    expect(dest.store.get('c-3', 'config')!.state.desired).toEqual({ v: 3 });
  });

  it('refuses an unknown section with exit 2 before any request', async () => {
    const before = dest.stats().totals.requests;
    const r = await runCli(['sync', '--from', source.url, '--to', dest.url, '--sections', 'metadata']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--sections: expected desired, reported or both, got "metadata"');
    expect(dest.stats().totals.requests).toBe(before);
  });

  it('plans, applies, applies again with nothing to write, and reports drift with exit 1 once a shadow leaves the file', async () => {
    const plan = await runCli(['plan', fleet, '--endpoint', dest.url, '--rate', 'off']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/rate\s+classic\s+12\s+12\s+hz \(12\)/);
    const apply = await runCli(['apply', fleet, '--endpoint', dest.url, '--rate', 'off', '--json']);
    expect(apply.code).toBe(0);
    expect(JSON.parse(apply.stdout).written).toBe(12);
    const again = await runCli(['apply', fleet, '--endpoint', dest.url, '--rate', 'off', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ written: 0, rollouts: [] });
    const clean = await runCli(['drift', fleet, '--endpoint', dest.url, '--rate', 'off', '--max-lag', '1h']);
    expect(clean.code).toBe(0);
    dest.store.update('c-1', undefined, { state: { desired: { hz: 6 } } });
    const page = join(dir, 'drift.html');
    const drift = await runCli([
      'drift',
      fleet,
      '--endpoint',
      dest.url,
      '--rate',
      'off',
      '--max-lag',
      '1h',
      '--ndjson',
      '--report-page',
      page,
    ]);
    expect(drift.code).toBe(1);
    const lines = drift.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.state === 'desired-differs')).toEqual([
      expect.objectContaining({ thing: 'c-1', paths: ['hz'] }),
    ]);
    expect(await readFile(page, 'utf8')).toContain('c-1');
  });
});
