import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { type CliRun, runCli } from './spawn-cli.js';

const BEFORE = { fw: '1.4.0', led: 'off' };

/** The command line from source, as a user runs it (the shared helper; `onStart` sees the child). */
const cli = (args: string[], onStart?: (child: ChildProcess) => void): Promise<CliRun> =>
  runCli(args, onStart === undefined ? {} : { onStart });

async function lines(file: string): Promise<number> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => l.startsWith('{')).length;
  } catch {
    return 0;
  }
}

/**
 * Polls until `file` holds at least `n` JSON lines, or the child has exited (a state, not a time:
 * starting the CLI and its first wave take tens of seconds on a loaded machine).
 */
async function waitForLines(file: string, n: number, child: ChildProcess): Promise<void> {
  while (child.exitCode === null && child.signalCode === null) {
    if ((await lines(file)) >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${file} never reached ${n} lines before the CLI exited`);
}

// Each test spawns the CLI (tsx compiles it on start): generous timeouts for a busy machine.
describe('shadowfleet rollback', { timeout: 240_000 }, () => {
  let dir: string;
  let emu: Emulator;
  const names = Array.from({ length: 150 }, (_, i) => `valve-${String(i).padStart(3, '0')}`);
  let things: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sf-rollback-cli-'));
    emu = await startEmulator({
      quotas: 'off',
      simulateDevices: { delayMs: 20, unhealthyWhen: 'fw=1.5.0', unhealthyShare: 0.3 },
    });
    things = join(dir, 'things.txt');
    await writeFile(things, `${names.join('\n')}\n`);
  });
  afterAll(async () => {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  });

  const reset = (): Map<string, number> => {
    for (const t of names)
      expect(
        emu.store.update(
          t,
          undefined,
          JSON.stringify({ state: { desired: BEFORE, reported: { ...BEFORE, health: 'ok' } } }),
          Date.now(),
        ).ok,
      ).toBe(true);
    return new Map(names.map((t) => [t, emu.store.get(t)!.version]));
  };

  it('restores exactly what was written after the rollout was killed with SIGKILL mid-wave', async () => {
    const versions = reset();
    const spec = join(dir, 'kill.yaml');
    await writeFile(
      spec,
      [
        'desired: { fw: "2.0.0", led: "on" }',
        'waves:',
        '  - share: 20%',
        '    gate: { converged: 100%, within: 2m }',
        '  - share: 100%',
      ].join('\n'),
    );
    const journal = join(dir, 'kill.journal');
    const killed = await cli(
      [
        'rollout',
        '--endpoint',
        emu.url,
        '--things',
        things,
        '--spec',
        spec,
        '--journal',
        journal,
        '--yes',
        '--workers',
        '1',
        '--rate',
        '60',
      ],
      (child) => {
        // past the canary wave and its gate, in the middle of the second wave
        void waitForLines(`${journal}.intents`, 60, child).then(
          () => child.kill('SIGKILL'),
          () => child.kill('SIGKILL'),
        );
      },
    );
    expect(killed.signal).toBe('SIGKILL');
    const changed = names.filter((t) => emu.store.get(t)!.state.desired!.fw === '2.0.0');
    expect(changed.length).toBeGreaterThanOrEqual(30);
    expect(changed.length).toBeLessThan(names.length);

    const undone = await cli(['rollback', '--endpoint', emu.url, '--journal', journal, '--json']);
    expect(undone.code).toBe(0);
    const result = JSON.parse(undone.stdout) as { rolledBack: number; keptKeyCount: number; failed: number };
    expect(result).toMatchObject({ rolledBack: changed.length, keptKeyCount: 0, failed: 0 });
    for (const t of names) expect(emu.store.get(t)!.state.desired).toEqual(BEFORE);
    // the things the rollout never reached were not written by the rollout nor by the rollback
    for (const t of names)
      if (!changed.includes(t) && emu.store.get(t)!.version !== versions.get(t)) expect.fail(`${t} was written`);
  });

  it('exits 1 when a gate fails, prints its figures and the rollback, and a dry run of the rollback finds nothing left', async () => {
    reset();
    const spec = join(dir, 'bad.yaml');
    await writeFile(
      spec,
      [
        'desired: { fw: "1.5.0" }',
        `health: 'reported.health == "ok"'`,
        'waves:',
        '  - share: 30%',
        '    gate: { converged: 100%, healthy: 95%, within: 2m }',
        '  - share: 100%',
        'onGateFailure: rollback',
      ].join('\n'),
    );
    const journal = join(dir, 'bad.journal');
    const run = await cli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      things,
      '--spec',
      spec,
      '--journal',
      journal,
      '--yes',
      '--rate',
      'off',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/gate failed +wave 1 \(30%\): \d+ of \d+ things took the change and are unhealthy/);
    expect(run.stdout).toMatch(/rolled back +\d+ of \d+ written things/);
    expect(run.stdout).toMatch(/wave 2 \(100%\) +not run/);
    for (const t of names) expect(emu.store.get(t)!.state.desired).toEqual(BEFORE);
    const dry = await cli(['rollback', '--endpoint', emu.url, '--journal', journal, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run of a rollback');
    expect(dry.stdout).toMatch(/would restore +0/);
  });

  it('refuses a journal that is not a rollout journal, naming it', async () => {
    const bogus = join(dir, 'not-a-journal.txt');
    await writeFile(bogus, 'hello\n');
    const run = await cli(['rollback', '--endpoint', emu.url, '--journal', bogus]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bogus}: not a shadowfleet journal`);
  });
});
