import { describe, expect, it } from 'vitest';
import {
  compileIndexQuery,
  type IndexDocument,
  type IndexValue,
} from '../../src/emulator/control-plane/compile-index-query.js';
import { ControlPlaneFault } from '../../src/emulator/control-plane/control-plane-fault.js';
import { parseIndexQuery } from '../../src/emulator/control-plane/index-query-parser.js';

const doc = (fields: Record<string, IndexValue | IndexValue[]>): IndexDocument =>
  new Map(Object.entries(fields).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));

const matches = (query: string, d: IndexDocument): boolean => compileIndexQuery(parseIndexQuery(query))(d);

function refusal(query: string): ControlPlaneFault {
  try {
    parseIndexQuery(query);
  } catch (err) {
    if (err instanceof ControlPlaneFault) return err;
    throw err;
  }
  throw new Error(`expected '${query}' to be refused`);
}

const pump = doc({
  thingName: 'pump-17',
  thingGroupNames: ['berlin', 'pumps'],
  'attributes.site': 'Berlin',
  'attributes.floor': '3',
  'shadow.reported.firmware': '1.4.3',
  'shadow.reported.battery': 42,
  'shadow.reported.tags': ['blue', 'outdoor'],
  'shadow.reported.note': 'needs a new seal',
  'shadow.name.cfg.desired.mode': 'eco',
  'connectivity.connected': true,
});

describe('parseIndexQuery', () => {
  it('parses field terms, ranges and comparisons into a tree with NOT above AND above OR', () => {
    expect(parseIndexQuery('attributes.b:1 OR thingName:x AND NOT thingName:y')).toEqual({
      kind: 'or',
      nodes: [
        { kind: 'term', field: 'attributes.b', value: '1', quoted: false },
        {
          kind: 'and',
          nodes: [
            { kind: 'term', field: 'thingName', value: 'x', quoted: false },
            { kind: 'not', node: { kind: 'term', field: 'thingName', value: 'y', quoted: false } },
          ],
        },
      ],
    });
  });

  it('reads an inclusive, an exclusive and an open range, and comparisons with and without spaces', () => {
    expect(parseIndexQuery('attributes.x:[1 TO 5}')).toEqual({
      kind: 'range',
      field: 'attributes.x',
      lower: { value: '1', quoted: false, inclusive: true },
      upper: { value: '5', quoted: false, inclusive: false },
    });
    expect(parseIndexQuery('attributes.x:[10 TO *]')).toEqual({
      kind: 'range',
      field: 'attributes.x',
      lower: { value: '10', quoted: false, inclusive: true },
    });
    expect(parseIndexQuery('attributes.x<5')).toEqual({
      kind: 'range',
      field: 'attributes.x',
      upper: { value: '5', quoted: false, inclusive: false },
    });
    expect(parseIndexQuery('connectivity.timestamp >= 1557651600000')).toEqual({
      kind: 'range',
      field: 'connectivity.timestamp',
      lower: { value: '1557651600000', quoted: false, inclusive: true },
    });
  });

  it('refuses unknown fields, bare terms and unsupported characters, naming the part', () => {
    expect(refusal('shadow.version:3').message).toContain("'shadow.version'");
    expect(refusal('pump').message).toContain("'pump'");
    expect(refusal('thingName:a;b').message).toContain("';'");
    expect(refusal('thingName:(a OR b').message).toContain("Expected ')'");
    expect(refusal('attributes.x:[1 5]').message).toContain("'TO'");
    expect(refusal('').message).toBe('The query string is empty');
  });

  it('refuses more than 12 terms and a second leading wildcard', () => {
    const thirteen = Array.from({ length: 13 }, (_, i) => `thingName:t${i}`).join(' OR ');
    expect(refusal(thirteen).message).toContain('13 terms');
    expect(refusal('thingName:*a OR thingName:*b').message).toContain('leading wildcard');
    expect(parseIndexQuery('thingName:*a OR thingName:b*').kind).toBe('or');
  });

  it('answers InvalidQueryException with status 400', () => {
    const f = refusal('nope');
    expect(f.errorType).toBe('InvalidQueryException');
    expect(f.status).toBe(400);
  });
});

describe('compileIndexQuery', () => {
  it('matches exact values case-insensitively and numbers numerically', () => {
    expect(matches('attributes.site:berlin', pump)).toBe(true);
    expect(matches('attributes.floor:3.0', pump)).toBe(true);
    expect(matches('attributes.site:paris', pump)).toBe(false);
  });

  it('matches suffix, infix and single-character wildcards', () => {
    expect(matches('shadow.reported.firmware:1.4*', pump)).toBe(true);
    expect(matches('shadow.reported.firmware:1.5*', pump)).toBe(false);
    expect(matches('thingName:p*7', pump)).toBe(true);
    expect(matches('thingName:pump-1?', pump)).toBe(true);
    expect(matches('thingName:pump-?', pump)).toBe(false);
  });

  it('takes a quoted value literally', () => {
    expect(matches('shadow.reported.firmware:"1.4*"', pump)).toBe(false);
    expect(matches('shadow.reported.firmware:"1.4.3"', pump)).toBe(true);
  });

  it('treats a lone star as "the field exists"', () => {
    expect(matches('shadow.name.cfg.desired.mode:*', pump)).toBe(true);
    expect(matches('shadow.name.other.desired.mode:*', pump)).toBe(false);
    expect(matches('*', doc({}))).toBe(true);
  });

  it('compares ranges with inclusive and exclusive bounds', () => {
    expect(matches('shadow.reported.battery:[42 TO 50]', pump)).toBe(true);
    expect(matches('shadow.reported.battery:{42 TO 50]', pump)).toBe(false);
    expect(matches('shadow.reported.battery:[30 TO 42}', pump)).toBe(false);
    expect(matches('shadow.reported.battery > 41', pump)).toBe(true);
    expect(matches('shadow.reported.battery<42', pump)).toBe(false);
    expect(matches('shadow.reported.battery<=42', pump)).toBe(true);
    expect(matches('attributes.floor:[1 TO 5]', pump)).toBe(true);
  });

  it('compares quoted range bounds as strings', () => {
    expect(matches('attributes.site:["a" TO "c"]', pump)).toBe(true);
    expect(matches('attributes.site:["c" TO "z"]', pump)).toBe(false);
  });

  it('matches an array when any element matches, and a word of a text value', () => {
    expect(matches('shadow.reported.tags:outdoor', pump)).toBe(true);
    expect(matches('thingGroupNames:pumps', pump)).toBe(true);
    expect(matches('shadow.reported.note:seal', pump)).toBe(true);
    expect(matches('shadow.reported.note:"seal"', pump)).toBe(false);
  });

  it('combines with AND, OR, NOT, minus, implicit AND and parentheses', () => {
    expect(matches('attributes.site:berlin AND shadow.reported.firmware:1.4*', pump)).toBe(true);
    expect(matches('attributes.site:berlin shadow.reported.firmware:1.5*', pump)).toBe(false);
    expect(matches('attributes.site:paris OR connectivity.connected:true', pump)).toBe(true);
    expect(matches('NOT attributes.site:berlin', pump)).toBe(false);
    expect(matches('thingName:pump* -attributes.site:berlin', pump)).toBe(false);
    expect(matches('thingName:pump* NOT attributes.site:paris', pump)).toBe(true);
    expect(
      matches('(attributes.site:paris OR attributes.site:berlin) AND NOT (shadow.reported.battery:[0 TO 10])', pump),
    ).toBe(true);
  });

  it('groups several values of one field in parentheses', () => {
    expect(matches('thingName:(pump* AND -pump-1)', pump)).toBe(true);
    expect(matches('attributes.site:(paris OR rome)', pump)).toBe(false);
  });

  it('matches a negative number after a colon rather than reading an exclusion', () => {
    expect(matches('attributes.t:-10', doc({ 'attributes.t': '-10' }))).toBe(true);
    expect(matches('attributes.t<-5', doc({ 'attributes.t': '-10' }))).toBe(true);
  });

  it('does not match booleans as numbers and absent fields at all', () => {
    expect(matches('connectivity.connected:[0 TO 1]', pump)).toBe(false);
    expect(matches('attributes.missing:x', pump)).toBe(false);
    expect(matches('NOT attributes.missing:x', pump)).toBe(true);
  });
});
