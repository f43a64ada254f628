import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { compareVersions, isDottedVersion } from '../../src/shadow/compare-versions.js';
import { ShadowCondition } from '../../src/shadow/shadow-condition.js';

const doc = {
  state: {
    desired: { cfg: { rate: 5 }, mode: 'eco', list: [1, 2] },
    reported: { firmware: '1.4.10', model: 'x', battery: 42, 'odd-key': true, nothing: null, tags: ['a', 'b'] },
    delta: { mode: 'eco' },
  },
  version: 17,
};
const where = (text: string, d: Parameters<ShadowCondition['matches']>[0] = doc): boolean =>
  new ShadowCondition(text).matches(d);

function refusal(text: string): string {
  try {
    new ShadowCondition(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error(`expected ${text} to be refused`);
}

describe('compareVersions', () => {
  it('compares dotted versions segment by segment as numbers', () => {
    expect(compareVersions('1.10.0', '1.9.3')).toBe(1);
    expect(compareVersions('1.4.2', '1.5.0')).toBe(-1);
    expect(compareVersions('2.0.10.3', '2.0.10.3')).toBe(0);
  });

  it('treats missing segments as zero and ignores a leading v and a build suffix', () => {
    expect(compareVersions('1.5', '1.5.0')).toBe(0);
    expect(compareVersions('v1.5.1', '1.5')).toBe(1);
    expect(compareVersions('1.5.0+build7', '1.5.0')).toBe(0);
  });

  it('sorts a pre-release before its release', () => {
    expect(compareVersions('1.5.0-rc.1', '1.5.0')).toBe(-1);
    expect(compareVersions('1.5.0-rc.2', '1.5.0-rc.1')).toBe(1);
  });

  it('recognises dotted versions but not plain words or single numbers', () => {
    expect(isDottedVersion('1.4.3')).toBe(true);
    expect(isDottedVersion('v2')).toBe(true);
    expect(isDottedVersion('15')).toBe(false);
    expect(isDottedVersion('berlin')).toBe(false);
  });
});

describe('ShadowCondition', () => {
  it('compares a reported firmware version-aware, not as text', () => {
    // As text "1.4.10" < "1.5.0" and also < "1.4.9"; as versions only the first holds.
    expect(where('reported.firmware < "1.5.0"')).toBe(true);
    expect(where('reported.firmware < "1.4.9"')).toBe(false);
    expect(where('reported.firmware >= "1.4.10"')).toBe(true);
  });

  it('combines comparisons with and, or, not and parentheses, also as && || !', () => {
    expect(where('reported.firmware < "1.5.0" and reported.model == "x"')).toBe(true);
    expect(where('reported.firmware < "1.5.0" and reported.model == "y"')).toBe(false);
    expect(where('reported.model == "y" or desired.mode == "eco"')).toBe(true);
    expect(where('not (reported.model == "y" or desired.mode == "eco")')).toBe(false);
    expect(where('reported.battery > 40 && !(version < 10) || false')).toBe(true);
  });

  it('gives and a higher precedence than or', () => {
    expect(where('reported.model == "x" or reported.model == "y" and version == 0')).toBe(true);
    expect(where('(reported.model == "x" or reported.model == "y") and version == 0')).toBe(false);
  });

  it('checks that a path exists and is not null', () => {
    expect(where('exists(desired.cfg)')).toBe(true);
    expect(where('exists(desired.cfg.rate)')).toBe(true);
    expect(where('exists(desired.other)')).toBe(false);
    expect(where('exists(reported.nothing)')).toBe(false);
    expect(where('not exists(delta.firmware)')).toBe(true);
  });

  it('reads named sections, quoted keys, array indexes and the version', () => {
    expect(where('delta.mode == "eco"')).toBe(true);
    expect(where('reported["odd-key"] == true')).toBe(true);
    expect(where('desired.list[1] == 2')).toBe(true);
    expect(where('reported.tags == reported.tags')).toBe(true);
    expect(where('reported.tags == desired.list')).toBe(false);
    expect(where('version == 17')).toBe(true);
  });

  it('compares numbers numerically, including negative literals', () => {
    expect(where('reported.battery > 9')).toBe(true);
    expect(where('reported.battery >= -1')).toBe(true);
    expect(where('reported.battery < 42')).toBe(false);
  });

  it('matches no ordering on a missing path or mixed types, and != is true for a missing path', () => {
    expect(where('reported.missing < "2.0"')).toBe(false);
    expect(where('reported.missing >= "0"')).toBe(false);
    expect(where('reported.battery < "50"')).toBe(false);
    expect(where('reported.missing != "x"')).toBe(true);
    expect(where('reported.missing == null')).toBe(false);
  });

  it('treats a thing without a shadow as having no paths', () => {
    expect(new ShadowCondition('exists(reported.firmware)').matches(undefined)).toBe(false);
    expect(new ShadowCondition('not exists(reported.firmware)').matches(undefined)).toBe(true);
  });

  it('never reaches a prototype through a path', () => {
    expect(where('exists(reported.constructor)')).toBe(false);
    expect(where('exists(reported.__proto__)')).toBe(false);
    expect(where('exists(reported.tags.length)')).toBe(false);
  });

  it('is compiled once and evaluated against many documents', () => {
    const c = new ShadowCondition('reported.firmware < "1.5.0"');
    const docs = ['1.4.2', '1.5.0', '1.10.1', '0.9'].map((firmware) => ({
      state: { reported: { firmware } },
      version: 1,
    }));
    expect(docs.map((d) => c.matches(d))).toEqual([true, false, false, true]);
    expect(c.source).toBe('reported.firmware < "1.5.0"');
  });

  it('refuses anything outside the allow-list, naming the part', () => {
    expect(refusal('reported.a = 1')).toContain('at character');
    expect(refusal('reported.a ? 1 : 2')).toContain('ConditionalExpression is not supported');
    expect(refusal('process.exit(1) == 1')).toContain('found CallExpression');
    expect(refusal('process.env == 1')).toContain("unknown name 'process'");
    expect(refusal('constructor.constructor("x")() == 1')).toContain('CallExpression');
    expect(refusal('reported.a + 1 == 2')).toContain("operator '+' is not supported");
    expect(refusal('eval("1")')).toContain("unknown function 'eval'");
    expect(refusal('reported.a == 1 and')).toContain('expected one condition');
    expect(refusal('reported.firmware')).toContain('write exists(reported.firmware)');
    expect(refusal('this.x == 1')).toContain('ThisExpression');
    expect(refusal('reported[reported.k] == 1')).toContain('a [] key must be a string or an index');
    expect(refusal('exists(reported.a, reported.b)')).toContain('exists takes one path');
    expect(refusal('   ')).toContain('expected a condition');
  });
});
