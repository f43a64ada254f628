/**
 * Targets chosen the way fleets are organised, rather than listed: a thing group (its
 * subgroups too with `recursive`), a fleet indexing query (SearchIndex over `AWS_Things`), or
 * every thing of the account (ListThings). Streamed page by page through IotControlClient, so
 * a selection of a million things is never held whole; the first page is fetched before the
 * run starts, so a missing group, a refused query or fleet indexing switched off stops the job
 * with a ConfigError before any shadow is read or written.
 *
 * Every bulk job takes a selection in the same field it takes a things file in (`targets` of a
 * rollout, `things` of a snapshot, ...); `openTargets` turns either into one stream of items.
 */
import { IotControlClient, type IotControlClientOptions } from '../client/iot-control-client.js';
import { ConfigError, InvalidArgumentError, isShadowError } from '../errors.js';
import type { TargetItem } from './task-types.js';

/** The only index SearchIndex offers for things. */
export const THINGS_INDEX = 'AWS_Things';

/** A thing group: its direct members, or with `recursive` the members of its subgroups too. */
export interface ThingGroupSelection {
  thingGroup: string;
  recursive?: boolean;
}

/** A fleet indexing query, e.g. `attributes.site:berlin AND shadow.reported.firmware:1.4*`. */
export interface QuerySelection {
  query: string;
  /** Only `AWS_Things`, the default. */
  index?: string;
}

/** Every thing of the account (ListThings). */
export interface AllThingsSelection {
  allThings: true;
}

export type TargetSelection = ThingGroupSelection | QuerySelection | AllThingsSelection;

/** Where the control-plane calls of a selection go, and as whom. */
export interface ControlPlaneAccess {
  /** The job's data endpoint. */
  endpoint: string;
  /** Default: the data endpoint (an emulator serves both planes), or `https://iot.<region>.amazonaws.com` for an AWS data endpoint. */
  controlEndpoint?: string;
  region?: string;
  credentials?: IotControlClientOptions['credentials'];
  signal?: AbortSignal;
}

const AWS_DATA_HOST = /\.iot\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;
const GROUP_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** True for a selection object (not a file name, a stream or an iterable of names). */
export function isTargetSelection(v: unknown): v is TargetSelection {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return 'thingGroup' in v || 'query' in v || 'allThings' in v;
}

/**
 * Checks a selection once, with messages that name `field` (`targets.thingGroup: ...`), and
 * returns it normalised (`index` and `recursive` only when given).
 */
export function checkTargetSelection(v: unknown, field = 'targets'): TargetSelection {
  if (!isTargetSelection(v)) throw new InvalidArgumentError(`${field}: expected one of thingGroup, query or allThings`);
  const o = v as unknown as Record<string, unknown>;
  const given = ['thingGroup', 'query', 'allThings'].filter((k) => o[k] !== undefined);
  if (given.length !== 1)
    throw new InvalidArgumentError(`${field}: give one of thingGroup, query and allThings, not ${given.join(' and ')}`);
  const known = new Set(['thingGroup', 'recursive', 'query', 'index', 'allThings']);
  for (const k of Object.keys(o))
    if (!known.has(k))
      throw new InvalidArgumentError(
        `${field}.${k}: unknown field (a selection has thingGroup, recursive, query, index or allThings)`,
      );
  if (o.recursive !== undefined && o.thingGroup === undefined)
    throw new InvalidArgumentError(`${field}.recursive: only with thingGroup`);
  if (o.index !== undefined && o.query === undefined) throw new InvalidArgumentError(`${field}.index: only with query`);
  if (o.thingGroup !== undefined) {
    const g = o.thingGroup;
    if (typeof g !== 'string' || !GROUP_NAME.test(g))
      throw new InvalidArgumentError(
        `${field}.thingGroup: expected a thing group name (1-128 of a-z A-Z 0-9 : _ -), got ${JSON.stringify(g)}`,
      );
    if (o.recursive !== undefined && typeof o.recursive !== 'boolean')
      throw new InvalidArgumentError(`${field}.recursive: expected true or false`);
    return o.recursive === true ? { thingGroup: g, recursive: true } : { thingGroup: g };
  }
  if (o.query !== undefined) {
    const q = o.query;
    if (typeof q !== 'string' || q.trim() === '')
      throw new InvalidArgumentError(`${field}.query: expected a fleet indexing query such as attributes.site:berlin`);
    const index = o.index;
    if (index !== undefined && index !== THINGS_INDEX)
      throw new InvalidArgumentError(
        `${field}.index: only ${THINGS_INDEX} (the things index) can select things, got ${JSON.stringify(index)}`,
      );
    return index === undefined ? { query: q } : { query: q, index: THINGS_INDEX };
  }
  if (o.allThings !== true) throw new InvalidArgumentError(`${field}.allThings: expected true`);
  return { allThings: true };
}

/** Says what a selection is, for messages and reports: `thing group berlin (recursive)`. */
export function describeSelection(s: TargetSelection): string {
  if ('thingGroup' in s) return `thing group ${s.thingGroup}${s.recursive === true ? ' (recursive)' : ''}`;
  if ('query' in s) return `query ${JSON.stringify(s.query)}`;
  return 'all things';
}

/** The control endpoint of a data endpoint: the data endpoint itself unless it is an AWS one. */
export function controlEndpointOf(a: Pick<ControlPlaneAccess, 'endpoint' | 'controlEndpoint'>): string | undefined {
  if (a.controlEndpoint !== undefined) return a.controlEndpoint;
  return AWS_DATA_HOST.test(new URL(a.endpoint).hostname) ? undefined : a.endpoint;
}

/** The region of an AWS data endpoint (`xxx-ats.iot.eu-west-1.amazonaws.com`), if it is one. */
function regionOf(endpoint: string): string | undefined {
  return AWS_DATA_HOST.exec(new URL(endpoint).hostname)?.[1];
}

/**
 * The things of a selection as a stream of items. The first page is read before this returns:
 * a group that does not exist, a query the index refuses or fleet indexing switched off is a
 * ConfigError naming the selection, thrown before the job reads or writes a shadow.
 */
export async function openSelection(
  selection: TargetSelection,
  access: ControlPlaneAccess,
): Promise<AsyncIterable<TargetItem>> {
  const s = checkTargetSelection(selection);
  const co: IotControlClientOptions = {};
  const endpoint = controlEndpointOf(access);
  if (endpoint !== undefined) co.endpoint = endpoint;
  const region = access.region ?? regionOf(access.endpoint);
  if (region !== undefined) co.region = region;
  if (access.credentials !== undefined) co.credentials = access.credentials;
  const client = new IotControlClient(co);
  const call = access.signal === undefined ? undefined : { signal: access.signal };
  const names =
    'thingGroup' in s
      ? client.thingNamesInGroup({ thingGroupName: s.thingGroup, recursive: s.recursive === true }, call)
      : 'query' in s
        ? client.searchThingNames({ queryString: s.query, indexName: s.index ?? THINGS_INDEX }, call)
        : client.thingNames({}, call);
  const it = names[Symbol.asyncIterator]();
  let first: IteratorResult<string>;
  try {
    first = await it.next();
  } catch (err) {
    await client.close();
    throw selectionError(s, err);
  }
  return (async function* () {
    try {
      if (first.done === true) return;
      yield { thingName: first.value };
      for (;;) {
        let n: IteratorResult<string>;
        try {
          n = await it.next();
        } catch (err) {
          throw selectionError(s, err);
        }
        if (n.done === true) return;
        yield { thingName: n.value };
      }
    } finally {
      await it.return?.();
      await client.close();
    }
  })();
}

/** A refusal of the control plane (no such group, a bad query, indexing off) names the selection. */
function selectionError(s: TargetSelection, err: unknown): unknown {
  if (!isShadowError(err)) return err;
  const code = (err as { code?: string }).code;
  const aws = (err as { awsErrorType?: string }).awsErrorType;
  const refusal =
    code === 'SHADOW_ERR_CONFIG' ||
    aws === 'ResourceNotFoundException' ||
    aws === 'InvalidQueryException' ||
    aws === 'InvalidRequestException' ||
    aws === 'IndexNotReadyException';
  if (!refusal) return err;
  return new ConfigError(`targets (${describeSelection(s)}): ${(err as Error).message}`, { cause: err });
}
