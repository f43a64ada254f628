import { describe, expect, it } from 'vitest';
import { classifyDrift } from '../../src/jobs/fleet/fleet-drift.js';
import { parseFleetFile } from '../../src/jobs/fleet/fleet-file.js';
import { applyingRules, mergeFragments, planShadow } from '../../src/jobs/fleet/fleet-plan.js';
import type { ShadowDocument } from '../../src/shadow/types.js';

const FILE = parseFleetFile(
  `
fleet: { all: true }
rules:
  - name: base
    desired: { sampling: { hz: 5, mode: eco }, led: on }
  - name: pilot
    group: pilot
    desired: { sampling: { hz: 10 }, firmware: "1.5.0" }
  - name: lamps
    where: 'reported.model == "lamp"'
    desired: { led: null }
  - name: cfg
    shadow: config
    desired: { x: 1 }
`,
  'fleet.yaml',
);

function doc(
  desired: ShadowDocument['state']['desired'],
  reported?: ShadowDocument['state']['reported'],
  meta?: ShadowDocument['metadata']['desired'],
  version = 3,
): ShadowDocument {
  const state: ShadowDocument['state'] = {};
  if (desired !== undefined) state.desired = desired;
  if (reported !== undefined) state.reported = reported;
  const metadata: ShadowDocument['metadata'] = {};
  if (meta !== undefined) metadata.desired = meta;
  return { state, metadata, version, timestamp: 1000 };
}

describe('fleet planning', () => {
  it('merges rule fragments in order, a later rule overriding an earlier one key by key, nulls kept', () => {
    expect(mergeFragments([{ a: { b: 1, c: 2 }, d: 1 }, { a: { b: 3 }, d: null }, { e: [1] }])).toEqual({
      a: { b: 3, c: 2 },
      d: null,
      e: [1],
    });
  });

  it('picks the rules of the shadow whose selection holds the thing and whose condition holds on the document', () => {
    const inPilot = (r: (typeof FILE.rules)[number]) =>
      r.selection === undefined || r.selection.kind !== 'group' || r.selection.group === 'pilot';
    const lamp = doc({}, { model: 'lamp' });
    expect(applyingRules(FILE.rules, undefined, lamp, inPilot).map((r) => r.name)).toEqual(['base', 'pilot', 'lamps']);
    expect(applyingRules(FILE.rules, undefined, doc({}, { model: 'pump' }), () => false).map((r) => r.name)).toEqual(
      [],
    );
    expect(applyingRules(FILE.rules, 'config', undefined, () => true).map((r) => r.name)).toEqual(['cfg']);
  });

  it('plans the minimal update, the changed paths credited to the deciding rule, and the bytes', () => {
    const rules = FILE.rules.slice(0, 3);
    const current = doc({ sampling: { hz: 5, mode: 'eco' }, led: 'on', own: 'kept' }, { model: 'lamp' });
    const p = planShadow(current, rules);
    expect(p.update).toEqual({ sampling: { hz: 10 }, firmware: '1.5.0', led: null });
    expect(p.required).toEqual({ sampling: { hz: 10, mode: 'eco' }, firmware: '1.5.0', own: 'kept' });
    expect(p.paths.sort()).toEqual(['firmware', 'led', 'sampling.hz']);
    expect(Object.fromEntries([...p.pathsByRule].map(([k, v]) => [k, v.sort()]))).toEqual({
      pilot: ['firmware', 'sampling.hz'],
      lamps: ['led'],
    });
    expect(p.bytes).toBe(Buffer.byteLength(JSON.stringify({ state: { desired: p.update }, version: 3 })));
  });

  it('plans nothing for a shadow already in line, and the whole fragment for a missing shadow', () => {
    const rules = FILE.rules.slice(0, 2);
    const inLine = planShadow(doc({ sampling: { hz: 10, mode: 'eco' }, led: 'on', firmware: '1.5.0' }), rules);
    expect(inLine.update).toBeUndefined();
    expect(inLine.bytes).toBe(0);
    expect(planShadow(undefined, rules).update).toEqual({
      sampling: { hz: 10, mode: 'eco' },
      led: 'on',
      firmware: '1.5.0',
    });
  });
});

describe('fleet drift', () => {
  const rules = FILE.rules.slice(0, 1);
  const o = { nowSeconds: 2000, maxLagSeconds: 300 };

  it('finds a shadow whose desired differs from the file, naming the paths', () => {
    expect(
      classifyDrift(
        doc({ sampling: { hz: 7, mode: 'eco' }, led: 'on' }, { sampling: { hz: 7, mode: 'eco' }, led: 'on' }),
        rules,
        o,
      ),
    ).toEqual({ state: 'desired-differs', paths: ['sampling.hz'] });
  });

  it('finds a device that has not followed desired for longer than the allowed lag, by the desired metadata timestamps', () => {
    const desired = { sampling: { hz: 5, mode: 'eco' }, led: 'on' };
    const meta = { sampling: { hz: { timestamp: 1500 }, mode: { timestamp: 1000 } }, led: { timestamp: 1000 } };
    const old = classifyDrift(doc(desired, { sampling: { hz: 1, mode: 'eco' }, led: 'on' }, meta), rules, o);
    expect(old).toEqual({ state: 'not-followed', paths: ['sampling.hz'], lagSeconds: 500 });
    const recent = classifyDrift(doc(desired, { sampling: { hz: 1, mode: 'eco' }, led: 'on' }, meta), rules, {
      nowSeconds: 1600,
      maxLagSeconds: 300,
    });
    expect(recent).toEqual({ state: 'pending', paths: ['sampling.hz'], lagSeconds: 100 });
  });

  it('calls a shadow in line when desired matches the file and reported holds it, a key the file deletes checked in desired only', () => {
    const lampRules = FILE.rules.slice(0, 3);
    const d = { sampling: { hz: 10, mode: 'eco' }, firmware: '1.5.0' };
    expect(classifyDrift(doc(d, { ...d, extra: 1 }), lampRules, o)).toEqual({ state: 'in-line', paths: [] });
    expect(classifyDrift(doc(d, { ...d, led: 'on' }), lampRules, o)).toEqual({ state: 'in-line', paths: [] });
    expect(classifyDrift(doc({ ...d, led: 'on' }, { ...d }), lampRules, o)).toEqual({
      state: 'desired-differs',
      paths: ['led'],
    });
  });
});
