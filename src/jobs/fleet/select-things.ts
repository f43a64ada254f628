/**
 * The things of a selection, streamed by name: a thing group (ListThingsInThingGroup, with its
 * subgroups when recursive), a fleet index query (SearchIndex), a file of names (plain, CSV or
 * JSON lines, as the bulk commands read them), or every thing (ListThings). The control-plane
 * calls go through IotControlClient (src/client), whose endpoint defaults to the data endpoint
 * for an emulator (which serves both planes on one URL) and to the region's control plane for AWS.
 */
import { IotControlClient, type IotControlClientOptions } from '../../client/iot-control-client.js';
import { openTargets } from '../../engine/open-targets.js';
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

const AWS_DATA_HOST = /\.iot\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** The control endpoint of a data endpoint (see SelectThingsOptions.controlEndpoint). */
export function controlEndpointOf(o: Pick<SelectThingsOptions, 'endpoint' | 'controlEndpoint'>): string | undefined {
  if (o.controlEndpoint !== undefined) return o.controlEndpoint;
  return AWS_DATA_HOST.test(new URL(o.endpoint).hostname) ? undefined : o.endpoint;
}

/** Streams the names of the selected things. */
export async function* selectThings(selection: FleetSelection, o: SelectThingsOptions): AsyncGenerator<string> {
  if (selection.kind === 'things') {
    for await (const item of await openTargets(selection.file)) yield item.thingName;
    return;
  }
  const co: IotControlClientOptions = {};
  const endpoint = controlEndpointOf(o);
  if (endpoint !== undefined) co.endpoint = endpoint;
  if (o.region !== undefined) co.region = o.region;
  if (o.credentials !== undefined) co.credentials = o.credentials;
  const client = new IotControlClient(co);
  const call = o.signal === undefined ? undefined : { signal: o.signal };
  try {
    if (selection.kind === 'group')
      yield* client.thingNamesInGroup({ thingGroupName: selection.group, recursive: selection.recursive }, call);
    else if (selection.kind === 'query') yield* client.searchThingNames({ queryString: selection.query }, call);
    else yield* client.thingNames({}, call);
  } finally {
    await client.close();
  }
}

/** The names of a selection as a set (for a rule's membership test within a fleet). */
export async function selectedSet(selection: FleetSelection, o: SelectThingsOptions): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const name of selectThings(selection, o)) out.add(name);
  return out;
}
