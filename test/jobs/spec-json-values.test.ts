import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidArgumentError } from '../../src/errors.js';
import { parseSpecText } from '../../src/jobs/options/spec-file.js';
import { parseInlineDesired, parseRolloutSpec } from '../../src/jobs/rollout/rollout-spec.js';
import { isExactNumber, stringifyJson } from '../../src/shadow/json-text.js';

const BIG = '12345678901234567891';
const FINE = '0.1000000000000000055511151231257827';

describe('spec files hold JSON values', () => {
  it('refuses !!binary with the file and the field instead of a {"0":104,...} object', () => {
    const text = 'desired:\n  fw: "2.4.1"\n  blob: !!binary aGVsbG8=\n';
    expect(() => parseRolloutSpec(text, 'rollout.yaml')).toThrow(ConfigError);
    expect(() => parseRolloutSpec(text, 'rollout.yaml')).toThrow(
      'rollout.yaml: desired.blob: binary data (!!binary) is not a JSON value',
    );
  });

  it('refuses the other YAML types JSON cannot hold, naming where they are', () => {
    expect(() => parseSpecText('desired:\n  tags: !!set { a, b }\n', 's.yaml')).toThrow(
      's.yaml: desired.tags: a set (!!set)',
    );
    expect(() => parseSpecText('desired:\n  when: [1, !!timestamp 2001-12-14]\n', 's.yaml')).toThrow(
      's.yaml: desired.when[1]: a timestamp (!!timestamp)',
    );
    expect(() => parseSpecText('desired:\n  order: !!omap [ a: 1 ]\n', 's.yaml')).toThrow(
      's.yaml: desired.order: an ordered map',
    );
  });

  it('keeps numbers a double cannot hold as their text, in YAML as in JSON', () => {
    const yaml = parseRolloutSpec(
      `desired:\n  counter: ${BIG}\n  ratio: ${FINE}\n  mask: 0xFFFFFFFFFFFFFFFFFF\n  plain: 1.5\n  small: 007\n`,
      'r.yaml',
    );
    expect(isExactNumber(yaml.desired?.counter)).toBe(true);
    expect(stringifyJson(yaml.desired)).toBe(
      `{"counter":${BIG},"ratio":${FINE},"mask":4722366482869645213695,"plain":1.5,"small":7}`,
    );
    const json = parseRolloutSpec(`{"desired": {"counter": ${BIG}, "ratio": ${FINE}}}`, 'r.json');
    expect(stringifyJson(json.desired)).toBe(`{"counter":${BIG},"ratio":${FINE}}`);
  });

  it('refuses a desired number outside the range of a double, naming the file and the field', () => {
    expect(() => parseRolloutSpec('desired:\n  limits:\n    max: 1e400\n', 'r.yaml')).toThrow(
      'r.yaml: desired.limits.max: 1e400 is outside the range of a double',
    );
    expect(() => parseRolloutSpec('desired:\n  limits:\n    max: .inf\n', 'r.yaml')).toThrow(
      'r.yaml: desired.limits.max: Infinity is outside the range of a double',
    );
  });

  it('keeps --set numbers exact and refuses 1e400 there, naming the flag and the path', () => {
    expect(stringifyJson(parseInlineDesired(`{"counter":${BIG}}`))).toBe(`{"counter":${BIG}}`);
    expect(() => parseInlineDesired('{"limits":{"max":1e400}}')).toThrow(InvalidArgumentError);
    expect(() => parseInlineDesired('{"limits":{"max":1e400}}')).toThrow(
      '--set at /limits/max: 1e400 is outside the range of a double',
    );
    expect(() => parseInlineDesired(BIG)).toThrow('--set: expected a JSON object');
  });
});
