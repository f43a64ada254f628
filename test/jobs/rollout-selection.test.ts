/**
 * Targets chosen as fleets are organised, end to end: the registry is built through the
 * emulator's control plane with the official @aws-sdk/client-iot (things with attributes,
 * nested thing groups), shadows are written through its data plane, and rollouts and snapshots
 * then select by group, query and condition. Each test checks that exactly the selected shadows
 * changed, by their versions: a thing outside the selection is never written.
 */
import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ConfigError } from '../../src/errors.js';
import { runRollout, parseRolloutSpec, type RolloutOptions } from '../../src/jobs/rollout/rollout.js';
import { runSnapshot } from '../../src/jobs/snapshot/snapshot.js';
import { runBench } from '../../src/jobs/bench/bench.js';
import { runDiff } from '../../src/jobs/diff/diff.js';
import { SnapshotReader } from '../../src/sinks/snapshot-reader.js';
import { CREDENTIALS } from '../emulator/with-emulator.js';

/** name -> [site, model, firmware]; groups: eu > berlin (b-*), eu > paris (p-*); us holds u-*. */
const FLEET: Record<string, [string, string, string]> = {
  'b-1': ['berlin', 'x', '1.4.2'],
  'b-2': ['berlin', 'x', '1.5.0'],
  'b-3': ['berlin', 'y', '1.4.9'],
  'p-1': ['paris', 'x', '1.4.10'],
  'p-2': ['paris', 'y', '1.6.0'],
  'e-1': ['eu', 'x', '1.3.0'],
  'u-1': ['boston', 'x', '1.4.0'],
  'u-2': ['boston', 'y', '1.4.0'],
};
const GROUPS: Record<string, string | undefined> = { eu: undefined, berlin: 'eu', paris: 'eu', us: undefined };
const MEMBERS: Record<string, string[]> = {
  eu: ['e-1'],
  berlin: ['b-1', 'b-2', 'b-3'],
  paris: ['p-1', 'p-2'],
  us: ['u-1', 'u-2'],
};
const ALL = Object.keys(FLEET);

let emu: Emulator;
let iot: IoTClient;
let dir: string;

beforeAll(async () => {
  // Pages of two: every selection below spans several ListThingsInThingGroup / SearchIndex pages.
  emu = await startEmulator({ port: 0, quotas: 'off', defaultThingsPageSize: 2 });
  iot = new IoTClient({ endpoint: emu.url, region: 'us-east-1', credentials: { ...CREDENTIALS }, maxAttempts: 1 });
  dir = await mkdtemp(join(tmpdir(), 'sf-selection-'));
  for (const [group, parent] of Object.entries(GROUPS)) {
    await iot.send(
      new CreateThingGroupCommand(
        parent === undefined ? { thingGroupName: group } : { thingGroupName: group, parentGroupName: parent },
      ),
    );
  }
  for (const [thing, [site, model]] of Object.entries(FLEET)) {
    await iot.send(new CreateThingCommand({ thingName: thing, attributePayload: { attributes: { site, model } } }));
  }
  for (const [group, things] of Object.entries(MEMBERS)) {
    for (const thing of things)
      await iot.send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName: thing }));
  }
});
afterAll(async () => {
  iot?.destroy();
  await emu?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every test starts from the same shadows: the fleet's firmware and model reported, nothing desired. */
beforeEach(async () => {
  for (const [thing, [, model, firmware]] of Object.entries(FLEET)) {
    await post(thing, { state: { desired: null, reported: { firmware, model } } });
  }
});

async function post(thing: string, body: unknown): Promise<void> {
  const res = await fetch(`${emu.url}/things/${thing}/shadow`, { method: 'POST', body: JSON.stringify(body) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`write ${thing}: ${res.status}`);
}

const versions = (): Record<string, number | undefined> =>
  Object.fromEntries(ALL.map((t) => [t, emu.store.get(t)?.version]));

/** The things whose version moved between `before` and now. */
function changed(before: Record<string, number | undefined>): string[] {
  const now = versions();
  return ALL.filter((t) => now[t] !== before[t]).sort();
}

function options(extra: Partial<RolloutOptions>): RolloutOptions {
  return {
    endpoint: emu.url,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    targets: [],
    desired: { cfg: 'v2' },
    workers: 1,
    rate: 'off',
    yes: true,
    ...extra,
  };
}

describe('rollouts by thing group and query', () => {
  it('writes the things of a thing group and of its subgroups with recursive, and no other thing', async () => {
    const before = versions();
    const r = await runRollout(options({ targets: { thingGroup: 'eu', recursive: true } }));
    expect(r.ok).toBe(true);
    expect(r.summary.things).toBe(6);
    expect(changed(before)).toEqual(['b-1', 'b-2', 'b-3', 'e-1', 'p-1', 'p-2']);
    for (const t of ['b-1', 'e-1', 'p-2']) expect(emu.store.get(t)!.state.desired).toEqual({ cfg: 'v2' });
    expect(emu.store.get('u-1')!.state.desired).toBeUndefined();
  });

  it('writes only the direct members of a thing group without recursive', async () => {
    const before = versions();
    const r = await runRollout(options({ targets: { thingGroup: 'eu' } }));
    expect(r.summary.things).toBe(1);
    expect(changed(before)).toEqual(['e-1']);
  });

  it('writes exactly the things a fleet indexing query finds, over attributes and the reported shadow', async () => {
    const before = versions();
    const r = await runRollout(
      options({ targets: { query: 'attributes.site:berlin AND shadow.reported.model:x', index: 'AWS_Things' } }),
    );
    expect(r.summary.things).toBe(2);
    expect(changed(before)).toEqual(['b-1', 'b-2']);
  });

  it('stops before any write when the thing group does not exist, naming the group', async () => {
    const before = versions();
    const err = await runRollout(options({ targets: { thingGroup: 'nowhere' } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('targets (thing group nowhere)');
    expect(changed(before)).toEqual([]);
  });

  it('refuses a selection with two kinds of targets, naming the field', async () => {
    await expect(runRollout(options({ targets: { thingGroup: 'eu', query: 'x' } as never }))).rejects.toThrow(
      'targets: give one of thingGroup, query and allThings, not thingGroup and query',
    );
    await expect(runRollout(options({ targets: { query: 'x', index: 'AWS_ThingGroups' } }))).rejects.toThrow(
      'targets.index: only AWS_Things',
    );
  });
});

describe('conditions on the current shadow (where)', () => {
  it('writes only the selected things whose shadow meets the condition; the others are skipped (condition), unwritten', async () => {
    const before = versions();
    const r = await runRollout(
      options({
        targets: { thingGroup: 'eu', recursive: true },
        where: 'reported.firmware < "1.5.0" and reported.model == "x"',
      }),
    );
    // b-1 (1.4.2, x), e-1 (1.3.0, x) and p-1 (1.4.10, x) meet it; b-2 is at 1.5.0, b-3 and p-2 are model y.
    expect(changed(before)).toEqual(['b-1', 'e-1', 'p-1']);
    expect(r.summary.byOutcome).toEqual({ written: 3, 'skipped-condition': 3 });
    expect(r.ok).toBe(true);
  });

  it('compares dotted versions as versions: 1.4.10 is above 1.4.9', async () => {
    const before = versions();
    await runRollout(options({ targets: ALL, where: 'reported.firmware > "1.4.9" and reported.firmware < "1.5.0"' }));
    expect(changed(before)).toEqual(['p-1']);
  });

  it('counts the matches in a dry run and writes nothing', async () => {
    const before = versions();
    const r = await runRollout(
      options({ targets: { query: 'attributes.site:*' }, where: 'reported.model == "y"', dryRun: true }),
    );
    expect(changed(before)).toEqual([]);
    expect(r.plan).toMatchObject({ wouldWrite: 3, skippedCondition: 5 });
  });

  it('refuses a condition that does not parse before any request, naming the field', async () => {
    const before = versions();
    const served = emu.stats().totals.requests;
    await expect(runRollout(options({ targets: ALL, where: 'reported.firmware <' }))).rejects.toThrow(/^where: /);
    expect(emu.stats().totals.requests).toBe(served);
    expect(changed(before)).toEqual([]);
  });

  it('checks the condition again after a conflict: a device reporting the new firmware between the read and the write is skipped', async () => {
    // The transform runs in the worker between the read and the write. For b-1 it first plays the
    // device: it reports firmware 1.5.0, so the rollout's version-guarded write meets a 409, the
    // thing is read again, and the condition, checked on that re-read, no longer holds.
    const transform = join(dir, 'device-reports-meanwhile.mjs');
    await writeFile(
      transform,
      `const done = new Set();
export default async function (doc, thingName, item) {
  if (thingName === 'b-1' && !done.has(thingName)) {
    done.add(thingName);
    const res = await fetch(item.data.url + '/things/b-1/shadow', { method: 'POST', body: JSON.stringify({ state: { reported: { firmware: '1.5.0' } } }) });
    await res.arrayBuffer();
  }
  return { ...(doc?.state.desired ?? {}), cfg: 'v2' };
}
`,
    );
    const before = versions();
    const targets = ['b-1', 'b-3'].map((thingName) => ({ thingName, data: { url: emu.url } }));
    const report = join(dir, 'conflict.ndjson');
    const r = await runRollout(
      options({ targets, desired: undefined, transform, where: 'reported.firmware < "1.5.0"', report }),
    );
    expect(r.summary.byOutcome).toEqual({ written: 1, 'skipped-condition': 1 });
    // b-1 moved once, by the device's write; the rollout wrote nothing there.
    expect(emu.store.get('b-1')!.version).toBe(before['b-1']! + 1);
    expect(emu.store.get('b-1')!.state.desired).toBeUndefined();
    expect(emu.store.get('b-1')!.state.reported).toMatchObject({ firmware: '1.5.0' });
    expect(emu.store.get('b-3')!.state.desired).toEqual({ cfg: 'v2' });
    expect(r.summary.retries).toBeGreaterThanOrEqual(1);
  });

  it('selects by a named shadow in a query, and checks where on the named shadow being changed', async () => {
    const level: Record<string, string> = { 'b-1': 'low', 'b-2': 'high', 'p-1': 'low', 'u-1': 'low' };
    for (const [thing, l] of Object.entries(level)) {
      const res = await fetch(`${emu.url}/things/${thing}/shadow?name=cfg`, {
        method: 'POST',
        body: JSON.stringify({ state: { reported: { level: l } } }),
      });
      await res.arrayBuffer();
    }
    const named = (): Record<string, number | undefined> =>
      Object.fromEntries(ALL.map((t) => [t, emu.store.get(t, 'cfg')?.version]));
    const before = named();
    const classic = versions();
    // The query finds the things by their named shadow; where reads the named shadow, not the classic one.
    const byQuery = await runRollout(
      options({
        targets: { query: 'shadow.name.cfg.reported.level:low' },
        shadowName: 'cfg',
        desired: { boost: true },
      }),
    );
    expect(byQuery.summary.things).toBe(3);
    const byGroup = await runRollout(
      options({
        targets: { thingGroup: 'eu', recursive: true },
        shadowName: 'cfg',
        where: 'reported.level == "high"',
        desired: { boost: false },
      }),
    );
    expect(byGroup.summary.byOutcome).toEqual({ written: 1, 'skipped-condition': 5 });
    const after = named();
    expect(ALL.filter((t) => after[t] !== before[t]).sort()).toEqual(['b-1', 'b-2', 'p-1', 'u-1']);
    expect(emu.store.get('b-2', 'cfg')!.state.desired).toEqual({ boost: false });
    expect(emu.store.get('b-1', 'cfg')!.state.desired).toEqual({ boost: true });
    expect(changed(classic)).toEqual([]);
  });

  it('takes the selection and the condition from the spec, and names the file and field of a bad condition', () => {
    const spec = parseRolloutSpec(
      'targets: { thingGroup: berlin }\nwhere: reported.model == "x"\ndesired: { cfg: v2 }\n',
      'rollout.yaml',
    );
    expect(spec.targets).toEqual({ thingGroup: 'berlin' });
    expect(spec.where).toBe('reported.model == "x"');
    expect(() => parseRolloutSpec('where: reported.model ==\ndesired: { a: 1 }\n', 'bad.yaml')).toThrow(
      /^bad\.yaml: where: /,
    );
    expect(() => parseRolloutSpec('targets: { recursive: true }\ndesired: { a: 1 }\n', 'bad.yaml')).toThrow(
      'bad.yaml: targets: expected one of thingGroup, query or allThings',
    );
    expect(() => parseRolloutSpec('targets: { thingGroup: a, query: b }\ndesired: { a: 1 }\n', 'bad.yaml')).toThrow(
      'bad.yaml: targets: give one of thingGroup, query and allThings, not thingGroup and query',
    );
  });
});

describe('snapshots by selection', () => {
  it('reads exactly the things of a recursive thing group and of a query', async () => {
    const things = async (
      out: string,
      selection: NonNullable<Parameters<typeof runSnapshot>[0]['things']>,
    ): Promise<string[]> => {
      await runSnapshot({
        endpoint: emu.url,
        region: 'us-east-1',
        credentials: CREDENTIALS,
        out,
        things: selection,
        shadows: 'classic',
        rates: 'off',
      });
      const reader = await SnapshotReader.open(out);
      const names: string[] = [];
      try {
        for await (const rec of reader.records()) names.push(rec.thing);
      } finally {
        reader.close();
      }
      return names.sort();
    };
    expect(await things(join(dir, 'snap-group'), { thingGroup: 'eu', recursive: true })).toEqual([
      'b-1',
      'b-2',
      'b-3',
      'e-1',
      'p-1',
      'p-2',
    ]);
    expect(await things(join(dir, 'snap-query'), { query: 'shadow.reported.firmware:1.4*' })).toEqual([
      'b-1',
      'b-3',
      'p-1',
      'u-1',
      'u-2',
    ]);
  });
});

describe('diff --live by selection', () => {
  it('compares a snapshot with the live shadows of a thing group only', async () => {
    const a = join(dir, 'diff-a');
    await runSnapshot({
      endpoint: emu.url,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      out: a,
      things: { thingGroup: 'eu', recursive: true },
      shadows: 'classic',
      rates: 'off',
    });
    await post('b-1', { state: { reported: { firmware: '1.5.0' } } });
    await post('p-1', { state: { reported: { firmware: '1.5.0' } } });
    const changes: Array<{ thing: string; change: string }> = [];
    const r = await runDiff({
      a,
      live: true,
      endpoint: emu.url,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      things: { thingGroup: 'berlin' },
      rates: 'off',
      workers: 1,
      onChange: (c) => changes.push({ thing: c.thing, change: c.change }),
    });
    // B is the selection as it is live: berlin's three things, of which b-1 moved. The snapshot's
    // things outside berlin are not in B, so they show as removed (as with allThings, B is what was selected).
    expect(r.summary.shadowsB).toBe(3);
    expect(changes.filter((c) => c.change === 'changed').map((c) => c.thing)).toEqual(['b-1']);
    expect(
      changes
        .filter((c) => c.change === 'removed')
        .map((c) => c.thing)
        .sort(),
    ).toEqual(['e-1', 'p-1', 'p-2']);
  });
});

describe('benchmarks by selection', () => {
  it('reads only the things of a thing group, writing nothing, and refuses a mix that would write', async () => {
    const before = versions();
    // The bench's own prefixed things do not exist here: a read of one would be not-found.
    const r = await runBench({
      endpoint: emu.url,
      credentials: CREDENTIALS,
      targets: { thingGroup: 'berlin' },
      operations: { get: 1 },
      count: 30,
      concurrency: 4,
      workers: 1,
      rate: 'off',
    });
    expect(r.operations).toBe(30);
    expect(r.byOutcome).toEqual({ ok: 30 });
    expect(r.options.things).toBe(3);
    expect(changed(before)).toEqual([]);
    await expect(
      runBench({
        endpoint: emu.url,
        credentials: CREDENTIALS,
        targets: { thingGroup: 'berlin' },
        operations: { get: 1, update: 1 },
        count: 2,
        workers: 1,
      }),
    ).rejects.toThrow('targets: a selection benchmarks reads of real things');
    expect(changed(before)).toEqual([]);
  });
});

describe('fleet indexing switched off', () => {
  it('says so and writes nothing when a rollout selects by query', async () => {
    const off = await startEmulator({ port: 0, quotas: 'off', fleetIndexing: false });
    try {
      await post0(off.url, 'x-1');
      const v = off.store.get('x-1')!.version;
      const err = await runRollout({ ...options({ targets: { query: 'thingName:x-*' } }), endpoint: off.url }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/fleet indexing is not switched on/);
      expect(off.store.get('x-1')!.version).toBe(v);
    } finally {
      await off.close();
    }
  });
});

async function post0(url: string, thing: string): Promise<void> {
  const res = await fetch(`${url}/things/${thing}/shadow`, {
    method: 'POST',
    body: JSON.stringify({ state: { reported: { firmware: '1.0.0' } } }),
  });
  await res.arrayBuffer();
}
