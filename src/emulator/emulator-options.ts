import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import { resolveShadowLimits, type ShadowLimits } from '../shadow/limits.js';
import { SYSTEM_CLOCK, type DeviceClock } from './device-simulator.js';
import { parseUnhealthyRule, type UnhealthyRule } from './device-health.js';
import { AWS_QUOTA_DEFAULTS } from '../shadow/aws-quota-defaults.js';

/** Operations the emulator serves (data plane plus ListThings of the control plane). */
export const EMULATOR_OPERATIONS = Object.freeze([
  'GetThingShadow',
  'UpdateThingShadow',
  'DeleteThingShadow',
  'ListNamedShadowsForThing',
  'Publish',
  'GetRetainedMessage',
  'ListRetainedMessages',
  'ListThings',
  'DeleteConnection',
] as const);
export type EmulatorOperation = (typeof EMULATOR_OPERATIONS)[number];

export interface QuotaOptions {
  /** Requests per second per account, for every operation or per operation. AWS (large regions): 4000. */
  accountRps?: number | Partial<Record<EmulatorOperation, number>>;
  /** Shadow requests per second per thing, all shadow APIs together. AWS: 20. */
  thingRps?: number;
  /** Shadow requests in flight per thing. AWS: 10. */
  thingInFlight?: number;
}

export interface FaultRule {
  /** Share of requests answered with a fault (0..1), spread over 500, 503 and connection resets. */
  rate?: number;
  /** Added latency per request, ms. */
  latencyMs?: number;
}

export interface FaultOptions extends FaultRule {
  /** Seed of the fault draws (same seed and request order, same faults). */
  seed?: number;
  /**
   * Relative weights of the fault kinds. Default 1:1:1:0. `throttled` answers 429
   * ThrottlingException as a quota would (counted as throttled, not as a fault), whatever the
   * request rate: throttles a test can count on at any speed.
   */
  kinds?: { internalError?: number; unavailable?: number; reset?: number; throttled?: number };
  /** Overrides per operation. */
  perOperation?: Partial<Record<EmulatorOperation, FaultRule>>;
}

export interface SimulateDevicesOptions {
  /** How long a device takes to report the desired values after a delta appears, ms. */
  delayMs?: number;
  /** Share of devices (chosen by a stable hash of thing and shadow name) that never answer. */
  silentShare?: number;
  /**
   * How long a device whose connection was deleted (DeleteConnection) stays offline, ms.
   * Default 5000, the first reconnect wait of AWS's device SDKs (reconnect_min_timeout_secs=5
   * in aws-iot-device-sdk-python-v2's connection builder).
   */
  reconnectDelayMs?: number;
  /** Time source and timers of the devices. Default: the system clock. For tests. */
  clock?: DeviceClock;
  /** Devices report a `health` field ("ok", or "unhealthy" per `unhealthyWhen`). Default false; implied by `unhealthyWhen`. */
  reportHealth?: boolean;
  /** `KEY=VALUE` (`firmware=1.5.0`, dots for nested keys): devices whose desired state holds it report `health: "unhealthy"`. */
  unhealthyWhen?: string;
  /** Share of devices (by a stable hash of the thing name) that `unhealthyWhen` affects, 0..1. Default 1. */
  unhealthyShare?: number;
}

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * A key to verify with. The secret comes from exactly one of: the value itself, an environment
 * variable, or a file (its first line; neither shows in `ps` as a command line does).
 */
export interface SigV4CredentialsSource {
  accessKeyId: string;
  secretAccessKey?: string;
  /** Name of an environment variable holding the secret. */
  secretAccessKeyEnv?: string;
  /** Path of a file holding the secret (trailing newline ignored; at most 4 KB). */
  secretAccessKeyFile?: string;
}

export interface SigV4Options {
  credentials: SigV4CredentialsSource[];
  /** Default 15 minutes, as AWS. */
  maxClockSkewMs?: number;
  /**
   * Accept requests whose `x-amz-content-sha256` is `UNSIGNED-PAYLOAD` (body not covered by the
   * signature). Default false. UNCONFIRMED for iotdata: AWS documents unsigned payloads for
   * Amazon S3 only, and the IoT Data Plane model has no unsignedPayload trait, so by default such
   * a request is refused (403) rather than letting a changed body through.
   */
  allowUnsignedPayload?: boolean;
}

export interface EmulatorOptions {
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** 'aws' (default): AWS large-region quotas; 'off': none; or your own values. */
  quotas?: 'aws' | 'off' | QuotaOptions;
  /** Shorthand overriding quotas.accountRps for every operation. */
  accountRps?: number;
  /** Shorthand overriding quotas.thingRps. */
  thingRps?: number;
  /** Shorthand overriding quotas.thingInFlight. */
  thingInFlight?: number;
  faults?: FaultOptions;
  /** `true` for the defaults, or options. Off by default. */
  simulateDevices?: boolean | SimulateDevicesOptions;
  /** Number of things seeded at start, each with a classic and named shadows. Default 0. */
  seedThings?: number;
  /** Also register the seeded things (attributes site, model, region) in a group tree fleet > region > site. Default false. */
  seedRegistry?: boolean;
  /** Whether fleet indexing (SearchIndex over AWS_Things) starts switched on. Default true. */
  fleetIndexing?: boolean;
  /** Verify SigV4 signatures against these keys (403 on a bad or missing signature). Off by default. */
  sigv4?: SigV4Options;
  limits?: Partial<ShadowLimits>;
  /** Bodies above this many bytes are refused (413) without being buffered. Default 1 MiB. */
  maxRequestBytes?: number;
  /**
   * Time allowed to receive a request's headers, ms; the connection is then answered 408 and
   * closed. Default 10 000, HAProxy's customary `timeout http-request 10s` (slow-header guard).
   */
  headersTimeoutMs?: number;
  /**
   * Time allowed to receive a whole request, headers and body, ms (a stalled or trickling body is
   * cut this long after the request began; 408 and close). Default 20 000, Apache httpd's
   * mod_reqtimeout default `body=20`. At least headersTimeoutMs.
   */
  bodyTimeoutMs?: number;
  /**
   * Open connections at most; connections beyond it are closed as soon as they are accepted
   * (counted in stats as connectionsRefused). Default 4096.
   */
  maxConnections?: number;
  /** Publish payload limit. AWS: 128 KB. */
  maxPublishBytes?: number;
  /** How long a deleted shadow keeps its version. AWS: 48 h. */
  tombstoneTtlMs?: number;
  /** See ApplyUpdateOptions.emptySectionClears (UNCONFIRMED behaviour). Default false. */
  emptySectionClears?: boolean;
  /** Rendered GET documents kept in memory (bounded). Default 4096. 0 disables. */
  renderCacheSize?: number;
  /** Default pageSize of ListNamedShadowsForThing (UNCONFIRMED; AWS's local service uses 25). */
  defaultShadowPageSize?: number;
  /** Default maxResults of ListRetainedMessages (UNCONFIRMED). */
  defaultRetainedPageSize?: number;
  /** Default maxResults of ListThings (UNCONFIRMED). */
  defaultThingsPageSize?: number;
  /** Used in thing ARNs of ListThings. */
  region?: string;
  accountId?: string;
}

export interface ResolvedQuotas {
  accountRps: Readonly<Record<EmulatorOperation, number>>;
  thingRps: number;
  thingInFlight: number;
}

export interface ResolvedEmulatorOptions {
  port: number;
  host: string;
  quotas: Readonly<ResolvedQuotas> | undefined;
  faults: Readonly<Required<Omit<FaultOptions, 'perOperation' | 'kinds'>>> & {
    kinds: Readonly<{ internalError: number; unavailable: number; reset: number; throttled: number }>;
    perOperation: Readonly<Record<EmulatorOperation, Readonly<Required<FaultRule>>>>;
  };
  simulateDevices:
    | Readonly<Required<Omit<SimulateDevicesOptions, 'unhealthyWhen'>> & { unhealthyWhen: UnhealthyRule | undefined }>
    | undefined;
  seedThings: number;
  seedRegistry: boolean;
  fleetIndexing: boolean;
  sigv4: { credentials: SigV4Credentials[]; maxClockSkewMs: number; allowUnsignedPayload: boolean } | undefined;
  limits: Readonly<ShadowLimits>;
  maxRequestBytes: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  maxConnections: number;
  maxPublishBytes: number;
  tombstoneTtlMs: number;
  emptySectionClears: boolean;
  renderCacheSize: number;
  defaultShadowPageSize: number;
  defaultRetainedPageSize: number;
  defaultThingsPageSize: number;
  region: string;
  accountId: string;
}

/** The AWS quotas the emulator emulates by default (one constant for the whole house). */
export const AWS_QUOTAS = AWS_QUOTA_DEFAULTS;

export const DEFAULT_EMULATOR_OPTIONS = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  quotas: 'aws' as const,
  seedThings: 0,
  maxRequestBytes: 1024 * 1024,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 20_000,
  maxConnections: 4096,
  maxPublishBytes: 128 * 1024,
  tombstoneTtlMs: 48 * 3600 * 1000,
  emptySectionClears: false,
  renderCacheSize: 4096,
  defaultShadowPageSize: 25,
  defaultRetainedPageSize: 200,
  defaultThingsPageSize: 100,
  region: 'us-east-1',
  accountId: '123456789012',
  simulateDevices: Object.freeze({ delayMs: 1000, silentShare: 0, reconnectDelayMs: 5000 }),
  faultSeed: 1,
});

function int(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

function num(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

function perOp(value: number): Record<EmulatorOperation, number> {
  const out = {} as Record<EmulatorOperation, number>;
  for (const op of EMULATOR_OPERATIONS) out[op] = value;
  return out;
}

function resolveQuotas(o: EmulatorOptions): ResolvedQuotas | undefined {
  const q = o.quotas ?? DEFAULT_EMULATOR_OPTIONS.quotas;
  const custom = typeof q === 'object' && q !== null ? q : undefined;
  if (q !== 'aws' && q !== 'off' && custom === undefined) {
    throw new InvalidArgumentError(`quotas must be 'aws', 'off' or an object, got ${String(q)}`);
  }
  if (q === 'off') return undefined;
  const account = perOp(AWS_QUOTAS.accountRps);
  const ar = custom?.accountRps;
  if (typeof ar === 'number') Object.assign(account, perOp(num('quotas.accountRps', ar, 0.001, 1e9)));
  else if (ar !== undefined) {
    for (const [op, v] of Object.entries(ar)) {
      if (!(EMULATOR_OPERATIONS as readonly string[]).includes(op))
        throw new InvalidArgumentError(`quotas.accountRps has an unknown operation '${op}'`);
      account[op as EmulatorOperation] = num(`quotas.accountRps.${op}`, v, 0.001, 1e9);
    }
  }
  if (o.accountRps !== undefined) Object.assign(account, perOp(num('accountRps', o.accountRps, 0.001, 1e9)));
  let thingRps: number = AWS_QUOTAS.thingRps;
  if (custom?.thingRps !== undefined) thingRps = num('quotas.thingRps', custom.thingRps, 0.001, 1e9);
  if (o.thingRps !== undefined) thingRps = num('thingRps', o.thingRps, 0.001, 1e9);
  let thingInFlight: number = AWS_QUOTAS.thingInFlight;
  if (custom?.thingInFlight !== undefined) thingInFlight = int('quotas.thingInFlight', custom.thingInFlight, 1);
  if (o.thingInFlight !== undefined) thingInFlight = int('thingInFlight', o.thingInFlight, 1);
  return Object.freeze({ accountRps: Object.freeze(account), thingRps, thingInFlight });
}

const MAX_SECRET_FILE_BYTES = 4096;

/** Reads a secret file: a regular file of at most 4 KB, first line, surrounding blanks dropped. */
function readSecretFile(path: string, name: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    if (!fstatSync(fd).isFile()) throw new InvalidArgumentError(`${name}: '${path}' is not a regular file`);
    const buf = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (n > MAX_SECRET_FILE_BYTES)
      throw new InvalidArgumentError(`${name}: '${path}' is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
    return buf.subarray(0, n).toString('utf8').split(/\r?\n/, 1)[0]!.trim();
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`${name}: cannot read '${path}': ${(err as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** One key with its secret taken from the value, an environment variable or a file. */
function resolveCredentials(c: SigV4CredentialsSource, name: string): SigV4Credentials {
  if (typeof c?.accessKeyId !== 'string' || c.accessKeyId === '')
    throw new InvalidArgumentError(`${name} must have a non-empty accessKeyId`);
  const sources = [c.secretAccessKey, c.secretAccessKeyEnv, c.secretAccessKeyFile].filter((v) => v !== undefined);
  if (sources.length !== 1 || sources.some((v) => typeof v !== 'string' || v === '')) {
    throw new InvalidArgumentError(
      `${name} must have exactly one non-empty secretAccessKey, secretAccessKeyEnv or secretAccessKeyFile`,
    );
  }
  let secret = c.secretAccessKey;
  if (c.secretAccessKeyEnv !== undefined) {
    secret = process.env[c.secretAccessKeyEnv];
    if (secret === undefined || secret === '')
      throw new InvalidArgumentError(
        `${name}.secretAccessKeyEnv: environment variable ${c.secretAccessKeyEnv} is not set or empty`,
      );
  } else if (c.secretAccessKeyFile !== undefined) {
    secret = readSecretFile(c.secretAccessKeyFile, `${name}.secretAccessKeyFile`);
    if (secret === '')
      throw new InvalidArgumentError(`${name}.secretAccessKeyFile: '${c.secretAccessKeyFile}' holds no secret`);
  }
  return { accessKeyId: c.accessKeyId, secretAccessKey: secret! };
}

/** The health fields of simulated devices: `unhealthyWhen` implies `reportHealth`. */
function resolveDeviceHealth(so: SimulateDevicesOptions): {
  reportHealth: boolean;
  unhealthyWhen: UnhealthyRule | undefined;
  unhealthyShare: number;
} {
  const unhealthyWhen =
    so.unhealthyWhen === undefined ? undefined : parseUnhealthyRule(so.unhealthyWhen, 'simulateDevices.unhealthyWhen');
  if (so.unhealthyShare !== undefined && unhealthyWhen === undefined)
    throw new InvalidArgumentError('simulateDevices.unhealthyShare needs simulateDevices.unhealthyWhen');
  const reportHealth = so.reportHealth ?? unhealthyWhen !== undefined;
  if (typeof reportHealth !== 'boolean')
    throw new InvalidArgumentError('simulateDevices.reportHealth must be a boolean');
  if (!reportHealth && unhealthyWhen !== undefined)
    throw new InvalidArgumentError('simulateDevices.unhealthyWhen needs reportHealth');
  return {
    reportHealth,
    unhealthyWhen,
    unhealthyShare: num('simulateDevices.unhealthyShare', so.unhealthyShare ?? 1, 0, 1),
  };
}

/** Fault injection: a default rate and latency, the weights of the fault kinds, and per-operation overrides. */
function resolveFaults(
  f: NonNullable<EmulatorOptions['faults']>,
  defaultSeed: number,
): ResolvedEmulatorOptions['faults'] {
  if (typeof f !== 'object' || f === null) throw new InvalidArgumentError('faults must be an object');
  const rate = num('faults.rate', f.rate ?? 0, 0, 1);
  const latencyMs = num('faults.latencyMs', f.latencyMs ?? 0, 0, 600_000);
  const seed = int('faults.seed', f.seed ?? defaultSeed, 0, 2 ** 32 - 1);
  const kinds = Object.freeze({
    internalError: num('faults.kinds.internalError', f.kinds?.internalError ?? 1, 0, 1e6),
    unavailable: num('faults.kinds.unavailable', f.kinds?.unavailable ?? 1, 0, 1e6),
    reset: num('faults.kinds.reset', f.kinds?.reset ?? 1, 0, 1e6),
    throttled: num('faults.kinds.throttled', f.kinds?.throttled ?? 0, 0, 1e6),
  });
  if (rate > 0 && kinds.internalError + kinds.unavailable + kinds.reset + kinds.throttled === 0)
    throw new InvalidArgumentError('faults.kinds must have a positive weight');
  const perOperation = {} as Record<EmulatorOperation, Required<FaultRule>>;
  for (const op of EMULATOR_OPERATIONS) {
    const r = f.perOperation?.[op];
    perOperation[op] = Object.freeze({
      rate: r?.rate === undefined ? rate : num(`faults.perOperation.${op}.rate`, r.rate, 0, 1),
      latencyMs:
        r?.latencyMs === undefined ? latencyMs : num(`faults.perOperation.${op}.latencyMs`, r.latencyMs, 0, 600_000),
    });
  }
  for (const op of Object.keys(f.perOperation ?? {})) {
    if (!(EMULATOR_OPERATIONS as readonly string[]).includes(op))
      throw new InvalidArgumentError(`faults.perOperation has an unknown operation '${op}'`);
  }
  return Object.freeze({ rate, latencyMs, seed, kinds, perOperation: Object.freeze(perOperation) });
}

/** Simulated devices: off unless `true` or an object; their delays, silent share, clock and health. */
function resolveSimulateDevices(sd: EmulatorOptions['simulateDevices']): ResolvedEmulatorOptions['simulateDevices'] {
  if (sd === undefined || sd === false) return undefined;
  if (sd !== true && (typeof sd !== 'object' || sd === null)) {
    throw new InvalidArgumentError(`simulateDevices must be a boolean or an object, got ${String(sd)}`);
  }
  const D = DEFAULT_EMULATOR_OPTIONS.simulateDevices;
  const so = sd === true ? {} : sd;
  const simulateDevices = Object.freeze({
    delayMs: num('simulateDevices.delayMs', so.delayMs ?? D.delayMs, 0, 3_600_000),
    silentShare: num('simulateDevices.silentShare', so.silentShare ?? D.silentShare, 0, 1),
    reconnectDelayMs: num('simulateDevices.reconnectDelayMs', so.reconnectDelayMs ?? D.reconnectDelayMs, 0, 3_600_000),
    clock: so.clock ?? SYSTEM_CLOCK,
    ...resolveDeviceHealth(so),
  });
  const c = simulateDevices.clock;
  if (typeof c?.now !== 'function' || typeof c.setTimeout !== 'function' || typeof c.clearTimeout !== 'function') {
    throw new InvalidArgumentError('simulateDevices.clock must have now, setTimeout and clearTimeout functions');
  }
  return simulateDevices;
}

/** Request signature checks: the accepted keys, the clock skew allowed, and whether UNSIGNED-PAYLOAD passes. */
function resolveSigV4(s: NonNullable<EmulatorOptions['sigv4']>): ResolvedEmulatorOptions['sigv4'] {
  const creds = s?.credentials;
  if (!Array.isArray(creds) || creds.length === 0)
    throw new InvalidArgumentError('sigv4.credentials must be a non-empty array');
  const allowUnsignedPayload = s.allowUnsignedPayload ?? false;
  if (typeof allowUnsignedPayload !== 'boolean')
    throw new InvalidArgumentError('sigv4.allowUnsignedPayload must be a boolean');
  return {
    credentials: creds.map((c, i) => resolveCredentials(c, `sigv4.credentials[${i}]`)),
    maxClockSkewMs: int('sigv4.maxClockSkewMs', s.maxClockSkewMs ?? 15 * 60_000, 0),
    allowUnsignedPayload,
  };
}

/** Validates options once; every message names the option. */
export function resolveEmulatorOptions(o: EmulatorOptions = {}): ResolvedEmulatorOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('emulator options must be an object');
  const D = DEFAULT_EMULATOR_OPTIONS;
  const port = int('port', o.port ?? D.port, 0, 65535);
  const host = o.host ?? D.host;
  if (typeof host !== 'string' || host.length === 0)
    throw new InvalidArgumentError(`host must be a non-empty string, got ${String(host)}`);

  const faults = resolveFaults(o.faults ?? {}, D.faultSeed);
  const simulateDevices = resolveSimulateDevices(o.simulateDevices);
  const sigv4 = o.sigv4 === undefined ? undefined : resolveSigV4(o.sigv4);

  const emptySectionClears = o.emptySectionClears ?? D.emptySectionClears;
  if (typeof emptySectionClears !== 'boolean') throw new InvalidArgumentError('emptySectionClears must be a boolean');
  const seedRegistry = o.seedRegistry ?? false;
  if (typeof seedRegistry !== 'boolean') throw new InvalidArgumentError('seedRegistry must be a boolean');
  const fleetIndexing = o.fleetIndexing ?? true;
  if (typeof fleetIndexing !== 'boolean') throw new InvalidArgumentError('fleetIndexing must be a boolean');
  const region = o.region ?? D.region;
  const accountId = o.accountId ?? D.accountId;
  if (typeof region !== 'string' || region === '') throw new InvalidArgumentError('region must be a non-empty string');
  if (typeof accountId !== 'string' || accountId === '')
    throw new InvalidArgumentError('accountId must be a non-empty string');

  const headersTimeoutMs = int('headersTimeoutMs', o.headersTimeoutMs ?? D.headersTimeoutMs, 1, 3_600_000);
  const bodyTimeoutMs = int('bodyTimeoutMs', o.bodyTimeoutMs ?? D.bodyTimeoutMs, 1, 3_600_000);
  if (bodyTimeoutMs < headersTimeoutMs) {
    throw new InvalidArgumentError(
      `bodyTimeoutMs must be at least headersTimeoutMs (${headersTimeoutMs}), got ${bodyTimeoutMs}`,
    );
  }

  return {
    port,
    host,
    quotas: resolveQuotas(o),
    faults,
    simulateDevices,
    seedThings: int('seedThings', o.seedThings ?? D.seedThings, 0, 100_000_000),
    seedRegistry,
    fleetIndexing,
    sigv4,
    limits: resolveShadowLimits(o.limits),
    maxRequestBytes: int('maxRequestBytes', o.maxRequestBytes ?? D.maxRequestBytes, 1),
    headersTimeoutMs,
    bodyTimeoutMs,
    maxConnections: int('maxConnections', o.maxConnections ?? D.maxConnections, 1, 1_000_000),
    maxPublishBytes: int('maxPublishBytes', o.maxPublishBytes ?? D.maxPublishBytes, 0),
    tombstoneTtlMs: int('tombstoneTtlMs', o.tombstoneTtlMs ?? D.tombstoneTtlMs, 0),
    emptySectionClears,
    renderCacheSize: int('renderCacheSize', o.renderCacheSize ?? D.renderCacheSize, 0, 10_000_000),
    defaultShadowPageSize: int('defaultShadowPageSize', o.defaultShadowPageSize ?? D.defaultShadowPageSize, 1, 100),
    defaultRetainedPageSize: int(
      'defaultRetainedPageSize',
      o.defaultRetainedPageSize ?? D.defaultRetainedPageSize,
      1,
      200,
    ),
    defaultThingsPageSize: int('defaultThingsPageSize', o.defaultThingsPageSize ?? D.defaultThingsPageSize, 1, 250),
    region,
    accountId,
  };
}
