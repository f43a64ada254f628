import { randomUUID } from 'node:crypto';
import { ControlPlaneFault } from './control-plane-fault.js';

/** A registered thing (AWS IoT registry). Shadows live apart, in the ShadowStore. */
export interface RegistryThing {
  readonly name: string;
  readonly id: string;
  typeName: string | undefined;
  attributes: Record<string, string>;
  version: number;
  billingGroupName: string | undefined;
  /** Direct static group memberships. */
  readonly groups: Set<string>;
  /** Emulated connectivity status (no MQTT here): set by seeding or `setConnectivity`. */
  connectivity: { connected: boolean; timestamp?: number; disconnectReason?: string };
}

export interface RegistryGroup {
  readonly name: string;
  readonly id: string;
  version: number;
  description: string | undefined;
  attributes: Record<string, string>;
  readonly parent: string | undefined;
  readonly children: Set<string>;
  readonly things: Set<string>;
  /** Epoch seconds, fractional. */
  readonly creationDate: number;
  readonly tags: ReadonlyArray<{ Key: string; Value?: string }>;
}

export interface ThingInput {
  thingTypeName?: string | undefined;
  attributes?: Record<string, string> | undefined;
  billingGroupName?: string | undefined;
}

export interface ThingUpdate {
  thingTypeName?: string | undefined;
  removeThingType?: boolean | undefined;
  attributes?: Record<string, string> | undefined;
  merge?: boolean | undefined;
  expectedVersion?: number | undefined;
}

export interface GroupInput {
  parentGroupName?: string | undefined;
  description?: string | undefined;
  attributes?: Record<string, string> | undefined;
  tags?: Array<{ Key: string; Value?: string }> | undefined;
}

/** AWS registry limits ([LIM19] in the control-plane reference). */
export const REGISTRY_LIMITS = Object.freeze({
  attributesUntyped: 3,
  attributesTyped: 50,
  groupAttributes: 50,
  groupsPerThing: 10,
  maxGroupDepth: 7,
  childrenPerGroup: 100,
});

const sameMap = (a: Record<string, string>, b: Record<string, string>): boolean => {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
};

/** Attribute maps without the empty values (what an overwrite with `""` keeps; UNCONFIRMED, as moto does). */
function withoutEmpty(attrs: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (attrs !== undefined) for (const [k, v] of Object.entries(attrs)) if (v !== '') out[k] = v;
  return out;
}

/**
 * The IoT registry of one account and region: things and static thing groups, with the
 * semantics of the control-plane reference (§3, §4, §10). Sorted name lists are cached and
 * rebuilt only after a change, so paging a large fleet does not sort it once per page.
 */
export class ThingRegistry {
  readonly #things = new Map<string, RegistryThing>();
  readonly #groups = new Map<string, RegistryGroup>();
  readonly #arnPrefix: string;
  #sortedThings: string[] | undefined;
  #sortedGroups: string[] | undefined;
  /** Bumped on every change; caches of derived lists compare against it. */
  #generation = 0;
  readonly #memberCache = new Map<string, { generation: number; names: string[] }>();

  constructor(options: { region: string; accountId: string; partition?: string }) {
    this.#arnPrefix = `arn:${options.partition ?? 'aws'}:iot:${options.region}:${options.accountId}:`;
  }

  get thingCount(): number {
    return this.#things.size;
  }

  get groupCount(): number {
    return this.#groups.size;
  }

  /** Changes whenever a thing, group or membership changes. */
  get generation(): number {
    return this.#generation;
  }

  thingArn(name: string): string {
    return `${this.#arnPrefix}thing/${name}`;
  }

  groupArn(name: string): string {
    return `${this.#arnPrefix}thinggroup/${name}`;
  }

  #changed(things: boolean, groups: boolean): void {
    this.#generation++;
    if (things) this.#sortedThings = undefined;
    if (groups) this.#sortedGroups = undefined;
  }

  thing(name: string): RegistryThing | undefined {
    return this.#things.get(name);
  }

  group(name: string): RegistryGroup | undefined {
    return this.#groups.get(name);
  }

  /** Registered thing names, sorted (cached until the next create or delete). */
  thingNames(): readonly string[] {
    this.#sortedThings ??= [...this.#things.keys()].sort();
    return this.#sortedThings;
  }

  groupNames(): readonly string[] {
    this.#sortedGroups ??= [...this.#groups.keys()].sort();
    return this.#sortedGroups;
  }

  #checkAttributeCount(count: number, typed: boolean): void {
    const max = typed ? REGISTRY_LIMITS.attributesTyped : REGISTRY_LIMITS.attributesUntyped;
    // UNCONFIRMED text and type (the reference expects InvalidRequestException).
    if (count > max)
      throw ControlPlaneFault.invalidRequest(
        `A thing ${typed ? 'with' : 'without'} a thing type can have at most ${max} attributes, got ${count}`,
      );
  }

  /**
   * CreateThing: a new thing at version 1; the same configuration again answers with the
   * existing ids; a different one is a 409 with AWS's text. Thing types and billing groups are
   * not emulated: any name is taken as existing.
   */
  createThing(name: string, input: ThingInput): RegistryThing {
    const attributes = withoutEmpty(input.attributes);
    const existing = this.#things.get(name);
    if (existing !== undefined) {
      if (
        existing.typeName === input.thingTypeName &&
        existing.billingGroupName === input.billingGroupName &&
        sameMap(existing.attributes, attributes)
      )
        return existing;
      throw new ControlPlaneFault(
        409,
        'ResourceAlreadyExistsException',
        `Thing ${name} already exists in account with different attributes`,
        {
          resourceId: existing.id,
          resourceArn: this.thingArn(name),
        },
      );
    }
    this.#checkAttributeCount(Object.keys(attributes).length, input.thingTypeName !== undefined);
    const thing: RegistryThing = {
      name,
      id: randomUUID(),
      typeName: input.thingTypeName,
      attributes,
      version: 1,
      billingGroupName: input.billingGroupName,
      groups: new Set(),
      connectivity: { connected: false },
    };
    this.#things.set(name, thing);
    this.#changed(true, false);
    return thing;
  }

  /** UpdateThing: version check first, then type and attributes (merge: `""` deletes a key); version + 1. */
  updateThing(name: string, update: ThingUpdate): RegistryThing {
    const thing = this.#things.get(name);
    // UNCONFIRMED text.
    if (thing === undefined) throw ControlPlaneFault.notFound(`Thing ${name} cannot be found.`);
    if (update.expectedVersion !== undefined && update.expectedVersion !== thing.version) {
      // UNCONFIRMED text (moto's).
      throw ControlPlaneFault.versionConflict(`The version for thing ${name} does not match the expected version.`);
    }
    if (update.removeThingType === true && update.thingTypeName !== undefined) {
      throw ControlPlaneFault.invalidRequest('You cannot specify both thingTypeName and removeThingType');
    }
    const typeName = update.removeThingType === true ? undefined : (update.thingTypeName ?? thing.typeName);
    let attributes = thing.attributes;
    if (update.attributes !== undefined) {
      if (update.merge === true) {
        attributes = { ...thing.attributes };
        for (const [k, v] of Object.entries(update.attributes)) {
          if (v === '') delete attributes[k];
          else attributes[k] = v;
        }
      } else attributes = withoutEmpty(update.attributes);
    }
    this.#checkAttributeCount(Object.keys(attributes).length, typeName !== undefined);
    thing.typeName = typeName;
    thing.attributes = attributes;
    thing.version++;
    this.#changed(false, false);
    return thing;
  }

  /** DeleteThing: idempotent; leaves every group it was in. Shadows are not touched. */
  deleteThing(name: string, expectedVersion?: number): void {
    const thing = this.#things.get(name);
    if (thing === undefined) return;
    if (expectedVersion !== undefined && expectedVersion !== thing.version) {
      throw ControlPlaneFault.versionConflict(`The version for thing ${name} does not match the expected version.`);
    }
    for (const g of thing.groups) this.#groups.get(g)?.things.delete(name);
    this.#things.delete(name);
    this.#changed(true, false);
  }

  setConnectivity(name: string, connectivity: RegistryThing['connectivity']): void {
    const thing = this.#things.get(name);
    if (thing === undefined) throw ControlPlaneFault.notFound(`Thing ${name} cannot be found.`);
    thing.connectivity = { ...connectivity };
  }

  /** Ancestors of a group, root first, ending with its direct parent. */
  ancestors(name: string): string[] {
    const out: string[] = [];
    let p = this.#groups.get(name)?.parent;
    while (p !== undefined) {
      out.unshift(p);
      p = this.#groups.get(p)?.parent;
    }
    return out;
  }

  createGroup(name: string, input: GroupInput, nowMs = Date.now()): RegistryGroup {
    const attributes = withoutEmpty(input.attributes);
    const existing = this.#groups.get(name);
    if (existing !== undefined) {
      // Parent and tags are not compared (UNCONFIRMED whether AWS does).
      if (existing.description === input.description && sameMap(existing.attributes, attributes)) return existing;
      throw new ControlPlaneFault(
        409,
        'ResourceAlreadyExistsException',
        `Thing Group ${name} already exists in current account with different properties`,
        {
          resourceId: existing.id,
          resourceArn: this.groupArn(name),
        },
      );
    }
    const parentName = input.parentGroupName;
    let parent: RegistryGroup | undefined;
    if (parentName !== undefined) {
      parent = this.#groups.get(parentName);
      // UNCONFIRMED: the model lists no 404 for CreateThingGroup; InvalidRequestException is the modeled choice.
      if (parent === undefined)
        throw ControlPlaneFault.invalidRequest(`The parent thing group ${parentName} does not exist`);
      // Depth: the root is level 1, so a new group may have at most 6 ancestors (UNCONFIRMED counting and text).
      if (this.ancestors(parentName).length + 2 > REGISTRY_LIMITS.maxGroupDepth) {
        throw ControlPlaneFault.invalidRequest(
          `Thing group ${name} would be deeper than ${REGISTRY_LIMITS.maxGroupDepth} levels`,
        );
      }
      if (parent.children.size >= REGISTRY_LIMITS.childrenPerGroup) {
        throw ControlPlaneFault.invalidRequest(
          `Thing group ${parentName} already has ${REGISTRY_LIMITS.childrenPerGroup} child groups`,
        );
      }
    }
    if (Object.keys(attributes).length > REGISTRY_LIMITS.groupAttributes) {
      throw ControlPlaneFault.invalidRequest(
        `A thing group can have at most ${REGISTRY_LIMITS.groupAttributes} attributes`,
      );
    }
    const group: RegistryGroup = {
      name,
      id: randomUUID(),
      version: 1,
      description: input.description,
      attributes,
      parent: parentName,
      children: new Set(),
      things: new Set(),
      creationDate: nowMs / 1000,
      tags: (input.tags ?? []).map((t) => ({ ...t })),
    };
    this.#groups.set(name, group);
    parent?.children.add(name);
    this.#changed(false, true);
    return group;
  }

  /** DeleteThingGroup: idempotent; refused while it has child groups; members lose the membership. */
  deleteGroup(name: string, expectedVersion?: number): void {
    const group = this.#groups.get(name);
    if (group === undefined) return;
    if (expectedVersion !== undefined && expectedVersion !== group.version) {
      throw ControlPlaneFault.versionConflict(
        `The version for thing group ${name} does not match the expected version.`,
      );
    }
    if (group.children.size > 0) {
      throw ControlPlaneFault.invalidRequest(
        `Cannot delete thing group : ${name} when there are still child groups attached to it`,
      );
    }
    for (const t of group.things) this.#things.get(t)?.groups.delete(name);
    if (group.parent !== undefined) this.#groups.get(group.parent)?.children.delete(name);
    this.#groups.delete(name);
    this.#changed(false, true);
  }

  #pair(thingName: string, groupName: string): [RegistryThing, RegistryGroup] {
    const group = this.#groups.get(groupName);
    // UNCONFIRMED texts.
    if (group === undefined) throw ControlPlaneFault.notFound(`Thing group ${groupName} cannot be found.`);
    const thing = this.#things.get(thingName);
    if (thing === undefined) throw ControlPlaneFault.notFound(`Thing ${thingName} cannot be found.`);
    return [thing, group];
  }

  /** AddThingToThingGroup: a repeat is a no-op (UNCONFIRMED); at most 10 groups per thing. */
  addThingToGroup(thingName: string, groupName: string): void {
    const [thing, group] = this.#pair(thingName, groupName);
    if (thing.groups.has(groupName)) return;
    if (thing.groups.size >= REGISTRY_LIMITS.groupsPerThing) {
      throw ControlPlaneFault.invalidRequest(
        `Thing ${thingName} is already in ${REGISTRY_LIMITS.groupsPerThing} thing groups`,
      );
    }
    thing.groups.add(groupName);
    group.things.add(thingName);
    this.#changed(false, false);
  }

  /** RemoveThingFromThingGroup: removing a non-member is a no-op (UNCONFIRMED). */
  removeThingFromGroup(thingName: string, groupName: string): void {
    const [thing, group] = this.#pair(thingName, groupName);
    thing.groups.delete(groupName);
    group.things.delete(thingName);
    this.#changed(false, false);
  }

  /** Descendant groups of `name` (not itself), depth first. */
  descendants(name: string): string[] {
    const out: string[] = [];
    const walk = (g: string): void => {
      for (const c of this.#groups.get(g)?.children ?? []) {
        out.push(c);
        walk(c);
      }
    };
    walk(name);
    return out;
  }

  /**
   * Things in a group, sorted and de-duplicated; `recursive` adds the members of every
   * descendant. Cached per (group, recursive) until the registry changes.
   */
  thingsInGroup(name: string, recursive: boolean): readonly string[] {
    if (!this.#groups.has(name)) throw ControlPlaneFault.notFound(`Thing group ${name} cannot be found.`);
    const key = `${recursive ? 'r' : 'd'}:${name}`;
    const cached = this.#memberCache.get(key);
    if (cached !== undefined && cached.generation === this.#generation) return cached.names;
    const set = new Set(this.#groups.get(name)!.things);
    if (recursive) for (const d of this.descendants(name)) for (const t of this.#groups.get(d)!.things) set.add(t);
    const names = [...set].sort();
    if (this.#memberCache.size > 64) this.#memberCache.clear();
    this.#memberCache.set(key, { generation: this.#generation, names });
    return names;
  }
}
