import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ShadowStore } from '../shadow-store.js';
import type { SigV4Verifier } from '../sigv4-verifier.js';
import { compileIndexQuery, indexQueryFields } from './compile-index-query.js';
import { ControlPlaneFault } from './control-plane-fault.js';
import { parseIndexQuery } from './index-query-parser.js';
import { ThingIndexEntry } from './thing-index-entry.js';
import type { RegistryGroup, RegistryThing, ThingRegistry } from './thing-registry.js';

export interface ControlPlaneRoutesOptions {
  /** Default maxResults of the registry list calls (UNCONFIRMED for AWS). */
  defaultPageSize: number;
  /** Default maxResults of SearchIndex (UNCONFIRMED for AWS; the maximum is 100). */
  defaultSearchPageSize: number;
  /** Whether thing indexing starts switched on (UpdateIndexingConfiguration can change it). */
  fleetIndexing: boolean;
  maxRequestBytes: number;
  /**
   * Things SearchIndex examines per call (default 10,000). When a page reaches it before
   * maxResults matches, the page comes back short with a nextToken, as AWS allows: one call
   * never blocks the server (and its data plane) for a whole large fleet.
   */
  searchScanBudget?: number;
  /** Checks SigV4 signatures (scoped to `iot`) when the emulator verifies them. */
  verifier?: SigV4Verifier | undefined;
}

export const DEFAULT_SEARCH_SCAN_BUDGET = 10_000;

type Query = Record<string, string>;
type Body = Record<string, unknown>;
type Handler = (name: string, q: Query, body: Body) => unknown;

const NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const ATTR_NAME = /^[a-zA-Z0-9_.,@/:#-]{1,128}$/;
const ATTR_VALUE = /^[a-zA-Z0-9_.,@/:#=[\]-]{0,800}$/;
const INDEX_OFF = 'Index AWS_Things does not exist. Please enable index by calling UpdateIndexingConfiguration';

/** Plain percent-decoding of a query string (not form decoding: `+` stays `+`). */
function parseQuery(query: string): Query {
  const out = Object.create(null) as Query;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    try {
      const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      if (!(k in out)) out[k] = decodeURIComponent(eq < 0 ? '' : part.slice(eq + 1));
    } catch {
      throw ControlPlaneFault.invalidRequest('The query string is not valid percent-encoded UTF-8');
    }
  }
  return out;
}

function name(member: string, raw: unknown): string {
  if (typeof raw !== 'string' || !NAME.test(raw)) {
    throw ControlPlaneFault.constraint(
      member,
      raw,
      'Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+ and have length between 1 and 128',
    );
  }
  return raw;
}

function optName(member: string, raw: unknown): string | undefined {
  return raw === undefined || raw === null ? undefined : name(member, raw);
}

function int(member: string, raw: string | number | undefined, min: number, max: number): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  const n = typeof raw === 'number' ? raw : /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw ControlPlaneFault.constraint(member, raw, 'Member must be an integer');
  if (n < min)
    throw ControlPlaneFault.constraint(member, raw, `Member must have value greater than or equal to ${min}`);
  if (n > max) throw ControlPlaneFault.constraint(member, raw, `Member must have value less than or equal to ${max}`);
  return n;
}

function bool(member: string, raw: unknown): boolean | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw ControlPlaneFault.constraint(member, raw, 'Member must be a boolean');
}

function attributes(member: string, raw: unknown): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw ControlPlaneFault.constraint(member, raw, 'Member must be a map of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!ATTR_NAME.test(k))
      throw ControlPlaneFault.constraint(
        `${member}.key`,
        k,
        'Member must satisfy regular expression pattern: [a-zA-Z0-9_.,@/:#-]+',
      );
    if (typeof v !== 'string' || !ATTR_VALUE.test(v)) {
      throw ControlPlaneFault.constraint(
        `${member}.${k}`,
        v,
        'Member must satisfy regular expression pattern: [a-zA-Z0-9_.,@/:#=\\[\\]-]*',
      );
    }
    out[k] = v;
  }
  return out;
}

/** Stateless tokens: URL-safe base64 of [filter key, last key]; a token from other filters is refused. */
function encodeToken(filter: string, last: string | number): string {
  return Buffer.from(JSON.stringify([filter, last]), 'utf8').toString('base64url');
}

function decodeToken(token: string | undefined, filter: string): string | number | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('bad');
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && v[0] === filter && (typeof v[1] === 'string' || typeof v[1] === 'number'))
      return v[1] as string | number;
  } catch {
    // falls through to the refusal
  }
  // UNCONFIRMED: AWS's answer to a garbled or foreign token.
  throw ControlPlaneFault.invalidRequest('Invalid nextToken');
}

/** First index of a sorted array whose element is greater than `key`. */
function after(sorted: readonly string[], key: string | undefined): number {
  if (key === undefined) return 0;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A page of a sorted name list after the token's name. */
function page(
  sorted: readonly string[],
  token: string | undefined,
  filter: string,
  max: number,
): { names: string[]; nextToken?: string } {
  const last = decodeToken(token, filter);
  const start = after(sorted, typeof last === 'string' ? last : undefined);
  const names = sorted.slice(start, start + max);
  return start + max < sorted.length ? { names, nextToken: encodeToken(filter, names[names.length - 1]!) } : { names };
}

/**
 * The AWS IoT control-plane calls target selection needs (registry, static thing groups,
 * SearchIndex over AWS_Things), in AWS's REST shapes (control-plane reference §1.1). The
 * emulator hands a request here only after its data-plane routes did not match, so the shadow
 * hot path is untouched. Control-plane quotas and signature checks are not emulated.
 */
export class ControlPlaneRoutes {
  readonly #store: ShadowStore;
  readonly #registry: ThingRegistry;
  readonly #o: ControlPlaneRoutesOptions;
  #indexing: boolean;
  #indexingConfig: Record<string, unknown>;

  constructor(store: ShadowStore, registry: ThingRegistry, options: ControlPlaneRoutesOptions) {
    this.#store = store;
    this.#registry = registry;
    this.#o = options;
    this.#indexing = options.fleetIndexing;
    this.#indexingConfig = this.#defaultConfig(options.fleetIndexing);
  }

  #defaultConfig(on: boolean): Record<string, unknown> {
    return {
      thingIndexingConfiguration: on
        ? {
            thingIndexingMode: 'REGISTRY_AND_SHADOW',
            thingConnectivityIndexingMode: 'STATUS',
            namedShadowIndexingMode: 'ON',
          }
        : { thingIndexingMode: 'OFF', thingConnectivityIndexingMode: 'OFF' },
      thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'OFF' },
    };
  }

  /** The handler of a control-plane route, or undefined when the path is not one. */
  route(method: string, path: string): { handler: Handler; label: string } | undefined {
    const seg = path.split('/');
    if (seg[0] !== '' || seg.length < 2) return undefined;
    const label = seg[2] === undefined ? '' : seg[2];
    const h = (handler: Handler | undefined): { handler: Handler; label: string } | undefined =>
      handler === undefined ? undefined : { handler, label };
    if (seg[1] === 'things' && seg.length === 3 && label !== '') {
      return h(
        { POST: this.#createThing, GET: this.#describeThing, PATCH: this.#updateThing, DELETE: this.#deleteThing }[
          method
        ],
      );
    }
    if (seg[1] === 'things' && seg.length === 4 && seg[3] === 'thing-groups')
      return h(method === 'GET' ? this.#groupsForThing : undefined);
    if (seg[1] === 'thing-groups') {
      if (seg.length === 2 || (seg.length === 3 && label === ''))
        return h(method === 'GET' ? this.#listGroups : undefined);
      // Literal segments first: only PUT reaches them, no PUT exists on /thing-groups/{name} (reference §1.1).
      if (seg.length === 3 && method === 'PUT' && label === 'addThingToThingGroup') return h(this.#addToGroup);
      if (seg.length === 3 && method === 'PUT' && label === 'removeThingFromThingGroup')
        return h(this.#removeFromGroup);
      if (seg.length === 3)
        return h({ POST: this.#createGroup, GET: this.#describeGroup, DELETE: this.#deleteGroup }[method]);
      if (seg.length === 4 && seg[3] === 'things') return h(method === 'GET' ? this.#thingsInGroup : undefined);
    }
    if (path === '/indices/search' && method === 'POST') return h(this.#search);
    if (seg[1] === 'indices' && seg.length === 3 && label !== '')
      return h(method === 'GET' ? this.#describeIndex : undefined);
    if (path === '/indexing/config') return h({ GET: this.#getIndexing, POST: this.#updateIndexing }[method]);
    return undefined;
  }

  /** True when the path belongs to the control plane (whatever the method), for a 405 instead of a 404. */
  knows(path: string): boolean {
    return /^\/(things\/[^/]+(\/thing-groups)?|thing-groups(\/[^/]+(\/things)?)?\/?|indices\/[^/]+|indexing\/config)$/.test(
      path,
    );
  }

  /** Reads the body, runs the operation and answers, in AWS's success and error shapes. */
  handle(req: IncomingMessage, res: ServerResponse, route: { handler: Handler; label: string }, query: string): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > this.#o.maxRequestBytes) {
        if (!refused)
          send(res, new ControlPlaneFault(413, 'RequestEntityTooLargeException', 'The request body is too large'));
        refused = true;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      const verifier = this.#o.verifier;
      if (verifier === undefined) return this.#answer(res, route, query, chunks);
      const url = req.url ?? '/';
      const qi = url.indexOf('?');
      const body = Buffer.concat(chunks);
      verifier
        .verify(
          req.method ?? 'GET',
          qi < 0 ? url : url.slice(0, qi),
          query,
          req.headers,
          body.length > 0 ? body : undefined,
        )
        .then(
          (fault) => {
            if (fault === undefined) return this.#answer(res, route, query, [body]);
            send(res, new ControlPlaneFault(fault.status, fault.errorType, fault.message));
          },
          () => send(res, new ControlPlaneFault(500, 'InternalFailureException', 'Internal service failure')),
        );
    });
  }

  #answer(res: ServerResponse, route: { handler: Handler; label: string }, query: string, chunks: Buffer[]): void {
    try {
      let label: string;
      try {
        label = decodeURIComponent(route.label);
      } catch {
        throw ControlPlaneFault.invalidRequest('The path is not valid percent-encoded UTF-8');
      }
      const text = Buffer.concat(chunks).toString('utf8').trim();
      let body: unknown = {};
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          throw ControlPlaneFault.invalidRequest('The request body is not valid JSON');
        }
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw ControlPlaneFault.invalidRequest('The request body must be a JSON object');
      send(res, 200, JSON.stringify(this.#run(route.handler, label, query, body as Body)));
    } catch (err) {
      if (err instanceof ControlPlaneFault) send(res, err);
      else send(res, new ControlPlaneFault(500, 'InternalFailureException', 'Internal service failure'));
    }
  }

  /**
   * Runs one control-plane call without HTTP (tests, tools): the JSON answer as an object, or a
   * thrown ControlPlaneFault. `path` is as on the wire (labels percent-encoded).
   */
  call(method: string, path: string, query = '', body: Record<string, unknown> = {}): unknown {
    const route = this.route(method, path);
    if (route === undefined) throw ControlPlaneFault.notFound('Not Found');
    let label: string;
    try {
      label = decodeURIComponent(route.label);
    } catch {
      throw ControlPlaneFault.invalidRequest('The path is not valid percent-encoded UTF-8');
    }
    return this.#run(route.handler, label, query, body);
  }

  #run(handler: Handler, label: string, query: string, body: Body): unknown {
    return handler.call(this, label, parseQuery(query), body) ?? {};
  }

  // ---- things -------------------------------------------------------------------------------

  #createThing(thingName: string, _q: Query, b: Body): unknown {
    const n = name('thingName', thingName);
    const payload = (b.attributePayload ?? {}) as Body;
    const t = this.#registry.createThing(n, {
      thingTypeName: optName('thingTypeName', b.thingTypeName),
      billingGroupName: optName('billingGroupName', b.billingGroupName),
      attributes: attributes('attributePayload.attributes', payload.attributes),
    });
    return { thingName: t.name, thingArn: this.#registry.thingArn(t.name), thingId: t.id };
  }

  #thing(thingName: string): RegistryThing {
    const t = this.#registry.thing(name('thingName', thingName));
    // UNCONFIRMED text.
    if (t === undefined) throw ControlPlaneFault.notFound(`Thing ${thingName} cannot be found.`);
    return t;
  }

  #describeThing(thingName: string): unknown {
    const t = this.#thing(thingName);
    return {
      defaultClientId: t.name,
      thingName: t.name,
      thingId: t.id,
      thingArn: this.#registry.thingArn(t.name),
      ...(t.typeName !== undefined ? { thingTypeName: t.typeName } : {}),
      attributes: t.attributes,
      version: t.version,
      ...(t.billingGroupName !== undefined ? { billingGroupName: t.billingGroupName } : {}),
    };
  }

  #updateThing(thingName: string, _q: Query, b: Body): unknown {
    const payload = b.attributePayload as Body | undefined;
    this.#registry.updateThing(name('thingName', thingName), {
      thingTypeName: optName('thingTypeName', b.thingTypeName),
      removeThingType: bool('removeThingType', b.removeThingType),
      attributes:
        payload?.attributes === undefined || payload.attributes === null
          ? undefined
          : attributes('attributePayload.attributes', payload.attributes),
      merge: payload === undefined ? undefined : bool('attributePayload.merge', payload.merge),
      expectedVersion: int(
        'expectedVersion',
        b.expectedVersion as number | undefined,
        Number.MIN_SAFE_INTEGER,
        Number.MAX_SAFE_INTEGER,
      ),
    });
    return {};
  }

  #deleteThing(thingName: string, q: Query): unknown {
    this.#registry.deleteThing(
      name('thingName', thingName),
      int('expectedVersion', q.expectedVersion, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    );
    return {};
  }

  #thingItem(t: RegistryThing | undefined, thingName: string): Record<string, unknown> {
    // A thing that only holds shadows is listed as the emulator always did: no attributes, version 1.
    if (t === undefined) return { thingName, thingArn: this.#registry.thingArn(thingName), attributes: {}, version: 1 };
    return {
      thingName: t.name,
      ...(t.typeName !== undefined ? { thingTypeName: t.typeName } : {}),
      thingArn: this.#registry.thingArn(t.name),
      attributes: t.attributes,
      version: t.version,
    };
  }

  /**
   * ListThings, also answering the emulator's data-plane `GET /things` route. Without filters
   * it lists, as the emulator always has, every thing holding a live shadow (in creation
   * order), then the registered things without shadows (by name): AWS lists registry things
   * only, but a shadow-only fleet must stay listable for `--all-things`. With attribute or type
   * filters only registered things can match. Returns the JSON body.
   */
  listThingsBody(query: string): string {
    const q = parseQuery(query);
    const max = int('maxResults', q.maxResults, 1, 250) ?? this.#o.defaultPageSize;
    const attributeName = q.attributeName;
    const attributeValue = q.attributeValue;
    const typeName = q.thingTypeName;
    const prefix = bool('usePrefixAttributeValue', q.usePrefixAttributeValue) === true;
    if (attributeName !== undefined && !ATTR_NAME.test(attributeName))
      throw ControlPlaneFault.constraint(
        'attributeName',
        attributeName,
        'Member must satisfy regular expression pattern: [a-zA-Z0-9_.,@/:#-]+',
      );
    if (attributeValue !== undefined && attributeName === undefined)
      throw ControlPlaneFault.invalidRequest('attributeValue requires attributeName');
    if (typeName !== undefined) name('thingTypeName', typeName);
    if (typeName !== undefined && attributeName !== undefined) {
      // Text from a user report (aws/aws-sdk-js#4237); status UNCONFIRMED.
      throw ControlPlaneFault.invalidRequest(
        'Listing things by the combination of attribute and thing type is not supported',
      );
    }
    const items: Record<string, unknown>[] = [];
    let nextToken: string | undefined;
    if (attributeName !== undefined || typeName !== undefined) {
      const filter = `f:${attributeName ?? ''}=${attributeValue ?? ''}:${prefix}:${typeName ?? ''}`;
      const names = this.#registry.thingNames();
      const last = decodeToken(q.nextToken, filter);
      const matches = (t: RegistryThing): boolean => {
        if (typeName !== undefined) return t.typeName === typeName;
        const v = t.attributes[attributeName!];
        if (v === undefined) return false;
        if (attributeValue === undefined) return true;
        return prefix ? v.startsWith(attributeValue) : v === attributeValue;
      };
      for (let i = after(names, typeof last === 'string' ? last : undefined); i < names.length; i++) {
        const t = this.#registry.thing(names[i]!)!;
        if (!matches(t)) continue;
        if (items.length === max) {
          nextToken = encodeToken(filter, items[items.length - 1]!.thingName as string);
          break;
        }
        items.push(this.#thingItem(t, t.name));
      }
    } else {
      ({ nextToken } = this.#listAll(q.nextToken, max, items));
    }
    return JSON.stringify(nextToken === undefined ? { things: items } : { things: items, nextToken });
  }

  /** The unfiltered listing: shadow-holding things by position, then registry-only things by name. */
  #listAll(token: string | undefined, max: number, items: Record<string, unknown>[]): { nextToken?: string } {
    let last = decodeToken(token, 'all');
    if (last === undefined || typeof last === 'number') {
      const { names, next } = this.#store.listThings(last ?? 0, max);
      for (const n of names) items.push(this.#thingItem(this.#registry.thing(n), n));
      if (next !== undefined) return { nextToken: encodeToken('all', next) };
      last = '';
    }
    const names = this.#registry.thingNames();
    // '' stands for "the start of the registry phase" in a token.
    let resumeAfter: string = last;
    for (let i = after(names, last === '' ? undefined : last); i < names.length; i++) {
      const n = names[i]!;
      if (this.#store.hasShadows(n)) continue;
      if (items.length === max) return { nextToken: encodeToken('all', resumeAfter) };
      items.push(this.#thingItem(this.#registry.thing(n), n));
      resumeAfter = n;
    }
    return {};
  }

  #groupsForThing(thingName: string, q: Query): unknown {
    const t = this.#thing(thingName);
    const max = int('maxResults', q.maxResults, 1, 250) ?? this.#o.defaultPageSize;
    const p = page([...t.groups].sort(), q.nextToken, `tg:${t.name}`, max);
    return { thingGroups: p.names.map((g) => this.#nameAndArn(g)), ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  }

  // ---- thing groups -------------------------------------------------------------------------

  #nameAndArn(g: string): { groupName: string; groupArn: string } {
    return { groupName: g, groupArn: this.#registry.groupArn(g) };
  }

  #createGroup(groupName: string, _q: Query, b: Body): unknown {
    const props = (b.thingGroupProperties ?? {}) as Body;
    const payload = (props.attributePayload ?? {}) as Body;
    const description = props.thingGroupDescription;
    if (description !== undefined && (typeof description !== 'string' || description.length > 2028)) {
      throw ControlPlaneFault.constraint(
        'thingGroupProperties.thingGroupDescription',
        description,
        'Member must have length less than or equal to 2028',
      );
    }
    const tags = b.tags;
    if (tags !== undefined && (!Array.isArray(tags) || tags.some((t) => typeof (t as Body)?.Key !== 'string'))) {
      throw ControlPlaneFault.constraint('tags', JSON.stringify(tags), 'Member must be a list of {Key, Value}');
    }
    const g = this.#registry.createGroup(name('thingGroupName', groupName), {
      parentGroupName: optName('parentGroupName', b.parentGroupName),
      description: description as string | undefined,
      attributes: attributes('thingGroupProperties.attributePayload.attributes', payload.attributes),
      tags: tags as Array<{ Key: string; Value?: string }> | undefined,
    });
    return { thingGroupName: g.name, thingGroupArn: this.#registry.groupArn(g.name), thingGroupId: g.id };
  }

  #group(groupName: string): RegistryGroup {
    const g = this.#registry.group(name('thingGroupName', groupName));
    // UNCONFIRMED text.
    if (g === undefined) throw ControlPlaneFault.notFound(`Thing group ${groupName} cannot be found.`);
    return g;
  }

  #describeGroup(groupName: string): unknown {
    const g = this.#group(groupName);
    const props: Body = {};
    if (g.description !== undefined) props.thingGroupDescription = g.description;
    if (Object.keys(g.attributes).length > 0) props.attributePayload = { attributes: g.attributes };
    const ancestors = this.#registry.ancestors(g.name);
    return {
      thingGroupName: g.name,
      thingGroupId: g.id,
      thingGroupArn: this.#registry.groupArn(g.name),
      version: g.version,
      thingGroupProperties: props,
      thingGroupMetadata: {
        ...(g.parent !== undefined ? { parentGroupName: g.parent } : {}),
        // UNCONFIRMED for a root group: absent (here) or [].
        ...(ancestors.length > 0 ? { rootToParentThingGroups: ancestors.map((a) => this.#nameAndArn(a)) } : {}),
        creationDate: g.creationDate,
      },
    };
  }

  #deleteGroup(groupName: string, q: Query): unknown {
    this.#registry.deleteGroup(
      name('thingGroupName', groupName),
      int('expectedVersion', q.expectedVersion, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    );
    return {};
  }

  /** The thing and group of an Add/Remove body: a name or an ARN of each (reference §4.4). */
  #membership(b: Body): [string, string] {
    const fromArn = (arn: unknown, kind: string): string | undefined => {
      if (arn === undefined || arn === null) return undefined;
      if (typeof arn !== 'string' || !arn.includes(`:${kind}/`))
        throw ControlPlaneFault.invalidRequest(
          `Invalid ${kind === 'thing' ? 'thingArn' : 'thingGroupArn'}: ${String(arn)}`,
        );
      return arn.slice(arn.lastIndexOf('/') + 1);
    };
    const groupName = optName('thingGroupName', b.thingGroupName) ?? fromArn(b.thingGroupArn, 'thinggroup');
    const thingName = optName('thingName', b.thingName) ?? fromArn(b.thingArn, 'thing');
    // Texts UNCONFIRMED (moto's wording).
    if (groupName === undefined)
      throw ControlPlaneFault.invalidRequest(
        'Both thingGroupArn and thingGroupName are empty. Need to specify at least one of them',
      );
    if (thingName === undefined)
      throw ControlPlaneFault.invalidRequest(
        'Both thingArn and thingName are empty. Need to specify at least one of them',
      );
    return [thingName, groupName];
  }

  #addToGroup(_l: string, _q: Query, b: Body): unknown {
    this.#registry.addThingToGroup(...this.#membership(b));
    return {};
  }

  #removeFromGroup(_l: string, _q: Query, b: Body): unknown {
    this.#registry.removeThingFromGroup(...this.#membership(b));
    return {};
  }

  #thingsInGroup(groupName: string, q: Query): unknown {
    const g = this.#group(groupName);
    const recursive = bool('recursive', q.recursive) === true;
    const max = int('maxResults', q.maxResults, 1, 250) ?? this.#o.defaultPageSize;
    const p = page(this.#registry.thingsInGroup(g.name, recursive), q.nextToken, `tig:${g.name}:${recursive}`, max);
    return { things: p.names, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  }

  /**
   * ListThingGroups. No parent: every group, or only root groups with `recursive=false`
   * (UNCONFIRMED, moto's reading); with `parentGroup`: its direct children, all descendants
   * with `recursive=true` (the guide's reading).
   */
  #listGroups(_l: string, q: Query): unknown {
    const max = int('maxResults', q.maxResults, 1, 250) ?? this.#o.defaultPageSize;
    const recursive = bool('recursive', q.recursive);
    const parent = optName('parentGroup', q.parentGroup);
    const prefix = q.namePrefixFilter;
    let names: readonly string[];
    if (parent !== undefined) {
      const p = this.#group(parent);
      names = (recursive === true ? this.#registry.descendants(p.name) : [...p.children]).sort();
    } else if (recursive === false) {
      names = this.#registry.groupNames().filter((g) => this.#registry.group(g)!.parent === undefined);
    } else names = this.#registry.groupNames();
    if (prefix !== undefined && prefix !== '') names = names.filter((g) => g.startsWith(prefix));
    const p = page(names, q.nextToken, `g:${parent ?? ''}:${String(recursive)}:${prefix ?? ''}`, max);
    return { thingGroups: p.names.map((g) => this.#nameAndArn(g)), ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  }

  // ---- fleet indexing -----------------------------------------------------------------------

  /** DescribeIndex: AWS_Things is ACTIVE at once while indexing is on (no BUILDING phase is emulated). */
  #describeIndex(indexName: string): unknown {
    name('indexName', indexName);
    if (indexName !== 'AWS_Things' || !this.#indexing)
      throw ControlPlaneFault.notFound(`Index ${indexName} does not exist`);
    const thing = this.#indexingConfig.thingIndexingConfiguration as Body;
    const shadow = thing.thingIndexingMode === 'REGISTRY_AND_SHADOW';
    const connectivity = thing.thingConnectivityIndexingMode === 'STATUS';
    // Schema names from the guide (reference §5.2); named shadows make it MULTI_INDEXING_MODE.
    let schema = shadow
      ? connectivity
        ? 'REGISTRY_AND_SHADOW_AND_CONNECTIVITY_STATUS'
        : 'REGISTRY_AND_SHADOW'
      : connectivity
        ? 'REGISTRY_AND_CONNECTIVITY'
        : 'REGISTRY';
    if (thing.namedShadowIndexingMode === 'ON') schema = 'MULTI_INDEXING_MODE';
    return { indexName, indexStatus: 'ACTIVE', schema };
  }

  #getIndexing(): unknown {
    return this.#indexingConfig;
  }

  /** UpdateIndexingConfiguration: only on (any mode but OFF) or off matters here; the rest is kept as sent. */
  #updateIndexing(_l: string, _q: Query, b: Body): unknown {
    const thing = b.thingIndexingConfiguration as Body | undefined;
    if (thing !== undefined) {
      const mode = thing.thingIndexingMode;
      if (mode !== 'OFF' && mode !== 'REGISTRY' && mode !== 'REGISTRY_AND_SHADOW') {
        throw ControlPlaneFault.constraint(
          'thingIndexingConfiguration.thingIndexingMode',
          mode,
          'Member must satisfy enum value set: [OFF, REGISTRY, REGISTRY_AND_SHADOW]',
        );
      }
      this.#indexing = mode !== 'OFF';
      this.#indexingConfig = { ...this.#indexingConfig, thingIndexingConfiguration: { ...thing } };
    }
    if (b.thingGroupIndexingConfiguration !== undefined)
      this.#indexingConfig = {
        ...this.#indexingConfig,
        thingGroupIndexingConfiguration: b.thingGroupIndexingConfiguration,
      };
    return {};
  }

  /**
   * SearchIndex over AWS_Things: registered things by name, each evaluated against the
   * compiled query with its registry entry, its classic and named shadows from the shadow
   * store and its emulated connectivity. Pages hold at most maxResults matches.
   */
  #search(_l: string, _q: Query, b: Body): unknown {
    const indexName = b.indexName ?? 'AWS_Things';
    if (typeof indexName !== 'string')
      throw ControlPlaneFault.constraint('indexName', indexName, 'Member must be a string');
    if (indexName !== 'AWS_Things') throw ControlPlaneFault.notFound(`Index ${indexName} does not exist`);
    if (!this.#indexing) throw ControlPlaneFault.notFound(INDEX_OFF);
    const queryString = b.queryString;
    if (typeof queryString !== 'string' || queryString.length === 0)
      throw ControlPlaneFault.constraint(
        'queryString',
        queryString,
        'Member must have length greater than or equal to 1',
      );
    const max = int('maxResults', b.maxResults as number | undefined, 1, 100) ?? this.#o.defaultSearchPageSize;
    if (b.nextToken !== undefined && b.nextToken !== null && typeof b.nextToken !== 'string')
      throw ControlPlaneFault.invalidRequest('Invalid nextToken');
    const filter = `q:${createHash('sha256').update(queryString).digest('base64url').slice(0, 16)}`;
    const last = decodeToken((b.nextToken as string | null | undefined) ?? undefined, filter);
    const query = parseIndexQuery(queryString);
    const predicate = compileIndexQuery(query);
    const scope = ThingIndexEntry.scopeOf(indexQueryFields(query));
    const names = this.#registry.thingNames();
    const things: unknown[] = [];
    const now = Date.now();
    let lastName: string | undefined;
    const start = after(names, typeof last === 'string' ? last : undefined);
    const budget = this.#o.searchScanBudget ?? DEFAULT_SEARCH_SCAN_BUDGET;
    for (let i = start; i < names.length; i++) {
      if (i - start === budget) return { things, nextToken: encodeToken(filter, names[i - 1]!) };
      const thing = this.#registry.thing(names[i]!)!;
      // Only the shadows the query reads are loaded to test a thing; a match loads them all.
      if (!predicate(new ThingIndexEntry(thing, this.#store, now, scope).fields())) continue;
      if (things.length === max) return { things, nextToken: encodeToken(filter, lastName!) };
      things.push(new ThingIndexEntry(thing, this.#store, now).document());
      lastName = names[i];
    }
    return { things };
  }
}

/** Sends a success body or an error in AWS's shape: `x-amzn-ErrorType`, `{message, traceId, ...members}`. */
function send(res: ServerResponse, statusOrFault: number | ControlPlaneFault, okBody = '{}'): void {
  if (res.headersSent || res.destroyed) return;
  const requestId = randomUUID();
  if (typeof statusOrFault === 'number') {
    res.writeHead(statusOrFault, [
      'Content-Type',
      'application/json',
      'Content-Length',
      String(Buffer.byteLength(okBody)),
      'x-amzn-RequestId',
      requestId,
    ]);
    res.end(okBody);
    return;
  }
  const f = statusOrFault;
  const body = JSON.stringify({ message: f.message, traceId: requestId, ...f.members });
  res.writeHead(f.status, [
    'Content-Type',
    'application/json',
    'Content-Length',
    String(Buffer.byteLength(body)),
    'x-amzn-RequestId',
    requestId,
    'x-amzn-ErrorType',
    f.errorType,
  ]);
  res.end(body);
}
