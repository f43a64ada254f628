import {
  ShadowRecord,
  applyUpdate,
  deleteRecord,
  dropParsed,
  parseUpdateRequest,
  readShadowDocument,
  renderShadowPrefix,
  type AcceptedUpdate,
  type ApplyUpdateOptions,
  type RejectedUpdate,
} from '../shadow/apply-update.js';
import { findUnstorableNumber, stringifyJson } from '../shadow/json-text.js';
import { DEFAULT_SHADOW_LIMITS, type ShadowLimits } from '../shadow/limits.js';
import { SHADOW_FAULTS } from '../shadow/shadow-faults.js';
import type { ShadowDocument, UpdateDocument } from '../shadow/types.js';

const NUMBER_OUT_OF_RANGE: RejectedUpdate = Object.freeze({ ok: false, fault: SHADOW_FAULTS.numberOutOfRange });

/** The shadows of one thing. Named shadows live in a Map created on first use. */
class ThingEntry {
  classic: ShadowRecord | undefined = undefined;
  named: Map<string, ShadowRecord> | undefined = undefined;
  /** Position in the creation order (ListThings pages over it). */
  readonly index: number;
  constructor(index: number) {
    this.index = index;
  }
}

export interface ShadowStoreOptions {
  limits?: Readonly<ShadowLimits>;
  tombstoneTtlMs?: number;
  emptySectionClears?: boolean;
  /** Rendered GET documents kept (bounded ring). 0 disables. */
  renderCacheSize?: number;
}

export const DEFAULT_SHADOW_STORE_OPTIONS = Object.freeze({
  tombstoneTtlMs: 48 * 3600 * 1000,
  emptySectionClears: false,
  renderCacheSize: 4096,
});

/**
 * In-memory shadows of every thing: the record of each shadow, thing creation order for
 * ListThings, and a bounded cache of rendered GET documents. Shadow semantics come from
 * src/shadow; the store only finds records and keeps tombstones.
 */
export class ShadowStore {
  readonly #things = new Map<string, ThingEntry>();
  readonly #order: string[] = [];
  readonly #apply: ApplyUpdateOptions;
  readonly #limits: Readonly<ShadowLimits>;
  readonly #tombstoneTtlMs: number;
  readonly #cache: (ShadowRecord | undefined)[];
  #cachePos = 0;
  /** Records holding parsed sections (a ring of the same size as the render cache). */
  readonly #parsed: (ShadowRecord | undefined)[];
  #parsedPos = 0;
  #live = 0;

  constructor(options: ShadowStoreOptions = {}) {
    this.#limits = options.limits ?? DEFAULT_SHADOW_LIMITS;
    this.#tombstoneTtlMs = options.tombstoneTtlMs ?? DEFAULT_SHADOW_STORE_OPTIONS.tombstoneTtlMs;
    const cacheSize = options.renderCacheSize ?? DEFAULT_SHADOW_STORE_OPTIONS.renderCacheSize;
    this.#apply = {
      limits: this.#limits,
      emptySectionClears: options.emptySectionClears ?? false,
      keepParsed: cacheSize > 0,
    };
    this.#cache = new Array<ShadowRecord | undefined>(cacheSize);
    this.#parsed = new Array<ShadowRecord | undefined>(cacheSize);
  }

  get limits(): Readonly<ShadowLimits> {
    return this.#limits;
  }

  /** Live shadows (classic and named). */
  get shadowCount(): number {
    return this.#live;
  }

  /** Things ever created (including those whose shadows were all deleted). */
  get thingCount(): number {
    return this.#things.size;
  }

  /** The record of a shadow; with `create`, a fresh one is made for unknown shadows. */
  record(thingName: string, shadowName: string | undefined, create: true, nowMs?: number): ShadowRecord;
  record(thingName: string, shadowName: string | undefined, create?: boolean, nowMs?: number): ShadowRecord | undefined;
  record(
    thingName: string,
    shadowName: string | undefined,
    create = false,
    nowMs = Date.now(),
  ): ShadowRecord | undefined {
    let thing = this.#things.get(thingName);
    if (thing === undefined) {
      if (!create) return undefined;
      thing = new ThingEntry(this.#order.length);
      this.#order.push(thingName);
      this.#things.set(thingName, thing);
    }
    let rec: ShadowRecord | undefined;
    if (shadowName === undefined) {
      rec = thing.classic;
      if (rec === undefined && create) rec = thing.classic = new ShadowRecord();
    } else {
      rec = thing.named?.get(shadowName);
      if (rec === undefined && create) {
        thing.named ??= new Map();
        rec = new ShadowRecord();
        thing.named.set(shadowName, rec);
      }
    }
    // After 48 h a deleted shadow forgets its version: the next update starts at 1 again.
    if (rec !== undefined && !rec.live && rec.deletedAt !== 0 && nowMs - rec.deletedAt > this.#tombstoneTtlMs) {
      rec.version = 0;
      rec.deletedAt = 0;
    }
    return rec;
  }

  /** The live record of a shadow, or undefined (never created, or deleted). */
  liveRecord(thingName: string, shadowName: string | undefined): ShadowRecord | undefined {
    const thing = this.#things.get(thingName);
    if (thing === undefined) return undefined;
    const rec = shadowName === undefined ? thing.classic : thing.named?.get(shadowName);
    return rec?.live ? rec : undefined;
  }

  /** Applies an update (raw body or document) as UpdateThingShadow does. */
  update(
    thingName: string,
    shadowName: string | undefined,
    body: Uint8Array | string | UpdateDocument,
    nowMs = Date.now(),
  ): AcceptedUpdate | RejectedUpdate {
    const raw = typeof body === 'string' || body instanceof Uint8Array ? body : stringifyJson(body);
    const parsed = parseUpdateRequest(raw, this.#limits);
    if (!parsed.ok) return parsed;
    if (findUnstorableNumber(parsed.desired) !== undefined || findUnstorableNumber(parsed.reported) !== undefined)
      return NUMBER_OUT_OF_RANGE;
    const thing = this.#things.get(thingName);
    const existed =
      thing !== undefined && (shadowName === undefined ? thing.classic : thing.named?.get(shadowName)) !== undefined;
    const rec = this.record(thingName, shadowName, true, nowMs);
    const wasLive = rec.live;
    const result = applyUpdate(rec, parsed, nowMs, this.#apply);
    if (result.ok) {
      if (!wasLive) this.#live++;
      if (this.#parsed.length > 0) this.#holdParsed(rec);
    } else if (!existed) {
      this.#forget(thingName, shadowName, thing === undefined);
    }
    return result;
  }

  /** Undoes the entries a refused update created: a failed request creates nothing. */
  #forget(thingName: string, shadowName: string | undefined, newThing: boolean): void {
    if (newThing) {
      // The thing was created by this call, so it is the last one in the creation order.
      this.#things.delete(thingName);
      this.#order.pop();
      return;
    }
    const thing = this.#things.get(thingName)!;
    if (shadowName === undefined) thing.classic = undefined;
    else thing.named?.delete(shadowName);
  }

  /** Registers a record that now holds parsed sections, evicting the oldest holder. */
  #holdParsed(rec: ShadowRecord): void {
    const slot = rec.parsedSlot;
    if (slot >= 0 && this.#parsed[slot] === rec) return;
    const pos = this.#parsedPos;
    const old = this.#parsed[pos];
    if (old !== undefined && old.parsedSlot === pos) dropParsed(old);
    this.#parsed[pos] = rec;
    rec.parsedSlot = pos;
    this.#parsedPos = (pos + 1) % this.#parsed.length;
  }

  /** Deletes a shadow; returns the `{version,timestamp}` body, or undefined when there is none. */
  delete(thingName: string, shadowName: string | undefined, nowMs = Date.now()): string | undefined {
    const rec = this.liveRecord(thingName, shadowName);
    if (rec === undefined) return undefined;
    this.#live--;
    return deleteRecord(rec, nowMs);
  }

  /** The GET body of a live shadow, or undefined. Rendered documents are cached (bounded). */
  getJson(thingName: string, shadowName: string | undefined, nowMs = Date.now()): string | undefined {
    const rec = this.liveRecord(thingName, shadowName);
    if (rec === undefined) return undefined;
    return this.render(rec) + Math.floor(nowMs / 1000) + '}';
  }

  /** The GET body of a record up to its response timestamp, through the bounded cache. */
  render(rec: ShadowRecord): string {
    let prefix = rec.rendered;
    if (prefix !== undefined) return prefix;
    prefix = renderShadowPrefix(rec);
    const size = this.#cache.length;
    if (size > 0) {
      const slot = rec.cacheSlot;
      if (slot < 0 || this.#cache[slot] !== rec) {
        // Take the oldest slot of the ring: memory stays bounded however many shadows are read.
        const pos = this.#cachePos;
        const old = this.#cache[pos];
        if (old !== undefined && old.cacheSlot === pos) {
          old.rendered = undefined;
          old.cacheSlot = -1;
        }
        this.#cache[pos] = rec;
        rec.cacheSlot = pos;
        this.#cachePos = (pos + 1) % size;
      }
      rec.rendered = prefix;
    }
    return prefix;
  }

  /** The GET document of a live shadow as an object, or undefined. */
  get(thingName: string, shadowName?: string, nowMs = Date.now()): ShadowDocument | undefined {
    const rec = this.liveRecord(thingName, shadowName);
    return rec === undefined ? undefined : readShadowDocument(rec, nowMs);
  }

  /** Names of the live named shadows of a thing, sorted. */
  namedShadows(thingName: string): string[] {
    const named = this.#things.get(thingName)?.named;
    if (named === undefined) return [];
    const out: string[] = [];
    for (const [name, rec] of named) if (rec.live) out.push(name);
    return out.sort();
  }

  /** True when the thing has at least one live shadow. */
  hasShadows(thingName: string): boolean {
    const thing = this.#things.get(thingName);
    if (thing === undefined) return false;
    if (thing.classic?.live) return true;
    if (thing.named !== undefined) for (const rec of thing.named.values()) if (rec.live) return true;
    return false;
  }

  /**
   * Things with live shadows in creation order, from position `start`; returns the page and
   * the position to continue from (undefined at the end).
   */
  listThings(start: number, max: number): { names: string[]; next: number | undefined } {
    const names: string[] = [];
    let i = start;
    for (; i < this.#order.length && names.length < max; i++) {
      const name = this.#order[i]!;
      if (this.hasShadows(name)) names.push(name);
    }
    // Skip trailing things with no shadows so a last page does not hand out a useless token.
    while (i < this.#order.length && !this.hasShadows(this.#order[i]!)) i++;
    return { names, next: i < this.#order.length ? i : undefined };
  }

  /** Every live shadow, for tests and tools: [thingName, shadowName | undefined]. */
  *shadows(): IterableIterator<[string, string | undefined]> {
    for (const [name, thing] of this.#things) {
      if (thing.classic?.live) yield [name, undefined];
      if (thing.named !== undefined) for (const [sn, rec] of thing.named) if (rec.live) yield [name, sn];
    }
  }

  clear(): void {
    this.#things.clear();
    this.#order.length = 0;
    this.#cache.fill(undefined);
    this.#parsed.fill(undefined);
    this.#live = 0;
  }
}
