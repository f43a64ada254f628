/**
 * One place for the rollout's options: a spec file, a command-line flag and a library call go
 * through the same schema and say the same thing about the same bad value, each naming its
 * source (the file, the flag; a library option needs none: its field path is its name).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRolloutOptions, parseRolloutSpec, runRollout } from '../../src/jobs/rollout/rollout.js';
import { runCli } from './spawn-cli.js';

const cli = (args: string[]) => runCli(args);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sf-rollout-options-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MESSAGE = 'rate.perSecond: expected a positive number, got 0';
const ok = { endpoint: 'http://127.0.0.1:9', targets: ['a'], desired: { a: 1 } };

describe('rollout options', { timeout: 120_000 }, () => {
  it('word a zero rate the same from a spec file, a library call and a flag, each naming its source', async () => {
    expect(() => parseRolloutSpec('desired: {a: 1}\nrate: {perSecond: 0}\n', 'rollout.yaml')).toThrow(
      `rollout.yaml: ${MESSAGE}`,
    );
    await expect(runRollout({ ...ok, rate: { perSecond: 0 } })).rejects.toThrow(new RegExp(`^${MESSAGE}$`));
    const things = join(dir, 'things.txt');
    await writeFile(things, 'a\n');
    const run = await cli([
      'rollout',
      '--endpoint',
      'http://127.0.0.1:9',
      '--things',
      things,
      '--set',
      '{"a":1}',
      '--rate',
      '0',
    ]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`shadowfleet: --rate: ${MESSAGE}\n`);
  });

  it('checks the fields the flags set with the flag named as the source, every problem a line', () => {
    const flagOf: Record<string, string> = {
      'rate.perSecond': '--rate',
      workers: '--workers',
      'safety.maxThings': '--max-things',
    };
    expect(() =>
      checkRolloutOptions(
        { rate: { perSecond: 'fast' }, workers: 1.5, safety: { maxThings: -1 } },
        (field) => flagOf[field],
      ),
    ).toThrow(
      '--rate: rate.perSecond: expected a positive number, got "fast"\n' +
        '--workers: workers: expected a positive integer, got 1.5\n' +
        '--max-things: safety.maxThings: expected a whole number >= 0, got -1',
    );
    expect(() =>
      checkRolloutOptions({ rate: 'off', workers: 2, batchSize: 10, safety: { maxThings: 0 } }),
    ).not.toThrow();
  });

  it('refuses in the library what the spec refuses, with the same words', async () => {
    await expect(runRollout({ ...ok, ramp: { baseRate: 10, factor: 1, everySucceeded: 5 } })).rejects.toThrow(
      'ramp.factor: expected a number greater than 1, got 1',
    );
    expect(() =>
      parseRolloutSpec('desired: {a: 1}\nramp: {baseRate: 10, factor: 1, everySucceeded: 5}\n', 'r.yaml'),
    ).toThrow('r.yaml: ramp.factor: expected a number greater than 1, got 1');
    await expect(runRollout({ ...ok, safety: { maxThings: -1 } })).rejects.toThrow(
      'safety.maxThings: expected a whole number >= 0, got -1',
    );
    await expect(runRollout({ ...ok, requestAttempts: 0 })).rejects.toThrow(
      'requestAttempts: expected a positive integer, got 0',
    );
  });
});
