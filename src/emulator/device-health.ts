/**
 * The health a simulated device reports beside the values it takes: `"ok"`, or `"unhealthy"`
 * when it is one of the `unhealthyShare` of devices (picked by a stable hash of the thing name)
 * and its desired state holds the value of the rule (`firmware=1.5.0`: the bad firmware).
 * Gates and rollbacks of progressive rollouts are tested and shown with it.
 */
import { InvalidArgumentError } from '../errors.js';
import { jsonEqual } from '../shadow/compute-delta.js';
import { isPlainObject } from '../shadow/merge-state.js';
import type { JsonObject, JsonValue } from '../shadow/types.js';

/** A desired key path (dots separate levels) and the value that makes a device unhealthy. */
export interface UnhealthyRule {
  path: string[];
  value: JsonValue;
}

export type DeviceHealthState = 'ok' | 'unhealthy';

/**
 * Parses `key=value` (`firmware=1.5.0`, `net.mode=3`): the value is read as JSON when it is
 * JSON (`3`, `true`, `"3"`), else taken as a string. `name` labels the messages.
 */
export function parseUnhealthyRule(text: string, name = 'unhealthyWhen'): UnhealthyRule {
  const eq = typeof text === 'string' ? text.indexOf('=') : -1;
  const key = eq > 0 ? text.slice(0, eq).trim() : '';
  if (key === '' || key.split('.').some((k) => k === '')) {
    throw new InvalidArgumentError(
      `${name} must be KEY=VALUE with a desired key path such as firmware or net.mode, got ${JSON.stringify(text)}`,
    );
  }
  const raw = text.slice(eq + 1);
  let value: JsonValue;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    value = raw;
  }
  return { path: key.split('.'), value };
}

/**
 * A share in [0, 1) of a thing name for the health draw: the emulator's FNV-1a + murmur3
 * finalizer over the name with a `health` prefix, so the unhealthy devices are drawn
 * independently of the silent ones and of a rollout's waves.
 */
export function healthShare(thingName: string): number {
  let h = 0x811c9dc5;
  const s = `health\u0000${thingName}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

export class DeviceHealth {
  readonly rule: UnhealthyRule | undefined;
  readonly share: number;

  constructor(rule: UnhealthyRule | undefined, share: number) {
    this.rule = rule;
    this.share = share;
  }

  /** True when this thing's device is one of those the rule makes unhealthy. */
  susceptible(thingName: string): boolean {
    return this.rule !== undefined && this.share > 0 && healthShare(thingName) < this.share;
  }

  /** The health a device reports with the desired state it took (`desired` as stored). */
  of(thingName: string, desired: JsonObject | undefined): DeviceHealthState {
    if (this.rule === undefined || !this.susceptible(thingName)) return 'ok';
    let node: JsonValue | undefined = desired;
    for (const key of this.rule.path) {
      if (!isPlainObject(node) || !Object.hasOwn(node, key)) return 'ok';
      node = node[key];
    }
    return jsonEqual(node, this.rule.value) ? 'unhealthy' : 'ok';
  }

  /**
   * The reported document a device sends: the delta it takes plus its health, or the delta
   * alone when the desired state itself has a `health` key (the device then reports that value).
   */
  reportJson(thingName: string, deltaJson: string, desired: JsonObject | undefined): string {
    if (desired !== undefined && Object.hasOwn(desired, 'health')) return `{"state":{"reported":${deltaJson}}}`;
    const health = this.of(thingName, desired);
    return `{"state":{"reported":${deltaJson.slice(0, -1)},"health":"${health}"}}}`;
  }
}
