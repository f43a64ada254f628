import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFleetFile, parseFleetFile } from '../../src/jobs/fleet/fleet-file.js';
import { isExactNumber } from '../../src/shadow/json-text.js';

const GOOD = `
fleet: { group: production, recursive: true }
rules:
  - name: sampling
    desired: { sampling: { hz: 5 } }
  - name: eu-pilot
    group: eu-pilot
    desired: { firmware: "1.5.0" }
  - shadow: config
    where: 'reported.model == "lamp"'
    desired: { brightness: 80, big: 12345678901234567891 }
`;

describe('fleet file', () => {
  it('reads the fleet selection and the rules in order, with names, selections, conditions and shadows', () => {
    const f = parseFleetFile(GOOD, 'fleet.yaml');
    expect(f.fleet).toEqual({ kind: 'group', group: 'production', recursive: true });
    expect(f.rules.map((r) => r.name)).toEqual(['sampling', 'eu-pilot', 'rules[2]']);
    expect(f.rules[0]!.selection).toBeUndefined();
    expect(f.rules[1]!.selection).toEqual({ kind: 'group', group: 'eu-pilot', recursive: false });
    expect(f.rules[2]!.shadowName).toBe('config');
    expect(f.rules[2]!.where?.matches({ state: { reported: { model: 'lamp' } }, version: 1 })).toBe(true);
    expect(f.rules[2]!.where?.matches({ state: { reported: { model: 'pump' } }, version: 1 })).toBe(false);
    expect(isExactNumber(f.rules[2]!.desired.big)).toBe(true);
  });

  it('resolves a things file relative to the fleet file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleet-file-'));
    const file = join(dir, 'fleet.yaml');
    await writeFile(file, 'fleet: { things: names.txt }\nrules: [{ desired: { a: 1 } }]\n');
    const f = await loadFleetFile(file);
    expect(f.fleet).toEqual({ kind: 'things', file: join(dir, 'names.txt') });
  });

  it('names the file, the rule by index and name, and the field of each problem', () => {
    const text = `
fleet: { all: true }
rules:
  - name: ok
    desired: { a: 1 }
  - name: broken
    desired: [1, 2]
  - name: typo
    desird: { a: 1 }
    desired: { a: 2 }
`;
    let message = '';
    try {
      parseFleetFile(text, 'fleet.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(
      'fleet.yaml: rules[1] (broken): desired: expected a mapping (the desired merge document)',
    );
    expect(message).toContain('fleet.yaml: rules[2] (typo): desird: unknown field');
    expect(message).not.toContain('rules[0]');
  });

  it('refuses two selections in one place, recursive without a group, and a fleet without a selection', () => {
    expect(() => parseFleetFile('fleet: { group: a, query: "x" }\nrules: [{ desired: { a: 1 } }]', 'f.yaml')).toThrow(
      'f.yaml: fleet: give one of group, query, things, all, not group and query',
    );
    expect(() => parseFleetFile('fleet: {}\nrules: [{ desired: { a: 1 } }]', 'f.yaml')).toThrow(
      'f.yaml: fleet: expected one of group, query, things or all: true',
    );
    expect(() =>
      parseFleetFile('fleet: { all: true }\nrules: [{ name: r, recursive: true, desired: { a: 1 } }]', 'f.yaml'),
    ).toThrow('f.yaml: rules[0] (r): recursive: only with group');
  });

  it('checks each desired fragment against the shadow limits before anything runs', () => {
    const big = 'x'.repeat(9000);
    expect(() =>
      parseFleetFile(`fleet: { all: true }\nrules: [{ name: huge, desired: { blob: "${big}" } }]`, 'f.yaml'),
    ).toThrow(/f\.yaml: rules\[0\] \(huge\): desired: .*8192/);
    expect(() =>
      parseFleetFile(
        'fleet: { all: true }\nrules: [{ name: deep, desired: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } }]',
        'f.yaml',
      ),
    ).toThrow(/rules\[0\] \(deep\): desired: JSON contains too many levels of nesting; maximum is 6/);
    expect(() =>
      parseFleetFile('fleet: { all: true }\nrules: [{ name: inf, desired: { a: 1e400 } }]', 'f.yaml'),
    ).toThrow(/rules\[0\] \(inf\): desired:/);
    expect(() => parseFleetFile('fleet: { all: true }\nrules: [{ name: empty, desired: {} }]', 'f.yaml')).toThrow(
      'f.yaml: rules[0] (empty): desired: expected at least one key',
    );
  });

  it('refuses a where condition that does not parse, and duplicate rule names', () => {
    expect(() =>
      parseFleetFile('fleet: { all: true }\nrules: [{ name: w, where: "reported.x ==", desired: { a: 1 } }]', 'f.yaml'),
    ).toThrow(/f\.yaml: rules\[0\] \(w\): where:/);
    expect(() =>
      parseFleetFile(
        'fleet: { all: true }\nrules: [{ name: a, desired: { a: 1 } }, { name: a, desired: { b: 1 } }]',
        'f.yaml',
      ),
    ).toThrow('f.yaml: rules[1] (a): name: already used by rules[0]');
  });
});
