import { recordDeltaJson } from '../shadow/apply-update.js';
import { parseJson } from '../shadow/json-text.js';
import type { JsonObject } from '../shadow/types.js';
import { DeviceHealth, type UnhealthyRule } from './device-health.js';
import type { ShadowStore } from './shadow-store.js';

/** Time source and timer of the simulated devices (injectable so tests need not race them). */
export interface DeviceClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The wall clock, with timers that do not keep the process alive. */
export const SYSTEM_CLOCK: DeviceClock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
});

export interface DeviceSimulatorOptions {
  delayMs: number;
  silentShare: number;
  /** How long a device whose connection was deleted stays offline before it reconnects, ms. */
  reconnectDelayMs?: number;
  clock?: DeviceClock;
  /** Report a `health` field ("ok", or "unhealthy" per the rule) with every report. */
  reportHealth?: boolean;
  /** The desired value that makes the `unhealthyShare` of devices (by thing name) unhealthy. */
  unhealthyWhen?: UnhealthyRule | undefined;
  unhealthyShare?: number;
}

interface Pending {
  thingName: string;
  shadowName: string | undefined;
  key: string;
  due: number;
}

/**
 * FNV-1a of a string with a murmur3 finalizer, as a share in [0, 1): picks the silent devices
 * stably. Plain FNV-1a leaves the top bits almost unchanged by the last character, so names
 * differing only in a trailing digit (`dev-0`..`dev-9`) all landed on one side of the threshold.
 */
export function share(s: string): number {
  let h = 0x811c9dc5;
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

/**
 * Simulated devices: when an update leaves a non-empty delta, the device of that shadow
 * reports the desired values `delayMs` later (as `{"state":{"reported":<delta>}}`), unless it
 * is one of the `silentShare` that never answer. One timer serves every pending report, in
 * arrival order (every report waits the same delay, so the queue stays sorted by due time).
 *
 * Each thing's device is an MQTT client whose clientId is the thing name, connected while the
 * thing has a live shadow. `disconnect` (DeleteConnection) takes it offline: it drops its
 * pending reports and answers nothing until it reconnects `reconnectDelayMs` later, when it
 * reads its shadows and answers the deltas it finds, as a real device does after a reconnect.
 */
export class DeviceSimulator {
  readonly #store: ShadowStore;
  readonly #delayMs: number;
  readonly #silentShare: number;
  readonly #reconnectDelayMs: number;
  readonly #clock: DeviceClock;
  readonly #health: DeviceHealth | undefined;
  readonly #onReport: () => void;
  readonly #queue: Pending[] = [];
  #head = 0;
  readonly #pending = new Set<string>();
  /** Offline devices (thing name) and the timer of their reconnect. */
  readonly #offline = new Map<string, unknown>();
  #timer: unknown;
  #closed = false;

  constructor(store: ShadowStore, options: DeviceSimulatorOptions, onReport: () => void) {
    this.#store = store;
    this.#delayMs = options.delayMs;
    this.#silentShare = options.silentShare;
    this.#reconnectDelayMs = options.reconnectDelayMs ?? 5000;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#health =
      options.reportHealth === true ? new DeviceHealth(options.unhealthyWhen, options.unhealthyShare ?? 0) : undefined;
    this.#onReport = onReport;
  }

  /** True when the device of this thing (clientId = thing name) has a connection. */
  isConnected(thingName: string): boolean {
    return !this.#closed && !this.#offline.has(thingName) && this.#store.hasShadows(thingName);
  }

  /**
   * Ends the connection of a thing's device (DeleteConnection). Returns false when no device
   * with that clientId is connected. The device reconnects `reconnectDelayMs` later.
   */
  disconnect(thingName: string): boolean {
    if (!this.isConnected(thingName)) return false;
    this.#offline.set(
      thingName,
      this.#clock.setTimeout(() => this.#reconnect(thingName), this.#reconnectDelayMs),
    );
    return true;
  }

  #reconnect(thingName: string): void {
    this.#offline.delete(thingName);
    if (this.#closed) return;
    this.notify(thingName, undefined);
    for (const name of this.#store.namedShadows(thingName)) this.notify(thingName, name);
  }

  /** True when the device of this shadow never answers. */
  isSilent(thingName: string, shadowName: string | undefined): boolean {
    return (
      this.#silentShare > 0 &&
      share(shadowName === undefined ? thingName : `${thingName}\u0000${shadowName}`) < this.#silentShare
    );
  }

  /** Called after every accepted update of a shadow. */
  notify(thingName: string, shadowName: string | undefined): void {
    if (this.#closed || this.#offline.has(thingName)) return;
    const key = shadowName === undefined ? thingName : `${thingName}\u0000${shadowName}`;
    if (this.#pending.has(key)) return;
    if (this.#silentShare > 0 && share(key) < this.#silentShare) return;
    const rec = this.#store.liveRecord(thingName, shadowName);
    if (rec === undefined || recordDeltaJson(rec) === '') return;
    this.#pending.add(key);
    this.#queue.push({ thingName, shadowName, key, due: this.#clock.now() + this.#delayMs });
    this.#arm();
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#head >= this.#queue.length) return;
    const wait = Math.max(0, this.#queue[this.#head]!.due - this.#clock.now());
    this.#timer = this.#clock.setTimeout(() => this.#run(), wait);
  }

  #run(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    const q = this.#queue;
    while (this.#head < q.length && q[this.#head]!.due <= now) {
      const p = q[this.#head]!;
      q[this.#head++] = undefined as unknown as Pending;
      this.#pending.delete(p.key);
      // An offline device lost its pending work; it reads its shadows again on reconnect.
      if (this.#offline.has(p.thingName)) continue;
      const rec = this.#store.liveRecord(p.thingName, p.shadowName);
      if (rec === undefined) continue;
      const delta = recordDeltaJson(rec);
      if (delta === '') continue;
      const report =
        this.#health === undefined
          ? '{"state":{"reported":' + delta + '}}'
          : this.#health.reportJson(
              p.thingName,
              delta,
              rec.parsedDesired ?? (rec.desired === undefined ? undefined : (parseJson(rec.desired) as JsonObject)),
            );
      const result = this.#store.update(p.thingName, p.shadowName, report, now);
      if (result.ok) this.#onReport();
    }
    if (this.#head > 1024 && this.#head * 2 > q.length) {
      q.splice(0, this.#head);
      this.#head = 0;
    }
    this.#arm();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const handle of this.#offline.values()) this.#clock.clearTimeout(handle);
    this.#offline.clear();
    this.#queue.length = 0;
    this.#head = 0;
    this.#pending.clear();
  }
}
