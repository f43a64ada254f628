import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import { parseWavesSpec, waveLabel } from '../../src/jobs/rollout/waves/wave-spec.js';

const parse = (yaml: string, file = '/specs/rollout.yaml') => parseWavesSpec(parseYaml(yaml), file);

function problems(yaml: string): string {
  try {
    parse(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the waves to be rejected');
}

describe('wave spec', () => {
  it('parses the vocabulary of waves, gates and the failure action into fractions and milliseconds', () => {
    const waves = parse(
      [
        `health: 'reported.health == "ok"'`,
        'waves:',
        '  - things: canaries.txt',
        '    gate: { healthy: 100%, within: 2m }',
        '  - share: 5%',
        '    gate: { converged: 90%, healthy: 95%, within: 30s }',
        `  - where: 'reported.site == "lab"'`,
        '  - share: 12.5%',
        '  - share: 100%',
        'onGateFailure: rollback',
      ].join('\n'),
    );
    expect(waves).toEqual({
      health: 'reported.health == "ok"',
      onGateFailure: 'rollback',
      waves: [
        { things: '/specs/canaries.txt', gate: { healthy: 1, withinMs: 120_000 } },
        { share: 0.05, gate: { converged: 0.9, healthy: 0.95, withinMs: 30_000 } },
        { where: 'reported.site == "lab"' },
        { share: 0.125 },
        { share: 1 },
      ],
    });
  });

  it('defaults the failure action to stop and gives nothing without waves', () => {
    expect(parse('waves: [{ share: 10%, gate: { converged: 50%, within: 5s } }, { share: 100% }]')?.onGateFailure).toBe(
      'stop',
    );
    expect(parse('{}')).toBeUndefined();
  });

  it('names the file and the field of a share that is not a percentage', () => {
    expect(problems('waves: [{ share: 5 }, { share: 100% }]')).toBe(
      '/specs/rollout.yaml: waves[0].share: expected a percentage like 5% (more than 0%, at most 100%)',
    );
    expect(problems('waves: [{ share: 0% }, { share: 100% }]')).toContain('waves[0].share: expected a percentage');
    expect(problems('waves: [{ share: 140% }]')).toContain('waves[0].share: expected a percentage');
  });

  it('refuses shares that do not grow and a last wave short of 100%', () => {
    const msg = problems('waves: [{ share: 30% }, { share: 5% }, { share: 50% }]');
    expect(msg).toContain('waves[1].share: shares are cumulative; expected more than the 30% of an earlier wave');
    expect(msg).toContain('waves[2]: the last wave must be share: 100%, so that every target belongs to a wave');
  });

  it('asks for exactly one selection per wave', () => {
    expect(problems('waves: [{ share: 5%, where: "x" }, { share: 100% }]')).toContain(
      'waves[0]: give exactly one of share, things (a name file) or where (a condition)',
    );
    expect(problems('waves: [{ gate: { converged: 90%, within: 5s } }, { share: 100% }]')).toContain(
      'waves[0]: give exactly one of',
    );
  });

  it('checks gates: a threshold to reach, a duration, a health expression for healthy, no unknown fields', () => {
    expect(problems('waves: [{ share: 5%, gate: { within: 5s } }, { share: 100% }]')).toContain(
      'waves[0].gate: expected converged or healthy',
    );
    expect(problems('waves: [{ share: 5%, gate: { healthy: 95%, within: 5s } }, { share: 100% }]')).toContain(
      'waves[0].gate.healthy: needs a health expression (health: at the top of the spec)',
    );
    expect(problems('waves: [{ share: 5%, gate: { converged: 90%, within: soon } }, { share: 100% }]')).toContain(
      'waves[0].gate.within: expected a duration like 30s or 5m',
    );
    expect(
      problems('waves: [{ share: 5%, gate: { converged: 90%, within: 5s, bake: 1m } }, { share: 100% }]'),
    ).toContain('waves[0].gate.bake: unknown field');
    expect(problems('waves: [{ share: 5%, gate: { converged: 90, within: 5s } }, { share: 100% }]')).toContain(
      'waves[0].gate.converged: expected a percentage like 95%',
    );
  });

  it('refuses an unknown failure action and one without any gate', () => {
    expect(problems('waves: [{ share: 100% }]\nonGateFailure: undo')).toContain(
      'onGateFailure: expected rollback or stop',
    );
    expect(problems('waves: [{ share: 100% }]\nonGateFailure: rollback')).toContain(
      'onGateFailure: no wave has a gate',
    );
  });

  it('checks the health expression and where conditions when the spec is read', () => {
    expect(problems(`health: 'reported.health =='\nwaves: [{ share: 100% }]`)).toMatch(
      /^\/specs\/rollout\.yaml: health: .+ in "reported\.health =="$/,
    );
    expect(problems(`waves: [{ where: 'reported.site ==' }, { share: 100% }]`)).toMatch(
      /\/specs\/rollout\.yaml: waves\[0\]\.where: /,
    );
  });

  it('labels waves by share, file name or condition', () => {
    expect(waveLabel({ share: 0.05 })).toBe('5%');
    expect(waveLabel({ things: '/a/b/canaries.txt' })).toBe('canaries.txt');
    expect(waveLabel({ where: 'reported.site == "lab"' })).toBe('where reported.site == "lab"');
  });
});

describe('waves in the rollout spec', () => {
  it('reads waves, gates and the failure action as part of a rollout spec', async () => {
    const { parseRolloutSpec } = await import('../../src/jobs/rollout/rollout-spec.js');
    const spec = parseRolloutSpec(
      [
        'desired: { firmware: "1.5.0" }',
        `health: 'reported.health == "ok"'`,
        'waves:',
        '  - { share: 5%, gate: { converged: 90%, healthy: 95%, within: 30s } }',
        '  - { share: 100% }',
        'onGateFailure: rollback',
      ].join('\n'),
      '/specs/rollout.yaml',
    );
    expect(spec.waves).toEqual({
      health: 'reported.health == "ok"',
      onGateFailure: 'rollback',
      waves: [{ share: 0.05, gate: { converged: 0.9, healthy: 0.95, withinMs: 30_000 } }, { share: 1 }],
    });
  });

  it('names the rollout spec file and the wave field in its messages', async () => {
    const { parseRolloutSpec } = await import('../../src/jobs/rollout/rollout-spec.js');
    expect(() =>
      parseRolloutSpec(
        'desired: { a: 1 }\nwaves: [{ share: 5%, gate: { healthy: 95%, within: 30s } }]',
        'rollout.yaml',
      ),
    ).toThrow(
      'rollout.yaml: waves[0].gate.healthy: needs a health expression (health: at the top of the spec)\nrollout.yaml: waves[0]: the last wave must be share: 100%, so that every target belongs to a wave',
    );
  });
});
