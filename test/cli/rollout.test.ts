import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { readJournal } from '../../src/engine/journal.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'src/cli/bin.ts');
const GOAL = { fw: '2.4.1' };

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `fileSizeLimitKiB` runs the CLI under `ulimit -f`: its writes to files past that size fail (EFBIG), like a full disk.
 * `holdStdin` leaves stdin open for `onStart` to write to and end.
 */
function cli(
  args: string[],
  opts: {
    input?: string;
    holdStdin?: boolean;
    onStart?: (child: ChildProcess) => void;
    fileSizeLimitKiB?: number;
  } = {},
): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const command = [process.execPath, '--import', 'tsx', BIN, ...args];
    const [file, ...argv] =
      opts.fileSizeLimitKiB === undefined
        ? command
        : ['bash', '-c', `ulimit -f ${opts.fileSizeLimitKiB} && exec "$@"`, 'bash', ...command];
    const child = spawn(file!, argv, {
      cwd: ROOT,
      env: {
        ...process.env,
        SHADOWFLEET_ENDPOINT: '',
        AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
        AWS_SECRET_ACCESS_KEY: 'local-secret',
        NO_COLOR: '1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else if (opts.holdStdin !== true) child.stdin.end();
    else child.stdin.on('error', () => undefined); // a write after the child exited (EPIPE) is no failure of the test
    opts.onStart?.(child);
  });
}

async function lineCount(file: string): Promise<number> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => l.startsWith('{"thingName"')).length;
  } catch {
    return 0;
  }
}

/**
 * Polls until the journal holds at least `n` results, or the child has exited (a state, not a
 * time: starting the CLI and its first results take tens of seconds on a loaded machine).
 */
async function waitForJournal(file: string, n: number, child: ChildProcess): Promise<void> {
  while (child.exitCode === null && child.signalCode === null) {
    if ((await lineCount(file)) >= n) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`journal ${file} never reached ${n} lines before the CLI exited`);
}

// Each test spawns the CLI (tsx compiles it on start): generous timeouts for a busy machine.
describe('shadowfleet rollout (command line)', { timeout: 300_000 }, () => {
  let emu: Emulator;
  let dir: string;
  let things: string;
  const names = Array.from({ length: 300 }, (_, i) => `cli-${String(i).padStart(4, '0')}`);

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, quotas: 'off' });
    dir = await mkdtemp(join(tmpdir(), 'sf-cli-rollout-'));
    things = join(dir, 'things.txt');
    await writeFile(things, names.join('\n') + '\n');
  });
  afterAll(async () => {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('skips a target name AWS would reject, names its file and line in the summary, and exits 1', async () => {
    const list = join(dir, 'bad-things.txt');
    await writeFile(list, 'good-1\nbad name\ngood-2\n');
    const r = await cli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      list,
      '--set',
      JSON.stringify(GOAL),
      '--journal',
      join(dir, 'bad.journal'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('finished with failures');
    expect(r.stdout).toContain('invalid targets    1 skipped');
    expect(r.stdout).toContain(`${list}:2: bad thing name`);
    expect(emu.store.get('good-1', undefined)).toBeDefined();
    expect(emu.store.get('good-2', undefined)).toBeDefined();
  });

  it('prints one JSON result on stdout and JSON progress events on stderr with --json, exiting 0', async () => {
    const list = join(dir, 'json-things.txt');
    await writeFile(list, 'json-1\njson-2\njson-3\n');
    const r = await cli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      list,
      '--set',
      JSON.stringify(GOAL),
      '--journal',
      join(dir, 'json.journal'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { ok: boolean; summary: { byOutcome: Record<string, number> } };
    expect(result.ok).toBe(true);
    expect(result.summary.byOutcome).toEqual({ written: 3 });
    const events = r.stderr
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; phase: string; final?: boolean });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.type === 'progress')).toBe(true);
    expect(events[events.length - 1]!.final).toBe(true);
    expect(emu.store.get('json-2')!.state.desired).toEqual(GOAL);
  });

  it('waits for simulated devices with --wait-converged and shows convergence as a share, not a pace', async () => {
    const devices = await startEmulator({ port: 0, quotas: 'off', simulateDevices: { delayMs: 20, silentShare: 0 } });
    try {
      const list = join(dir, 'converge-things.txt');
      await writeFile(list, 'conv-1\nconv-2\nconv-3\n');
      const r = await cli([
        'rollout',
        '--endpoint',
        devices.url,
        '--things',
        list,
        '--set',
        JSON.stringify(GOAL),
        '--journal',
        join(dir, 'converge.journal'),
        '--wait-converged',
        '30s',
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^rollout write: 3\/3 things, \d+\/s, 0 failed, 0 throttled$/m);
      expect(r.stderr).toMatch(/^rollout converge: 3\/3 things converged$/m);
      expect(r.stderr).not.toMatch(/converge.*\/s/);
      expect(devices.store.get('conv-2')!.state.reported).toMatchObject(GOAL);
    } finally {
      await devices.close();
    }
  });

  it('reads targets from stdin and prints a human summary on stdout', async () => {
    const r = await cli(
      [
        'rollout',
        '--endpoint',
        emu.url,
        '--things',
        '-',
        '--shadow',
        'cfg',
        '--set',
        '{"mode":"eco"}',
        '--journal',
        join(dir, 'stdin.journal'),
      ],
      {
        input: 'stdin-1\nstdin-2\n',
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rollout\s+done$/m);
    expect(r.stdout).toMatch(/^\s+written\s+2$/m);
    expect(emu.store.get('stdin-1', 'cfg')!.state.desired).toEqual({ mode: 'eco' });
  });

  it('exits 2 with one line on stderr for usage and spec errors, printing nothing on stdout', async () => {
    const none = await cli(['rollout', '--endpoint', emu.url, '--things', things]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe('shadowfleet: give the change with --spec FILE or --set JSON\n');

    const both = await cli(['rollout', '--endpoint', emu.url, '--things', things, '--set', '{}', '--spec', 'x.yaml']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('shadowfleet: --spec and --set cannot be used together\n');

    const spec = join(dir, 'bad.yaml');
    await writeFile(spec, 'desired: {a: 1}\nrate:\n  perSecond: -1\n');
    const bad = await cli(['rollout', '--endpoint', emu.url, '--things', things, '--spec', spec]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(`shadowfleet: ${spec}: rate.perSecond: expected a positive number, got -1\n`);

    const noEndpoint = await cli(['rollout', '--things', things, '--set', '{}']);
    expect(noEndpoint.code).toBe(2);
    expect(noEndpoint.stderr).toMatch(/^shadowfleet: no endpoint: pass --endpoint URL or set SHADOWFLEET_ENDPOINT/);

    const duration = await cli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      things,
      '--set',
      '{}',
      '--wait-converged',
      'soon',
    ]);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toBe('shadowfleet: --wait-converged: expected a duration like 90s or 5m, got "soon"\n');
  });

  it('exits 2 for malformed --ramp and --abort flags', async () => {
    const ramp = await cli(['rollout', '--endpoint', emu.url, '--things', things, '--set', '{}', '--ramp', '50:1:10']);
    expect(ramp.code).toBe(2);
    expect(ramp.stderr).toBe(
      'shadowfleet: --ramp: expected base:factor:every with base > 0, factor > 1 and a whole every > 0, got "50:1:10"\n',
    );
    const abort = await cli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      things,
      '--set',
      '{}',
      '--abort',
      'most:5:10',
    ]);
    expect(abort.code).toBe(2);
    expect(abort.stderr).toBe(
      'shadowfleet: --abort: expected type:percent:min with type failed, throttled, timed-out or all, got "most:5:10"\n',
    );
  });

  it('exits 1 and names the criterion when failures pass an --abort threshold', async () => {
    const failing = await startEmulator({
      port: 0,
      quotas: 'off',
      faults: { rate: 0, seed: 5, perOperation: { UpdateThingShadow: { rate: 1 } } },
    });
    try {
      const r = await cli([
        'rollout',
        '--endpoint',
        failing.url,
        '--things',
        things,
        '--set',
        '{"a":1}',
        '--abort',
        'all:50:10',
        '--batch-size',
        '4',
        '--workers',
        '1',
        '--yes',
        '--journal',
        join(dir, 'abort.journal'),
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /^rollout\s+aborted: abort criterion: \d+ of \d+ things \(100\.0%\) failed > 50% \(failureType all, minThings 10\)$/m,
      );
      expect(failing.stats().operations.GetThingShadow.requests).toBeLessThan(300);
    } finally {
      await failing.close();
    }
  });

  it('exits 2 above the blast-radius cap without --yes, and the dry run writes nothing', async () => {
    emu.resetStats();
    const capped = await cli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      things,
      '--set',
      JSON.stringify(GOAL),
      '--max-things',
      '100',
      '--journal',
      join(dir, 'cap.journal'),
    ]);
    expect(capped.code).toBe(2);
    expect(capped.stderr).toContain(
      'rollout targets more than 100 things (the blast-radius cap, safety.maxThings): confirm with --yes',
    );
    expect(emu.stats().totals.requests).toBe(0);

    const plan = await cli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      things,
      '--set',
      JSON.stringify(GOAL),
      '--dry-run',
      '--json',
      '--journal',
      join(dir, 'plan.journal'),
    ]);
    expect(plan.code).toBe(0);
    const result = JSON.parse(plan.stdout) as { plan: { wouldWrite: number; estimatedSeconds: number } };
    expect(result.plan.wouldWrite).toBe(300);
    expect(result.plan.estimatedSeconds).toBe(0.08);
    expect(emu.stats().operations.UpdateThingShadow.requests).toBe(0);
  });

  it('exits 1 when things fail and lists the failure in the per-thing report', async () => {
    await fetch(`${emu.url}/things/too-big/shadow`, {
      method: 'POST',
      body: JSON.stringify({ state: { reported: { blob: 'x'.repeat(8150) } } }),
    }).then((r) => r.arrayBuffer());
    const list = join(dir, 'fail-things.txt');
    await writeFile(list, 'too-big\nfits-1\n');
    const report = join(dir, 'fail.ndjson');
    const r = await cli([
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      list,
      '--set',
      JSON.stringify({ note: 'n'.repeat(100) }),
      '--report',
      report,
      '--journal',
      join(dir, 'fail.journal'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^rollout\s+finished with failures$/m);
    const lines = (await readFile(report, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { thing: string; outcome: string; error?: string });
    expect(lines.find((l) => l.thing === 'too-big')).toMatchObject({
      outcome: 'too-large',
      error: 'InvalidArgumentError',
    });
    expect(lines.find((l) => l.thing === 'fits-1')).toMatchObject({ outcome: 'written' });
  });

  it('finishes with --resume after the process is killed with SIGKILL, counting each thing once', async () => {
    const journal = join(dir, 'kill.journal');
    const report = join(dir, 'kill.ndjson');
    const args = [
      'rollout',
      '--endpoint',
      emu.url,
      '--set',
      JSON.stringify({ kill: 1 }),
      '--journal',
      journal,
      '--report',
      report,
      '--yes',
      '--workers',
      '1',
    ];
    // The killed run reads its targets from stdin, which gives it the first 100 and stays open:
    // it cannot finish before the kill, however fast or slow the machine.
    const killed = await cli([...args, '--things', '-', '--rate', '120'], {
      holdStdin: true,
      onStart: (child) => {
        child.stdin!.write(names.slice(0, 100).join('\n') + '\n');
        void waitForJournal(journal, 40, child).then(
          () => child.kill('SIGKILL'),
          () => child.kill('SIGKILL'),
        );
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    const before = await lineCount(journal);
    expect(before).toBeGreaterThanOrEqual(40);
    expect(before).toBeLessThan(300);

    const resumed = await cli([...args, '--things', things, '--resume', '--json']);
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout) as {
      summary: { things: number; resumed: number; byOutcome: Record<string, number> };
    };
    expect(result.summary.things).toBe(300);
    expect(result.summary.resumed).toBeGreaterThanOrEqual(before);
    const lines = (await readFile(report, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { thing: string });
    expect(lines).toHaveLength(300);
    expect(new Set(lines.map((l) => l.thing)).size).toBe(300);
    for (const n of names) expect(emu.store.get(n)!.state.desired).toMatchObject({ kill: 1 });
  });

  it('stops at once when the journal cannot be written (a full disk), says how to go on, and --resume finishes the rest', async () => {
    const journal = join(dir, 'full.journal');
    const args = [
      'rollout',
      '--endpoint',
      emu.url,
      '--things',
      things,
      '--set',
      JSON.stringify({ full: 1 }),
      '--journal',
      journal,
      '--yes',
      '--workers',
      '1',
      '--rate',
      '400',
    ];
    // 300 results need about 45 KiB of journal; 16 KiB holds about a third of them.
    const full = await cli(args, { fileSizeLimitKiB: 16 });
    expect(full.code).toBe(2);
    expect(full.stdout).toBe('');
    expect(full.stderr).toContain(
      `shadowfleet: ${journal}: journal write failed (EFBIG): the run stops after the work in flight`,
    );
    expect(full.stderr).toContain('run the same command with --resume');
    // Whole lines only: the write that met the limit may have left one torn line, which is skipped.
    let before = 0;
    const { torn } = await readJournal(journal, () => (before += 1));
    expect(torn).toBeLessThanOrEqual(1);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(300);

    const resumed = await cli([...args, '--resume', '--json']);
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout) as { summary: { things: number; resumed: number } };
    expect(result.summary.things).toBe(300);
    expect(result.summary.resumed).toBe(before);
    for (const n of names) expect(emu.store.get(n)!.state.desired).toMatchObject({ full: 1 });
  });

  it('drains and exits 130 with a partial report on SIGINT', async () => {
    const journal = join(dir, 'int.journal');
    const report = join(dir, 'int.ndjson');
    // Targets from stdin: the first 60, then the signal once 20 are journaled, then the rest once
    // the run has taken the signal. It cannot finish before SIGINT however fast the machine, and
    // it must not start the things that come after it.
    const r = await cli(
      [
        'rollout',
        '--endpoint',
        emu.url,
        '--things',
        '-',
        '--set',
        JSON.stringify({ int: 1 }),
        '--journal',
        journal,
        '--report',
        report,
        '--yes',
        '--rate',
        '100',
        '--workers',
        '1',
      ],
      {
        holdStdin: true,
        onStart: (child) => {
          child.stdin!.write(names.slice(0, 60).join('\n') + '\n');
          let stderr = '';
          const rest = (d: Buffer): void => {
            stderr += d.toString();
            if (!stderr.includes('SIGINT received')) return;
            child.stderr!.off('data', rest);
            child.stdin!.end(names.slice(60).join('\n') + '\n');
          };
          child.stderr!.on('data', rest);
          void waitForJournal(journal, 20, child).then(
            () => child.kill('SIGINT'),
            () => child.kill('SIGINT'),
          );
        },
      },
    );
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('SIGINT received');
    expect(r.stdout).toMatch(/^rollout\s+interrupted \(partial report written\)$/m);
    const summary = JSON.parse(await readFile(`${report}.summary.json`, 'utf8')) as {
      interrupted: boolean;
      summary: { things: number };
    };
    expect(summary.interrupted).toBe(true);
    expect(summary.summary.things).toBeLessThan(300);
    expect((await stat(report)).size).toBeGreaterThan(0);
    expect(await lineCount(journal)).toBe(summary.summary.things);
  });
});
