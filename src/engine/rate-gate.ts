/**
 * The account-quota gate: a token bucket per operation, shared by every worker of a run.
 *
 * Workers do not ask for one permit per request: they take permits in batches (`take(op, k)`)
 * and keep a small local cache, so the gate is consulted a few hundred times a second at most.
 * The gate slows down on 429 (multiplicative decrease) and recovers gradually (additive increase)
 * up to the configured rate. Budgets are GLOBAL across all workers of one coordinator (the
 * coordinator owns the one gate; workers ask it over a MessagePort). A Redis-backed gate shared
 * by several processes implements the same interface.
 */
import { InvalidArgumentError } from '../errors.js';
import { isPositive, optionMessage, requirePositive } from '../options/check-positive.js';
import type { OperationName } from '../client/index.js';
import { OPERATION_NAMES } from '../client/iot-data-client.js';
import { AWS_QUOTA_DEFAULTS } from '../shadow/aws-quota-defaults.js';

export interface RateGate {
  /** Waits until `want` permits for `op` are granted; resolves with the number granted (`want`, or fewer when the op is ungated). */
  take(op: OperationName, want: number): Promise<number>;
  /** A 429 was answered for `op`: counts it and slows the gate down. */
  throttled(op: OperationName): void;
  /** Sets the configured (ceiling) rate of `op`, e.g. for a ramp; the current rate follows at once. */
  setRate(op: OperationName, rps: number): void;
  /** The permit batch size a worker should ask for, for `op` (0 = ungated: do not ask). */
  batchSize(op: OperationName): number;
  stats(): RateGateStats;
  close(): Promise<void>;
}

export interface OperationGateStats {
  /** The configured ceiling, requests per second. */
  configuredRps: number;
  /** The current rate after 429 decreases and recovery. */
  currentRps: number;
  granted: number;
  throttles: number;
  decreases: number;
}

export interface RateGateStats {
  operations: Partial<Record<OperationName, OperationGateStats>>;
  granted: number;
  throttles: number;
}

/** Per-thing limits enforced in the worker that handles a thing. */
export interface ThingLimitOptions {
  /** Requests per second per thing, all shadow operations together. Default 20; 'off' = none. */
  thingRps?: number | 'off';
  /** Requests in flight per thing. Default 10; 'off' = none. */
  thingInFlight?: number | 'off';
}

export interface RateGateOptions extends ThingLimitOptions {
  /** Account quota for GetThingShadow, UpdateThingShadow and DeleteThingShadow each. Default 4000; 'off' = not gated. */
  accountRps?: number | 'off';
  /** Per-operation overrides (also for ops not gated by default, e.g. Publish). */
  operations?: Partial<Record<OperationName, number | 'off'>>;
  /** Permits per weighted batch; default: rps / 100, within 1..64 (a bottleneck schedule() costs ~2.5 ms of timers). */
  permitBatch?: number;
  /** Bucket capacity, in seconds of the rate. Default 0.1 (so any 10 s window stays within 1% of the rate, plus cached permits). */
  burstSeconds?: number;
  /** Rate multiplier on a 429. Default 0.7. */
  decreaseFactor?: number;
  /** After a decrease, no further decrease for this long (a burst of 429s is one signal). Default 1000 ms. */
  decreaseCooldownMs?: number;
  /** Additive increase per second, as a share of the configured rate. Default 0.05. */
  increaseShare?: number;
  /** The rate never drops below this share of the configured rate. Default 0.05. */
  minShare?: number;
  /** Refill timer period. Default 25 ms. */
  refillIntervalMs?: number;
  /** Clock (tests inject one). Default Date.now. */
  now?: () => number;
}

export interface ResolvedRateGateOptions {
  rates: Partial<Record<OperationName, number>>;
  thingRps: number;
  thingInFlight: number;
  permitBatch: number | undefined;
  burstSeconds: number;
  decreaseFactor: number;
  decreaseCooldownMs: number;
  increaseShare: number;
  minShare: number;
  refillIntervalMs: number;
  now: () => number;
}

export const DEFAULT_RATE_GATE_OPTIONS = Object.freeze({
  accountRps: AWS_QUOTA_DEFAULTS.accountRps,
  thingRps: AWS_QUOTA_DEFAULTS.thingRps,
  thingInFlight: AWS_QUOTA_DEFAULTS.thingInFlight,
  burstSeconds: 0.1,
  decreaseFactor: 0.7,
  decreaseCooldownMs: 1000,
  increaseShare: 0.05,
  minShare: 0.05,
  refillIntervalMs: 25,
});

const SHADOW_OPS: readonly OperationName[] = Object.freeze([
  'GetThingShadow',
  'UpdateThingShadow',
  'DeleteThingShadow',
]);

function positive(name: string, v: unknown): number {
  if (!isPositive(v, false))
    throw new InvalidArgumentError(optionMessage(name, "a positive number or 'off'", { value: v }));
  return v;
}

function share(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) {
    throw new InvalidArgumentError(`${name} must be a number in (0, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validates once; messages name the option. `'off'` turns every gate off (account and per thing). */
export function resolveRateGateOptions(
  options: RateGateOptions | 'off' | undefined,
  prefix = 'rates',
): ResolvedRateGateOptions {
  const d = DEFAULT_RATE_GATE_OPTIONS;
  if (options === 'off') {
    return {
      rates: {},
      thingRps: 0,
      thingInFlight: 0,
      permitBatch: undefined,
      burstSeconds: d.burstSeconds,
      decreaseFactor: d.decreaseFactor,
      decreaseCooldownMs: d.decreaseCooldownMs,
      increaseShare: d.increaseShare,
      minShare: d.minShare,
      refillIntervalMs: d.refillIntervalMs,
      now: Date.now,
    };
  }
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError(`${prefix} must be an object or 'off'`);
  const rates: Partial<Record<OperationName, number>> = {};
  const account = o.accountRps ?? d.accountRps;
  if (account !== 'off') {
    const rps = positive(`${prefix}.accountRps`, account);
    for (const op of SHADOW_OPS) rates[op] = rps;
  }
  for (const [op, v] of Object.entries(o.operations ?? {}) as [OperationName, number | 'off' | undefined][]) {
    if (!(OPERATION_NAMES as readonly string[]).includes(op))
      throw new InvalidArgumentError(`${prefix}.operations: unknown operation "${op}"`);
    if (v === undefined) continue;
    if (v === 'off') delete rates[op];
    else rates[op] = positive(`${prefix}.operations.${op}`, v);
  }
  const thingRps = o.thingRps ?? d.thingRps;
  const thingInFlight = o.thingInFlight ?? d.thingInFlight;
  let permitBatch: number | undefined;
  if (o.permitBatch !== undefined) {
    permitBatch = requirePositive(`${prefix}.permitBatch`, o.permitBatch);
  }
  if (o.now !== undefined && typeof o.now !== 'function')
    throw new InvalidArgumentError(`${prefix}.now must be a function`);
  return {
    rates,
    thingRps: thingRps === 'off' ? 0 : positive(`${prefix}.thingRps`, thingRps),
    thingInFlight: thingInFlight === 'off' ? 0 : Math.floor(positive(`${prefix}.thingInFlight`, thingInFlight)),
    permitBatch,
    burstSeconds: o.burstSeconds === undefined ? d.burstSeconds : positive(`${prefix}.burstSeconds`, o.burstSeconds),
    decreaseFactor:
      o.decreaseFactor === undefined ? d.decreaseFactor : share(`${prefix}.decreaseFactor`, o.decreaseFactor, 1),
    decreaseCooldownMs:
      o.decreaseCooldownMs === undefined
        ? d.decreaseCooldownMs
        : positive(`${prefix}.decreaseCooldownMs`, o.decreaseCooldownMs),
    increaseShare:
      o.increaseShare === undefined ? d.increaseShare : share(`${prefix}.increaseShare`, o.increaseShare, 1),
    minShare: o.minShare === undefined ? d.minShare : share(`${prefix}.minShare`, o.minShare, 1),
    refillIntervalMs:
      o.refillIntervalMs === undefined
        ? d.refillIntervalMs
        : positive(`${prefix}.refillIntervalMs`, o.refillIntervalMs),
    now: o.now ?? Date.now,
  };
}

/** The default permit batch for a rate: rps / 100 within 1..64. */
export function defaultPermitBatch(rps: number): number {
  return Math.max(1, Math.min(64, Math.round(rps / 100)));
}
