import type { ShadowDocument } from '../../shadow/types.js';
import type { ShadowStore } from '../shadow-store.js';
import type { IndexDocument, IndexValue } from './compile-index-query.js';
import type { RegistryThing } from './thing-registry.js';

/** Which shadows an entry reads. */
export interface ShadowScope {
  classic: boolean;
  named: ReadonlySet<string> | 'all';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Adds a shadow section under `prefix` as dot-joined paths (AWS: `{"a":{"b":1}}` and
 * `{"a.b":1}` both index as `a.b`). Nulls are not indexed; arrays of simple values index each
 * element; arrays holding objects or arrays are not indexed.
 */
function flatten(into: Map<string, IndexValue[]>, prefix: string, value: Json | undefined): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    if (value.some((e) => e !== null && typeof e === 'object')) return;
    for (const e of value) if (e !== null) push(into, prefix, e as IndexValue);
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(into, `${prefix}.${k}`, v);
    return;
  }
  push(into, prefix, value);
}

function push(into: Map<string, IndexValue[]>, key: string, v: IndexValue): void {
  const list = into.get(key);
  if (list === undefined) into.set(key, [v]);
  else list.push(v);
}

/** The `shadow` text of a ThingDocument for one shadow: sections without a `state` wrapper (reference §6.2). */
function shadowLayout(doc: ShadowDocument): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (doc.state.desired !== undefined) out.desired = doc.state.desired;
  if (doc.state.reported !== undefined) out.reported = doc.state.reported;
  if (doc.state.delta !== undefined) out.delta = doc.state.delta;
  out.metadata = doc.metadata;
  out.hasDelta = doc.state.delta !== undefined;
  out.version = doc.version;
  return out;
}

/**
 * A registered thing as the AWS_Things index sees it: the searchable fields (registry,
 * classic and named shadows from the shadow store, emulated connectivity) and the
 * ThingDocument SearchIndex answers with (`shadow` as a JSON string).
 */
export class ThingIndexEntry {
  readonly thing: RegistryThing;
  readonly #shadows: { classic: ShadowDocument | undefined; named: Array<[string, ShadowDocument]> };

  /**
   * `scope` limits which shadows are read (a query that names no shadow field reads none);
   * without it every shadow is read, as a result document needs.
   */
  constructor(thing: RegistryThing, store: ShadowStore, nowMs = Date.now(), scope?: ShadowScope) {
    this.thing = thing;
    const named: Array<[string, ShadowDocument]> = [];
    if (scope === undefined || scope.named === 'all' || scope.named.size > 0) {
      for (const n of store.namedShadows(thing.name)) {
        if (scope !== undefined && scope.named !== 'all' && !scope.named.has(n)) continue;
        const d = store.get(thing.name, n, nowMs);
        if (d !== undefined) named.push([n, d]);
      }
    }
    this.#shadows = {
      classic: scope === undefined || scope.classic ? store.get(thing.name, undefined, nowMs) : undefined,
      named,
    };
  }

  /** The shadows a set of query fields reads: the classic one for `shadow.<section>`, named ones for `shadow.name.<n>`. */
  static scopeOf(fields: Iterable<string>): ShadowScope {
    let classic = false;
    const named = new Set<string>();
    for (const f of fields) {
      if (!f.startsWith('shadow.')) continue;
      if (f.startsWith('shadow.name.')) named.add(f.split('.')[2]!);
      else classic = true;
    }
    return { classic, named };
  }

  /** The fields a query is evaluated against. */
  fields(): IndexDocument {
    const t = this.thing;
    const m = new Map<string, IndexValue[]>();
    m.set('thingName', [t.name]);
    m.set('thingId', [t.id]);
    if (t.typeName !== undefined) m.set('thingTypeName', [t.typeName]);
    const groups = this.groupNames();
    if (groups.length > 0) m.set('thingGroupNames', groups);
    for (const [k, v] of Object.entries(t.attributes)) m.set(`attributes.${k}`, [v]);
    const addShadow = (prefix: string, d: ShadowDocument): void => {
      flatten(m, `${prefix}.desired`, d.state.desired as Json | undefined);
      flatten(m, `${prefix}.reported`, d.state.reported as Json | undefined);
      flatten(m, `${prefix}.delta`, d.state.delta as Json | undefined);
      m.set(`${prefix}.hasDelta`, [d.state.delta !== undefined]);
    };
    if (this.#shadows.classic !== undefined) addShadow('shadow', this.#shadows.classic);
    for (const [n, d] of this.#shadows.named) addShadow(`shadow.name.${n}`, d);
    const c = t.connectivity;
    m.set('connectivity.connected', [c.connected]);
    if (c.timestamp !== undefined) m.set('connectivity.timestamp', [c.timestamp]);
    if (c.disconnectReason !== undefined) m.set('connectivity.disconnectReason', [c.disconnectReason]);
    return m;
  }

  /** Direct groups plus the billing group, as AWS's `thingGroupNames`. */
  groupNames(): string[] {
    const out = [...this.thing.groups].sort();
    if (this.thing.billingGroupName !== undefined) out.push(this.thing.billingGroupName);
    return out;
  }

  /** The ThingDocument of a SearchIndex answer. */
  document(): Record<string, unknown> {
    const t = this.thing;
    const out: Record<string, unknown> = { thingName: t.name, thingId: t.id };
    if (t.typeName !== undefined) out.thingTypeName = t.typeName;
    const groups = this.groupNames();
    if (groups.length > 0) out.thingGroupNames = groups;
    out.attributes = t.attributes;
    const { classic, named } = this.#shadows;
    if (classic !== undefined || named.length > 0) {
      // UNCONFIRMED: with classic and named shadows indexed, the classic keys and `name` share the top level.
      const shadow: Record<string, unknown> = classic === undefined ? {} : shadowLayout(classic);
      if (named.length > 0) shadow.name = Object.fromEntries(named.map(([n, d]) => [n, shadowLayout(d)]));
      out.shadow = JSON.stringify(shadow);
    }
    out.connectivity = { ...t.connectivity };
    return out;
  }
}
