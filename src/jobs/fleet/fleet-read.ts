/**
 * Reads the shadows a fleet file is about: for each thing of the fleet, each shadow some rule
 * names (the classic one, named ones), with the rules' selections resolved to the things they
 * hold. From the data plane (a run of `snapshot-read` tasks on the job's JobRun) or from a
 * recent snapshot (`fromSnapshot`: its records, no data-plane read at all).
 *
 * Yields one entry per (thing, shadow) with the document read (undefined: no such shadow) and
 * the rules that apply to it (selection, and `where` on that document), in file order.
 */
import { computeDelta } from '../../shadow/compute-delta.js';
import type { ShadowDocument } from '../../shadow/types.js';
import type { JobRun } from '../../engine/job-run.js';
import type { TargetItem } from '../../engine/task-types.js';
import { parseRecordLine, type SnapshotRecord } from '../../sinks/snapshot-format.js';
import type { SnapshotReadConfig } from '../../../workers/handlers/snapshot-read.js';
import { AsyncChannel } from '../sync/async-channel.js';
import { openSnapshotSource } from '../sync/sync-source.js';
import type { FleetFile, FleetRule } from './fleet-file.js';
import { applyingRules } from './fleet-plan.js';
import { selectedSet, selectThings, type SelectThingsOptions } from './select-things.js';

export interface FleetShadow {
  thing: string;
  /** undefined: the classic shadow. */
  shadowName: string | undefined;
  doc: ShadowDocument | undefined;
  rules: FleetRule[];
}

export interface FleetReadOptions {
  /** The data plane and its control plane (selections). */
  select: SelectThingsOptions;
  /** Read a snapshot instead of the data plane. */
  fromSnapshot?: string;
}

/** A snapshot record as the document GetThingShadow would have returned (delta recomputed). */
export function recordDocument(r: SnapshotRecord): ShadowDocument {
  const state: ShadowDocument['state'] = { ...r.state };
  const delta = computeDelta(r.state.desired, r.state.reported);
  if (delta !== undefined) state.delta = delta;
  return { state, metadata: r.metadata, version: r.version, timestamp: r.timestamp };
}

/** The shadows the rules name: undefined for the classic shadow. */
export function ruleShadows(file: FleetFile): Array<string | undefined> {
  return [...new Set(file.rules.map((r) => r.shadowName))];
}

/** Each rule's selection resolved to a set of names (undefined: the whole fleet). */
async function memberships(file: FleetFile, o: FleetReadOptions): Promise<Map<FleetRule, Set<string>>> {
  const out = new Map<FleetRule, Set<string>>();
  for (const rule of file.rules)
    if (rule.selection !== undefined && rule.selection.kind !== 'all')
      out.set(rule, await selectedSet(rule.selection, o.select));
  return out;
}

function entry(
  file: FleetFile,
  members: Map<FleetRule, Set<string>>,
  thing: string,
  shadowName: string | undefined,
  doc: ShadowDocument | undefined,
): FleetShadow {
  const rules = applyingRules(file.rules, shadowName, doc, (r) => members.get(r)?.has(thing) ?? true);
  return { thing, shadowName, doc, rules };
}

/** Streams the fleet's shadows with their rules; `run` reads them from the data plane (unused with fromSnapshot). */
export async function readFleet(
  file: FleetFile,
  run: JobRun,
  o: FleetReadOptions,
): Promise<AsyncIterable<FleetShadow>> {
  const members = await memberships(file, o);
  const shadows = ruleShadows(file);
  if (o.fromSnapshot !== undefined) {
    const fleet = file.fleet.kind === 'all' ? undefined : await selectedSet(file.fleet, o.select);
    const reader = await openSnapshotSource(o.fromSnapshot);
    return (async function* () {
      try {
        let thing: string | undefined;
        let found = new Map<string | undefined, ShadowDocument>();
        const flush = function* (): Generator<FleetShadow> {
          if (thing === undefined || (fleet !== undefined && !fleet.has(thing))) return;
          for (const s of shadows) yield entry(file, members, thing, s, found.get(s));
        };
        for await (const r of reader.records()) {
          if (r.thing !== thing) {
            yield* flush();
            thing = r.thing;
            found = new Map();
          }
          const name = r.shadow ?? undefined;
          if (shadows.includes(name)) found.set(name, recordDocument(r));
        }
        yield* flush();
      } finally {
        reader.close();
      }
    })();
  }
  const channel = new AsyncChannel<FleetShadow>(512);
  const targets = (async function* (): AsyncGenerator<TargetItem> {
    for await (const thingName of selectThings(file.fleet, o.select)) {
      for (const s of shadows) yield s === undefined ? { thingName } : { thingName, shadowName: s };
    }
  })();
  const config: SnapshotReadConfig = { filter: { classic: true, named: false } };
  void run
    .run<SnapshotReadConfig>('snapshot-read', config, targets, async (r) => {
      if (r.outcome === 'failed' || r.outcome === 'partial') {
        const err = new Error(
          `reading ${r.thingName}${r.shadowName === undefined ? '' : `/${r.shadowName}`} failed: ${r.error?.message ?? r.outcome}`,
        );
        channel.fail(err);
        run.drain('a fleet read failed');
        return;
      }
      const line = r.payload?.split('\n')[0];
      const doc = line === undefined || line === '' ? undefined : recordDocument(parseRecordLine(line, 'fleet', 1));
      await channel.push(entry(file, members, r.thingName, r.shadowName, doc));
    })
    .then(
      () => channel.close(),
      (err: unknown) => channel.fail(err),
    );
  return channel;
}
