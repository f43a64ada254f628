/**
 * The selection flags and --where on the command line, spawned as a user runs them, against an
 * emulator whose registry was seeded (`seedRegistry`: things with site, model and region
 * attributes in a group tree fleet > region > site). Checks exit codes, what was written (by
 * shadow versions) and that usage errors are refused before any request.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IotControlClient } from '../../src/client/iot-control-client.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from './spawn-cli.js';

let emu: Emulator;
let dir: string;
let control: IotControlClient;
let all: string[];

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quotas: 'off', seedThings: 40, seedRegistry: true });
  dir = await mkdtemp(join(tmpdir(), 'sf-cli-selection-'));
  control = new IotControlClient({
    endpoint: emu.url,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  });
  all = [];
  for await (const name of control.thingNames()) all.push(name);
});
afterAll(async () => {
  await control?.close();
  await emu?.close();
  await rm(dir, { recursive: true, force: true });
});

const versions = (): Map<string, number | undefined> => new Map(all.map((t) => [t, emu.store.get(t)?.version]));
function changed(before: Map<string, number | undefined>): string[] {
  return all.filter((t) => emu.store.get(t)?.version !== before.get(t)).sort();
}
async function names(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const n of it) out.push(n);
  return out.sort();
}

describe('shadowfleet rollout with a selection', () => {
  it('writes exactly the things of a recursive thing group that meet --where, and shows the others as skipped (condition)', async () => {
    // The seeded tree is fleet > eu-west|us-east|ap-south > site; eu-west holds a third of the things, in its site groups.
    const inGroup = await names(control.thingNamesInGroup({ thingGroupName: 'eu-west', recursive: true }));
    expect(inGroup.length).toBeGreaterThan(0);
    expect(inGroup.length).toBeLessThan(all.length);
    const model = (t: string): unknown => (emu.store.get(t)?.state.reported as { model?: string } | undefined)?.model;
    const matching = inGroup.filter((t) => model(t) === 'th-200');
    expect(matching.length).toBeGreaterThan(0);
    expect(matching.length).toBeLessThan(inGroup.length);
    const before = versions();
    const r = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--thing-group',
      'eu-west',
      '--recursive',
      '--where',
      'reported.model == "th-200"',
      '--set',
      '{"sel":1}',
      '--rate',
      'off',
      '--workers',
      '1',
      '--yes',
      '--journal',
      join(dir, 'group.journal'),
    ]);
    expect(r.code).toBe(0);
    expect(changed(before)).toEqual(matching);
    expect(r.stdout).toMatch(new RegExp(`skipped \\(condition\\)\\s+${inGroup.length - matching.length}\\b`));
  });

  it('selects no thing of a group without --recursive when the things sit in its subgroups', async () => {
    const before = versions();
    const r = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--thing-group',
      'eu-west',
      '--set',
      '{"direct":1}',
      '--rate',
      'off',
      '--workers',
      '1',
      '--yes',
      '--journal',
      join(dir, 'direct.journal'),
    ]);
    expect(r.code).toBe(0);
    expect(changed(before)).toEqual([]);
  });

  it('writes none of the things a query finds when --where matches none, and counts them as skipped (condition)', async () => {
    const found = await names(control.searchThingNames({ queryString: 'thingName:*' }));
    const before = versions();
    const r = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--query',
      'thingName:*',
      '--where',
      'version < 0',
      '--set',
      '{"where":1}',
      '--rate',
      'off',
      '--workers',
      '1',
      '--yes',
      '--journal',
      join(dir, 'where.journal'),
    ]);
    expect(r.code).toBe(0);
    expect(changed(before)).toEqual([]);
    expect(r.stdout).toContain('skipped (condition)');
    expect(r.stdout).toMatch(new RegExp(`skipped \\(condition\\)\\s+${found.length}\\b`));
  });

  it('refuses a --where that does not parse with exit 2, naming the flag, and writes nothing', async () => {
    const before = versions();
    const served = emu.stats().totals.requests;
    const r = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--thing-group',
      'fleet',
      '--where',
      'reported.fw <',
      '--set',
      '{"x":1}',
      '--rate',
      'off',
      '--yes',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--where: ');
    expect(emu.stats().totals.requests).toBe(served);
    expect(changed(before)).toEqual([]);
  });

  it('refuses contradicting selection flags with exit 2', async () => {
    const file = join(dir, 'names.txt');
    await writeFile(file, `${all[0]}\n`);
    for (const [args, message] of [
      [
        ['--thing-group', 'fleet', '--query', 'x'],
        'give one of --thing-group, --query and --all-things, not --thing-group and --query',
      ],
      [['--query', 'x', '--recursive'], '--recursive: only with --thing-group'],
      [['--thing-group', 'fleet', '--index', 'AWS_Things'], '--index: only with --query'],
      [['--query', 'x', '--index', 'AWS_ThingGroups'], '--index: only AWS_Things'],
      [['--things', file, '--thing-group', 'fleet'], 'give the targets once: --things or a selection'],
    ] as const) {
      const r = await runCli(['rollout', '--endpoint', emu.url, ...args, '--set', '{"x":1}', '--rate', 'off']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it('stops with exit 2 and writes nothing when the group does not exist', async () => {
    const before = versions();
    const r = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--thing-group',
      'no-such-group',
      '--set',
      '{"x":1}',
      '--rate',
      'off',
      '--yes',
      '--journal',
      join(dir, 'missing.journal'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('thing group no-such-group');
    expect(changed(before)).toEqual([]);
  });
});

describe('shadowfleet rollout --spec with targets and where', () => {
  it('takes the selection and the condition from the spec, and refuses a bad condition there with exit 2 naming the file and field', async () => {
    const spec = join(dir, 'where.yaml');
    await writeFile(
      spec,
      'targets: { thingGroup: ap-south, recursive: true }\nwhere: \'reported.model == "gw-1"\'\ndesired: { spec: 1 }\n',
    );
    const inGroup = await names(control.thingNamesInGroup({ thingGroupName: 'ap-south', recursive: true }));
    const matching = inGroup.filter(
      (t) => (emu.store.get(t)?.state.reported as { model?: string } | undefined)?.model === 'gw-1',
    );
    expect(matching.length).toBeGreaterThan(0);
    const before = versions();
    const r = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--spec',
      spec,
      '--rate',
      'off',
      '--workers',
      '1',
      '--yes',
      '--journal',
      join(dir, 'spec.journal'),
    ]);
    expect(r.code).toBe(0);
    expect(changed(before)).toEqual(matching);
    const bad = join(dir, 'bad-where.yaml');
    await writeFile(
      bad,
      'targets: { thingGroup: ap-south }\nwhere: \'reported.model = "gw-1"\'\ndesired: { spec: 2 }\n',
    );
    const served = emu.stats().totals.requests;
    const refused = await runCli(['rollout', '--endpoint', emu.url, '--spec', bad, '--rate', 'off', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${bad}: where: `);
    expect(emu.stats().totals.requests).toBe(served);
  });
});

describe('shadowfleet snapshot and restore with a selection', () => {
  it('snapshots a query and restores only the things of a group', async () => {
    const out = join(dir, 'snap');
    const snap = await runCli([
      'snapshot',
      '--endpoint',
      emu.url,
      '--query',
      'thingName:*',
      '--out',
      out,
      '--shadows',
      'classic',
      '--rate',
      'off',
      '--json',
    ]);
    expect(snap.code).toBe(0);
    expect((JSON.parse(snap.stdout) as { things: number }).things).toBe(all.length);
    const group = await names(control.thingNamesInGroup({ thingGroupName: 'fleet', recursive: true }));
    // Change every thing after the snapshot; the restore puts back only the group's.
    const touched = await runCli([
      'rollout',
      '--endpoint',
      emu.url,
      '--all-things',
      '--set',
      '{"later":1}',
      '--rate',
      'off',
      '--workers',
      '1',
      '--yes',
      '--journal',
      join(dir, 'later.journal'),
    ]);
    expect(touched.code).toBe(0);
    const before = versions();
    const r = await runCli([
      'restore',
      '--endpoint',
      emu.url,
      '--from',
      out,
      '--thing-group',
      'fleet',
      '--recursive',
      '--rate',
      'off',
      '--workers',
      '1',
      '--yes',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(changed(before)).toEqual(group);
  });
});

describe('shadowfleet sync with a selection', () => {
  it('mirrors only the things of a recursive thing group to another data plane', async () => {
    const to = await startEmulator({ port: 0, quotas: 'off' });
    try {
      const group = await names(control.thingNamesInGroup({ thingGroupName: 'us-east', recursive: true }));
      const r = await runCli([
        'sync',
        '--from',
        emu.url,
        '--to',
        to.url,
        '--thing-group',
        'us-east',
        '--recursive',
        '--shadows',
        'classic',
        '--from-rate',
        'off',
        '--to-rate',
        'off',
        '--workers',
        '1',
        '--journal',
        join(dir, 'sync.journal'),
      ]);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(all.filter((t) => to.store.get(t) !== undefined).sort()).toEqual(group);
      const bad = await runCli([
        'sync',
        '--from',
        emu.url,
        '--to',
        to.url,
        '--things',
        join(dir, 'names.txt'),
        '--thing-group',
        'us-east',
      ]);
      expect(bad.code, bad.stderr).toBe(2);
      expect(bad.stderr).toContain('give at most one of --things, --thing-group and --query');
    } finally {
      await to.close();
    }
  });
});
