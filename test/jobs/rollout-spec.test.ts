import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, InvalidArgumentError } from '../../src/errors.js';
import {
  loadRolloutSpec,
  parseDuration,
  parseInlineDesired,
  parseRolloutSpec,
} from '../../src/jobs/rollout/rollout-spec.js';

function specError(text: string, file = 'rollout.yaml'): string {
  try {
    parseRolloutSpec(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the spec to be rejected');
}

describe('rollout spec', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sf-spec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('parses a full YAML spec into rollout options with durations in milliseconds', () => {
    const spec = parseRolloutSpec(
      [
        'shadow: config',
        'desired: { fw: "2.4.1", telemetry: { period: 30 } }',
        'rate: { perSecond: 2000, thingPerSecond: 10, thingInFlight: 5 }',
        'ramp: { baseRate: 50, factor: 2, everySucceeded: 500 }',
        'abort:',
        '  - { failureType: all, thresholdPercentage: 5, minThings: 200 }',
        '  - { failureType: throttled, thresholdPercentage: 1 }',
        'attempts: 7',
        'timeouts: { request: 10s, run: 30m }',
        'safety: { maxThings: 100000, maxDeletes: 0, allowDeletes: false }',
        'workers: 2',
        'waitConverged: 1m30s',
      ].join('\n'),
      'rollout.yaml',
    );
    expect(spec).toEqual({
      shadowName: 'config',
      desired: { fw: '2.4.1', telemetry: { period: 30 } },
      rate: { perSecond: 2000, thingPerSecond: 10, thingInFlight: 5 },
      ramp: { baseRate: 50, factor: 2, everySucceeded: 500 },
      abort: [
        { failureType: 'all', thresholdPercentage: 5, minThings: 200 },
        { failureType: 'throttled', thresholdPercentage: 1, minThings: 0 },
      ],
      attempts: 7,
      timeouts: { requestMs: 10_000, runMs: 1_800_000 },
      safety: { maxThings: 100000, maxDeletes: 0, allowDeletes: false },
      workers: 2,
      waitConvergedMs: 90_000,
    });
  });

  it('accepts JSON, treats shadow classic as the classic shadow and a single abort mapping as a list', () => {
    const spec = parseRolloutSpec(
      JSON.stringify({
        shadow: 'classic',
        desired: { a: 1 },
        abort: { failureType: 'failed', thresholdPercentage: 10, minThings: 5 },
      }),
      'rollout.json',
    );
    expect(spec).toEqual({
      desired: { a: 1 },
      abort: [{ failureType: 'failed', thresholdPercentage: 10, minThings: 5 }],
    });
  });

  it('resolves a transform module path relative to the spec file', () => {
    const spec = parseRolloutSpec('transform: ./bump.mjs\n', '/etc/fleet/rollouts/rollout.yaml');
    expect(spec.transform).toBe('/etc/fleet/rollouts/bump.mjs');
    expect(parseRolloutSpec('transform: /opt/t.mjs\n', 'rollout.yaml').transform).toBe('/opt/t.mjs');
  });

  it('names the file and the field path of a bad rate', () => {
    expect(specError('desired: {a: 1}\nrate:\n  perSecond: -1\n')).toBe(
      'rollout.yaml: rate.perSecond: expected a positive number, got -1',
    );
    expect(specError('desired: {a: 1}\nrate:\n  perSecond: fast\n')).toBe(
      'rollout.yaml: rate.perSecond: expected a positive number, got "fast"',
    );
  });

  it('lists every problem of a spec, one per line, with list indexes in the path', () => {
    expect(specError('desired: {a: 1}\nabort:\n  - failureType: nope\n    thresholdPercentage: 120\n')).toBe(
      'rollout.yaml: abort[0].failureType: expected one of failed, throttled, timed-out, all\n' +
        'rollout.yaml: abort[0].thresholdPercentage: expected a percentage from 0 to 100, got 120',
    );
    expect(specError('desired: {a: 1}\nramp: {baseRate: 10, factor: 1, everySucceeded: 0.5, facter: 2}\n')).toBe(
      'rollout.yaml: ramp.factor: expected a number greater than 1, got 1\n' +
        'rollout.yaml: ramp.everySucceeded: expected a positive integer, got 0.5\n' +
        'rollout.yaml: ramp.facter: unknown field',
    );
  });

  it('reports the fields of a single abort mapping without a list index', () => {
    expect(specError('desired: {a: 1}\nabort: {failureType: all, thresholdPercentage: 120}\n')).toBe(
      'rollout.yaml: abort.thresholdPercentage: expected a percentage from 0 to 100, got 120',
    );
  });

  it('requires exactly one of desired and transform', () => {
    expect(specError('shadow: config\n')).toBe(
      'rollout.yaml: (root): expected desired (a merge document) or transform (a module path)',
    );
    expect(specError('desired: {a: 1}\ntransform: ./t.mjs\n')).toBe(
      'rollout.yaml: (root): give either desired or transform, not both',
    );
    expect(specError('desired: [1, 2]\n')).toBe('rollout.yaml: desired: expected an object (a desired merge document)');
  });

  it('rejects unknown top-level fields, bad durations, and a ramp above the quota', () => {
    expect(specError('desired: {a: 1}\nworkerz: 2\n')).toBe('rollout.yaml: workerz: unknown field');
    expect(specError('desired: {a: 1}\ntimeouts: {request: 10x}\n')).toBe(
      'rollout.yaml: timeouts.request: expected a duration like 90s or 5m, got "10x"',
    );
    expect(specError('desired: {a: 1}\nwaitConverged: soon\n')).toBe(
      'rollout.yaml: waitConverged: expected a duration like 90s or 5m, got "soon"',
    );
    expect(
      specError(
        'desired: {a: 1}\nrate: {perSecond: 100}\nramp: {baseRate: 10, factor: 2, everySucceeded: 5, maxRate: 200}\n',
      ),
    ).toBe('rollout.yaml: ramp.maxRate: expected at most rate.perSecond');
    expect(specError('desired: {a: 1}\nsafety: {maxThings: -3}\n')).toBe(
      'rollout.yaml: safety.maxThings: expected a whole number >= 0, got -3',
    );
  });

  it('rejects a document that is not a mapping and YAML syntax errors with the line', () => {
    expect(specError('- 1\n- 2\n')).toBe('rollout.yaml: (root): expected a mapping of rollout settings');
    expect(specError('desired: {a: 1\n')).toMatch(/^rollout\.yaml:2: /);
    expect(specError('desired: {a: 1}\ndesired: {b: 2}\n')).toMatch(/^rollout\.yaml:2: Map keys must be unique/);
  });

  it('loads a spec file and names it in messages, including a missing file', async () => {
    const file = join(dir, 'rollout.yaml');
    await writeFile(file, 'desired: {a: 1}\nattempts: 0\n');
    await expect(loadRolloutSpec(file)).rejects.toThrow(`${file}: attempts: expected a positive integer, got 0`);
    await expect(loadRolloutSpec(join(dir, 'missing.yaml'))).rejects.toThrow(
      `${join(dir, 'missing.yaml')}: cannot read the rollout spec (ENOENT)`,
    );
  });

  it('parses durations with units, compounds and bare seconds', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('45')).toBe(45_000);
    expect(parseDuration(2)).toBe(2000);
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
  });

  it('parses the inline --set document and names the flag when it is not an object', () => {
    expect(parseInlineDesired('{"fw":"2.4.1"}')).toEqual({ fw: '2.4.1' });
    expect(() => parseInlineDesired('[1]')).toThrow(InvalidArgumentError);
    expect(() => parseInlineDesired('[1]')).toThrow('--set: expected a JSON object');
    expect(() => parseInlineDesired('{fw:')).toThrow(/^--set: expected a JSON object \(/);
  });
});
