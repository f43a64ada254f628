/**
 * The things of a selection, streamed by name: a thing group (ListThingsInThingGroup, with its
 * subgroups when recursive), a fleet index query (SearchIndex), a file of names (plain, CSV or
 * JSON lines, as the bulk commands read them), or every thing (ListThings). The fleet file's
 * selection is turned into the engine's one TargetSelection and opened by `openTargets`, as every
 * bulk job's targets are (src/engine/target-selection.ts): the same pages, endpoint defaults and
 * errors (a missing group or indexing switched off is a ConfigError before the first write).
 */
import type { IotControlClientOptions } from '../../client/iot-control-client.js';
import { openTargets, type RolloutTargets } from '../../engine/open-targets.js';
import { controlEndpointOf as engineControlEndpointOf } from '../../engine/target-selection.js';
import type { FleetSelection } from './fleet-file.js';

export interface SelectThingsOptions {
  /** The data endpoint the selection belongs to. */
  endpoint: string;
  /** Control-plane endpoint; default: the data endpoint unless it is an AWS one (then the region's). */
  controlEndpoint?: string;
  region?: string;
  credentials?: IotControlClientOptions['credentials'];
  signal?: AbortSignal;
}

/** The control endpoint of a data endpoint (see SelectThingsOptions.controlEndpoint). */
export function controlEndpointOf(o: Pick<SelectThingsOptions, 'endpoint' | 'controlEndpoint'>): string | undefined {
  return engineControlEndpointOf(o);
}

/** Streams the names of the selected things. */
export async function* selectThings(selection: FleetSelection, o: SelectThingsOptions): AsyncGenerator<string> {
  const targets: RolloutTargets =
    selection.kind === 'things'
      ? selection.file
      : selection.kind === 'group'
        ? selection.recursive
          ? { thingGroup: selection.group, recursive: true }
          : { thingGroup: selection.group }
        : selection.kind === 'query'
          ? { query: selection.query }
          : { allThings: true };
  for await (const item of await openTargets(targets, undefined, o)) yield item.thingName;
}

/** The names of a selection as a set (for a rule's membership test within a fleet). */
export async function selectedSet(selection: FleetSelection, o: SelectThingsOptions): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const name of selectThings(selection, o)) out.add(name);
  return out;
}
