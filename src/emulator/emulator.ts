import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SHADOW_FAULTS, constraintFault, noShadowFault, shadowFault } from '../shadow/shadow-faults.js';
import type { ShadowFault } from '../shadow/types.js';
import { isReservedTopic, validateShadowName, validateThingName, validateTopic } from '../shadow/validation.js';
import { DeviceSimulator } from './device-simulator.js';
import {
  resolveEmulatorOptions,
  type EmulatorOperation,
  type EmulatorOptions,
  type ResolvedEmulatorOptions,
} from './emulator-options.js';
import { EmulatorCounters, type EmulatorStats } from './emulator-stats.js';
import { FaultInjector } from './fault-injector.js';
import { QuotaGate, type QuotaPermit } from './quota-gate.js';
import { RetainedStore } from './retained-store.js';
import { seedThings } from './seed-things.js';
import { ShadowStore } from './shadow-store.js';
import { ControlPlaneRoutes } from './control-plane/control-plane-routes.js';
import { ControlPlaneFault } from './control-plane/control-plane-fault.js';
import { seedRegistry } from './control-plane/seed-registry.js';
import { ThingRegistry } from './control-plane/thing-registry.js';
import { SigV4Verifier } from './sigv4-verifier.js';

const JSON_TYPE = 'application/json';
const SHADOW_TOPIC = /^\$aws\/things\/([^/]+)\/shadow(?:\/name\/([^/]+))?\/(update|delete)$/;
const LIST_NAMED_PREFIX = '/api/things/shadow/ListNamedShadowsForThing/';
/** Bodies this many times over the cap are cut off by closing the connection instead of draining. */
const DRAIN_FACTOR = 16;

/**
 * Request ids shaped like AWS's UUIDs: a random per-process prefix and a counter. Cheaper than
 * crypto.randomUUID() per request (which showed up at about 1% of the server's profile).
 */
const REQUEST_ID_PREFIX = randomUUID().slice(0, 24);
let requestCounter = 0;
function nextRequestId(): string {
  requestCounter = (requestCounter + 1) % 0x1000000000000;
  return REQUEST_ID_PREFIX + requestCounter.toString(16).padStart(12, '0');
}

/** Per-request state, one allocation per request. */
class Exchange {
  op: EmulatorOperation;
  req: IncomingMessage;
  res: ServerResponse;
  rawPath: string;
  query: string;
  /** Path label after the operation prefix, still percent-encoded. */
  label: string;
  body: Buffer | undefined = undefined;
  permit: QuotaPermit | undefined = undefined;
  thingName: string | undefined = undefined;
  shadowName: string | undefined = undefined;
  /** Body chunks while reading; undefined before, after, or once the body was refused. */
  chunks: Buffer[] | undefined = undefined;
  received = 0;
  done = false;
  constructor(
    op: EmulatorOperation,
    req: IncomingMessage,
    res: ServerResponse,
    rawPath: string,
    query: string,
    label: string,
  ) {
    this.op = op;
    this.req = req;
    this.res = res;
    this.rawPath = rawPath;
    this.query = query;
    this.label = label;
  }
}

function decodeComponent(s: string): string | undefined {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Query parameters, decoded; the first of repeated keys wins. `undefined` on bad encoding. */
function parseQuery(query: string): Record<string, string> | undefined {
  const out = Object.create(null) as Record<string, string>;
  if (query === '') return out;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const v = decodeComponent(eq < 0 ? '' : part.slice(eq + 1).replace(/\+/g, ' '));
    if (k === undefined || v === undefined) return undefined;
    if (!(k in out)) out[k] = v;
  }
  return out;
}

/** The `name` query parameter of the shadow operations, fast when there is no query. */
function shadowNameParam(query: string): string | undefined | null {
  if (query === '') return undefined;
  const q = parseQuery(query);
  if (q === undefined) return null;
  return q.name;
}

function intParam(
  q: Record<string, string>,
  member: string,
  min: number,
  max: number,
): number | ShadowFault | undefined {
  const raw = q[member];
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) return constraintFault(member, raw, 'Member must be an integer');
  const n = Number(raw);
  if (n < min) return constraintFault(member, raw, `Member must have value greater than or equal to ${min}`);
  if (n > max) return constraintFault(member, raw, `Member must have value less than or equal to ${max}`);
  return n;
}

const encodeToken = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
const decodeToken = (s: string): string | undefined => {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return undefined;
  return Buffer.from(s, 'base64url').toString('utf8');
};
const BAD_TOKEN = shadowFault(400, 'InvalidRequestException', 'Invalid nextToken');

/** First index of a sorted array whose element is greater than `key`. */
function upperBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A local AWS IoT Data Plane over node:http. Routing, store, quotas, faults, devices and
 * signatures are wired here; the shadow semantics live in src/shadow. Features that are off
 * cost nothing per request (each is decided once, at construction).
 */
export class Emulator {
  readonly store: ShadowStore;
  readonly retained = new RetainedStore();
  /** The IoT registry (things, thing groups) the control-plane routes serve. */
  readonly registry: ThingRegistry;
  readonly #controlPlane: ControlPlaneRoutes;
  readonly options: Readonly<ResolvedEmulatorOptions>;
  readonly #server: Server;
  readonly #counters = new EmulatorCounters();
  readonly #quota: QuotaGate | undefined;
  readonly #faults: FaultInjector;
  readonly #faultsOn: boolean;
  readonly #latencyOn: boolean;
  readonly #devices: DeviceSimulator | undefined;
  readonly #verifier: SigV4Verifier | undefined;
  #address: AddressInfo | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: EmulatorOptions = {}) {
    const o = resolveEmulatorOptions(options);
    this.options = o;
    this.store = new ShadowStore({
      limits: o.limits,
      tombstoneTtlMs: o.tombstoneTtlMs,
      emptySectionClears: o.emptySectionClears,
      renderCacheSize: o.renderCacheSize,
    });
    this.#quota = o.quotas === undefined ? undefined : new QuotaGate(o.quotas);
    this.#faults = new FaultInjector(o.faults);
    this.#faultsOn = this.#faults.enabled;
    this.#latencyOn = Object.values(o.faults.perOperation).some((r) => r.latencyMs > 0);
    this.#devices =
      o.simulateDevices === undefined
        ? undefined
        : new DeviceSimulator(this.store, o.simulateDevices, () => {
            this.#counters.deviceReports++;
          });
    this.#verifier =
      o.sigv4 === undefined
        ? undefined
        : new SigV4Verifier(o.sigv4.credentials, o.sigv4.maxClockSkewMs, o.sigv4.allowUnsignedPayload);
    if (o.seedThings > 0) seedThings(this.store, o.seedThings);
    this.registry = new ThingRegistry({ region: o.region, accountId: o.accountId });
    if (o.seedRegistry) seedRegistry(this.registry, o.seedThings);
    this.#controlPlane = new ControlPlaneRoutes(this.store, this.registry, {
      defaultPageSize: o.defaultThingsPageSize,
      defaultSearchPageSize: Math.min(o.defaultThingsPageSize, 100),
      fleetIndexing: o.fleetIndexing,
      maxRequestBytes: o.maxRequestBytes,
      verifier:
        o.sigv4 === undefined
          ? undefined
          : new SigV4Verifier(o.sigv4.credentials, o.sigv4.maxClockSkewMs, o.sigv4.allowUnsignedPayload, ['iot']),
    });
    this.#server = createServer(
      {
        keepAlive: true,
        headersTimeout: o.headersTimeoutMs,
        requestTimeout: o.bodyTimeoutMs,
        // Node checks both timeouts on this period (default 30 s, which would stretch them).
        connectionsCheckingInterval: Math.max(5, Math.min(1000, Math.floor(o.headersTimeoutMs / 4))),
      },
      (req, res) => this.#handle(req, res),
    );
    this.#server.keepAliveTimeout = 65_000;
    this.#server.maxConnections = o.maxConnections;
    this.#server.on('drop', () => this.#counters.connectionsRefused++);
  }

  /** Starts listening; resolves once the port is bound. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.options.port, this.options.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#address = this.#server.address() as AddressInfo;
    return this;
  }

  get port(): number {
    return this.#address?.port ?? this.options.port;
  }

  get host(): string {
    return this.options.host;
  }

  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${h}:${this.port}`;
  }

  /** The simulated devices, when enabled. */
  get devices(): DeviceSimulator | undefined {
    return this.#devices;
  }

  stats(): EmulatorStats {
    return this.#counters.snapshot({
      shadows: this.store.shadowCount,
      things: this.store.thingCount,
      retainedMessages: this.retained.size,
    });
  }

  resetStats(): void {
    this.#counters.reset();
  }

  /** Stops accepting, ends open connections and timers. Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#devices?.close();
      this.#quota?.close();
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closed;
  }

  // ---- request path -------------------------------------------------------------------------

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const query = qi < 0 ? '' : url.slice(qi + 1);
    const method = req.method;
    let op: EmulatorOperation | undefined;
    let label = '';
    let known = true;
    if (path.startsWith('/things/')) {
      const slash = path.indexOf('/', 8);
      if (slash >= 0 && path.length === slash + 7 && path.endsWith('/shadow')) {
        label = path.slice(8, slash);
        op =
          method === 'GET'
            ? 'GetThingShadow'
            : method === 'POST'
              ? 'UpdateThingShadow'
              : method === 'DELETE'
                ? 'DeleteThingShadow'
                : undefined;
      } else if (path.length === 8) {
        op = method === 'GET' ? 'ListThings' : undefined;
      } else known = false;
    } else if (path.startsWith('/topics/')) {
      label = path.slice(8);
      op = method === 'POST' ? 'Publish' : undefined;
    } else if (path.startsWith(LIST_NAMED_PREFIX)) {
      label = path.slice(LIST_NAMED_PREFIX.length);
      op = method === 'GET' ? 'ListNamedShadowsForThing' : undefined;
    } else if (path === '/retainedMessage' || path === '/retainedMessage/') {
      op = method === 'GET' ? 'ListRetainedMessages' : undefined;
    } else if (path.startsWith('/retainedMessage/')) {
      label = path.slice(17);
      op = method === 'GET' ? 'GetRetainedMessage' : undefined;
    } else if (path === '/things') {
      op = method === 'GET' ? 'ListThings' : undefined;
    } else if (path.startsWith('/connections/') && path.indexOf('/', 13) < 0) {
      // Only DeleteConnection of the connection APIs is served; the others answer as unknown.
      label = path.slice(13);
      op = method === 'DELETE' ? 'DeleteConnection' : undefined;
      known = op !== undefined;
    } else if (path.startsWith('/_emulator/')) {
      return this.#emulatorRoute(req, res, path, query);
    } else known = false;
    if (op === undefined) {
      // The control plane is tried only after the data-plane routes missed.
      const control = this.#controlPlane.route(method ?? 'GET', path);
      if (control !== undefined) return this.#controlPlane.handle(req, res, control, query);
      this.#counters.unrouted++;
      req.resume();
      const fault =
        known || this.#controlPlane.knows(path) ? SHADOW_FAULTS.methodNotAllowed : SHADOW_FAULTS.unknownOperation;
      return this.#sendFault(res, fault);
    }
    const ex = new Exchange(op, req, res, path, query, label);
    this.#counters.ops[op].requests++;
    const headers = req.headers;
    const cl = headers['content-length'];
    if ((cl === undefined || cl === '0') && headers['transfer-encoding'] === undefined) {
      this.#afterBody(ex);
      return;
    }
    this.#readBody(ex, cl);
  }

  /** `/_emulator/*` (the counters): behind the same SigV4 check as the API when it is on. */
  #emulatorRoute(req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
    req.resume();
    const answer = (): void => {
      if (path !== '/_emulator/stats') return this.#sendFault(res, SHADOW_FAULTS.unknownOperation);
      if (req.method !== 'GET') return this.#sendFault(res, SHADOW_FAULTS.methodNotAllowed);
      this.#sendRaw(res, 200, JSON.stringify(this.stats()));
    };
    if (this.#verifier === undefined) return answer();
    this.#verifier.verify(req.method ?? 'GET', path, query, req.headers, undefined).then(
      (fault) => {
        if (fault === undefined) return answer();
        this.#counters.unauthorized++;
        this.#sendFault(res, fault);
      },
      () => this.#sendFault(res, SHADOW_FAULTS.internal),
    );
  }

  #readBody(ex: Exchange, cl: string | undefined): void {
    if (cl !== undefined && Number(cl) > this.options.maxRequestBytes) return this.#refuseBody(ex, Number(cl));
    ex.chunks = [];
    // Listeners are inline arrows calling methods: no per-request closure state beyond `ex`.
    ex.req.on('data', (chunk: Buffer) => this.#onData(ex, chunk));
    ex.req.on('end', () => this.#onEnd(ex));
  }

  #onData(ex: Exchange, chunk: Buffer): void {
    ex.received += chunk.length;
    if (ex.chunks === undefined) {
      // Refused: discard, and cut the connection when a client keeps sending far past the cap.
      if (ex.received > this.options.maxRequestBytes * DRAIN_FACTOR) ex.req.socket.destroy();
      return;
    }
    if (ex.received > this.options.maxRequestBytes) {
      ex.chunks = undefined;
      this.#fail(ex, SHADOW_FAULTS.tooLarge, 'error');
      return;
    }
    ex.chunks.push(chunk);
  }

  #onEnd(ex: Exchange): void {
    const chunks = ex.chunks;
    if (chunks === undefined) return;
    ex.body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, ex.received);
    ex.chunks = undefined;
    this.#afterBody(ex);
  }

  /** Answers 413 at once and discards the rest of the body (never buffering it). */
  #refuseBody(ex: Exchange, announced: number): void {
    this.#fail(ex, SHADOW_FAULTS.tooLarge, 'error');
    if (announced > this.options.maxRequestBytes * DRAIN_FACTOR) {
      // Far over any limit: close once the answer is out rather than reading it all.
      ex.res.once('finish', () => ex.req.socket.destroy());
      return;
    }
    ex.req.on('data', (chunk: Buffer) => this.#onData(ex, chunk));
    ex.req.resume();
  }

  #afterBody(ex: Exchange): void {
    if (this.#verifier !== undefined) {
      const qi = ex.req.url!.indexOf('?');
      this.#verifier
        .verify(ex.req.method!, ex.rawPath, qi < 0 ? '' : ex.req.url!.slice(qi + 1), ex.req.headers, ex.body)
        .then(
          (fault) => {
            if (fault === undefined) return this.#admit(ex);
            this.#counters.unauthorized++;
            this.#fail(ex, fault, 'error');
          },
          () => this.#fail(ex, SHADOW_FAULTS.internal, 'error'),
        );
      return;
    }
    this.#admit(ex);
  }

  /** Parses the thing and shadow names, then quotas, then injected faults and latency. */
  #admit(ex: Exchange): void {
    const op = ex.op;
    if (
      op === 'GetThingShadow' ||
      op === 'UpdateThingShadow' ||
      op === 'DeleteThingShadow' ||
      op === 'ListNamedShadowsForThing'
    ) {
      const thingName = decodeComponent(ex.label);
      if (thingName === undefined)
        return this.#fail(ex, constraintFault('thingName', ex.label, 'Member must be percent-encoded UTF-8'), 'error');
      const bad = validateThingName(thingName);
      if (bad !== undefined) return this.#fail(ex, shadowFault(400, 'InvalidRequestException', bad), 'error');
      ex.thingName = thingName;
      if (op !== 'ListNamedShadowsForThing') {
        const shadowName = shadowNameParam(ex.query);
        if (shadowName === null)
          return this.#fail(
            ex,
            constraintFault('shadowName', ex.query, 'Member must be percent-encoded UTF-8'),
            'error',
          );
        if (shadowName !== undefined) {
          const badShadow = validateShadowName(shadowName);
          if (badShadow !== undefined)
            return this.#fail(ex, shadowFault(400, 'InvalidRequestException', badShadow), 'error');
          ex.shadowName = shadowName;
        }
      }
    }
    const now = Date.now();
    if (this.#quota !== undefined && op !== 'ListThings') {
      const permit = this.#quota.admit(op, ex.thingName, now);
      if (permit === undefined) return this.#fail(ex, SHADOW_FAULTS.throttled, 'throttled');
      ex.permit = permit;
    }
    if (this.#faultsOn) {
      const kind = this.#faults.draw(op);
      if (kind === 'throttled') return this.#later(ex, () => this.#fail(ex, SHADOW_FAULTS.throttled, 'throttled'));
      if (kind !== undefined) {
        this.#counters.ops[op].faults++;
        if (kind === 'reset') {
          ex.done = true;
          ex.permit?.release();
          ex.req.socket.destroy();
          return;
        }
        return this.#later(ex, () =>
          this.#fail(ex, kind === 'internalError' ? SHADOW_FAULTS.internal : SHADOW_FAULTS.unavailable, 'fault'),
        );
      }
    }
    if (this.#latencyOn) return this.#later(ex, () => this.#execute(ex, Date.now()));
    this.#execute(ex, now);
  }

  #later(ex: Exchange, fn: () => void): void {
    const ms = this.#faults.latencyMs(ex.op);
    if (ms <= 0) return fn();
    setTimeout(fn, ms);
  }

  #execute(ex: Exchange, now: number): void {
    switch (ex.op) {
      case 'GetThingShadow': {
        const rec = this.store.liveRecord(ex.thingName!, ex.shadowName);
        if (rec === undefined) return this.#fail(ex, noShadowFault(ex.thingName!, ex.shadowName), 'error');
        return this.#ok(ex, this.store.render(rec) + Math.floor(now / 1000) + '}');
      }
      case 'UpdateThingShadow': {
        const result = this.store.update(ex.thingName!, ex.shadowName, ex.body ?? EMPTY, now);
        if (!result.ok) return this.#fail(ex, result.fault, 'error');
        this.#ok(ex, result.body);
        this.#devices?.notify(ex.thingName!, ex.shadowName);
        return;
      }
      case 'DeleteThingShadow': {
        const body = this.store.delete(ex.thingName!, ex.shadowName, now);
        if (body === undefined) return this.#fail(ex, noShadowFault(ex.thingName!, ex.shadowName), 'error');
        return this.#ok(ex, body);
      }
      case 'ListNamedShadowsForThing':
        return this.#listNamed(ex, now);
      case 'Publish':
        return this.#publish(ex, now);
      case 'GetRetainedMessage':
        return this.#getRetained(ex);
      case 'ListRetainedMessages':
        return this.#listRetained(ex);
      case 'ListThings':
        return this.#listThings(ex);
      case 'DeleteConnection':
        return this.#deleteConnection(ex);
    }
  }

  #listNamed(ex: Exchange, now: number): void {
    const q = parseQuery(ex.query);
    if (q === undefined)
      return this.#fail(ex, constraintFault('nextToken', ex.query, 'Member must be percent-encoded UTF-8'), 'error');
    const size = intParam(q, 'pageSize', 1, 100);
    if (typeof size === 'object') return this.#fail(ex, size, 'error');
    const pageSize = size ?? this.options.defaultShadowPageSize;
    const names = this.store.namedShadows(ex.thingName!);
    let start = 0;
    if (q.nextToken !== undefined && q.nextToken !== '') {
      const after = decodeToken(q.nextToken);
      if (after === undefined) return this.#fail(ex, BAD_TOKEN, 'error');
      start = upperBound(names, after);
    }
    const page = names.slice(start, start + pageSize);
    let body = '{"results":' + JSON.stringify(page);
    if (start + pageSize < names.length) body += ',"nextToken":' + JSON.stringify(encodeToken(page[page.length - 1]!));
    this.#ok(ex, body + ',"timestamp":' + Math.floor(now / 1000) + '}');
  }

  #publish(ex: Exchange, now: number): void {
    const topic = decodeComponent(ex.label);
    if (topic === undefined)
      return this.#fail(ex, constraintFault('topic', ex.label, 'Member must be percent-encoded UTF-8'), 'error');
    const badTopic = validateTopic(topic);
    if (badTopic !== undefined) return this.#fail(ex, shadowFault(400, 'InvalidRequestException', badTopic), 'error');
    const q = parseQuery(ex.query);
    if (q === undefined)
      return this.#fail(ex, constraintFault('query', ex.query, 'Member must be percent-encoded UTF-8'), 'error');
    const qos = intParam(q, 'qos', 0, 1);
    if (typeof qos === 'object') return this.#fail(ex, qos, 'error');
    const retainRaw = q.retain;
    if (retainRaw !== undefined && retainRaw !== 'true' && retainRaw !== 'false') {
      return this.#fail(ex, constraintFault('retain', retainRaw, 'Member must be a boolean'), 'error');
    }
    const retain = retainRaw === 'true';
    const expiry = q.messageExpiry;
    if (expiry !== undefined && !/^\d+$/.test(expiry)) {
      return this.#fail(ex, constraintFault('messageExpiry', expiry, 'Member must be a non-negative integer'), 'error');
    }
    if (q.responseTopic !== undefined) {
      const badResponse = validateTopic(q.responseTopic, undefined, 'responseTopic');
      if (badResponse !== undefined)
        return this.#fail(ex, shadowFault(400, 'InvalidRequestException', `responseTopic: ${badResponse}`), 'error');
    }
    const payload = ex.body ?? EMPTY;
    // UNCONFIRMED: AWS models no 413 for Publish; an oversized payload answers as the shadow API does.
    if (payload.length > this.options.maxPublishBytes) return this.#fail(ex, SHADOW_FAULTS.tooLarge, 'error');
    const h = ex.req.headers;
    const pfi = h['x-amz-mqtt5-payload-format-indicator'];
    if (pfi !== undefined) {
      if (pfi !== 'UNSPECIFIED_BYTES' && pfi !== 'UTF8_DATA') {
        return this.#fail(
          ex,
          constraintFault(
            'payloadFormatIndicator',
            pfi,
            'Member must satisfy enum value set: [UNSPECIFIED_BYTES, UTF8_DATA]',
          ),
          'error',
        );
      }
      if (pfi === 'UTF8_DATA' && !isUtf8(payload)) {
        return this.#fail(ex, shadowFault(400, 'InvalidRequestException', 'Payload is not valid UTF-8 data'), 'error');
      }
    }
    let userProperties: string | undefined;
    const up = h['x-amz-mqtt5-user-properties'];
    if (typeof up === 'string') {
      userProperties = parseUserProperties(up);
      if (userProperties === undefined) {
        return this.#fail(
          ex,
          shadowFault(
            400,
            'InvalidRequestException',
            'userProperties must be a base64-encoded JSON array of string key-value objects',
          ),
          'error',
        );
      }
    }
    const cd = h['x-amz-mqtt5-correlation-data'];
    if (typeof cd === 'string' && !/^[A-Za-z0-9+/]*={0,2}$/.test(cd)) {
      return this.#fail(
        ex,
        shadowFault(400, 'InvalidRequestException', 'correlationData must be base64-encoded'),
        'error',
      );
    }
    if (retain) {
      // UNCONFIRMED status and text: AWS documents that reserved topics cannot retain messages.
      if (isReservedTopic(topic))
        return this.#fail(
          ex,
          shadowFault(400, 'InvalidRequestException', 'Retained messages are not supported on reserved topics'),
          'error',
        );
      if (payload.length === 0) this.retained.delete(topic);
      else
        this.retained.put({
          topic,
          payload: Buffer.from(payload),
          qos: qos ?? 0,
          lastModifiedTime: now,
          userProperties,
        });
    }
    const m = topic.charCodeAt(0) === 36 ? SHADOW_TOPIC.exec(topic) : null;
    if (m !== null) this.#shadowTopic(m[1]!, m[2], m[3]!, payload, now);
    this.#ok(ex, '{}');
  }

  /** A publish to `$aws/things/<thing>/shadow[/name/<n>]/update|delete` acts on that shadow. */
  #shadowTopic(thingName: string, shadowName: string | undefined, action: string, payload: Buffer, now: number): void {
    if (validateThingName(thingName) !== undefined) return;
    if (shadowName !== undefined && validateShadowName(shadowName) !== undefined) return;
    if (action === 'delete') {
      this.store.delete(thingName, shadowName, now);
      return;
    }
    // Over MQTT a rejected update goes to /update/rejected; the HTTP publish itself succeeds.
    const result = this.store.update(thingName, shadowName, payload, now);
    if (result.ok) this.#devices?.notify(thingName, shadowName);
  }

  /**
   * DeleteConnection: the simulated devices are the connected clients (clientId = thing name).
   * The device goes offline and reconnects after simulateDevices.reconnectDelayMs. cleanSession
   * and preventWillMessage are validated only: the devices keep no session or will message.
   */
  #deleteConnection(ex: Exchange): void {
    const clientId = decodeComponent(ex.label);
    if (clientId === undefined)
      return this.#fail(ex, constraintFault('clientId', ex.label, 'Member must be percent-encoded UTF-8'), 'error');
    if (clientId.length < 1)
      return this.#fail(
        ex,
        constraintFault('clientId', clientId, 'Member must have length greater than or equal to 1'),
        'error',
      );
    if (clientId.length > 128)
      return this.#fail(
        ex,
        constraintFault('clientId', clientId, 'Member must have length less than or equal to 128'),
        'error',
      );
    if (clientId.charCodeAt(0) === 36)
      return this.#fail(
        ex,
        constraintFault('clientId', clientId, 'Member must satisfy regular expression pattern: ^[^$].*'),
        'error',
      );
    const q = parseQuery(ex.query);
    if (q === undefined)
      return this.#fail(ex, constraintFault('query', ex.query, 'Member must be percent-encoded UTF-8'), 'error');
    for (const member of ['cleanSession', 'preventWillMessage']) {
      const v = q[member];
      if (v !== undefined && v !== 'true' && v !== 'false')
        return this.#fail(ex, constraintFault(member, v, 'Member must be a boolean'), 'error');
    }
    if (this.#devices === undefined || !this.#devices.disconnect(clientId)) {
      // UNCONFIRMED text of the 404.
      return this.#fail(
        ex,
        shadowFault(404, 'ResourceNotFoundException', `No connection exists for clientId: '${clientId}'`),
        'error',
      );
    }
    this.#ok(ex, '{}');
  }

  #getRetained(ex: Exchange): void {
    const topic = decodeComponent(ex.label);
    if (topic === undefined || topic === '')
      return this.#fail(
        ex,
        constraintFault('topic', ex.label, 'Member must have length greater than or equal to 1'),
        'error',
      );
    const m = this.retained.get(topic);
    // UNCONFIRMED text of the 404.
    if (m === undefined)
      return this.#fail(
        ex,
        shadowFault(404, 'ResourceNotFoundException', `No retained message exists for topic: '${topic}'`),
        'error',
      );
    let body =
      '{"topic":' +
      JSON.stringify(m.topic) +
      ',"payload":"' +
      m.payload.toString('base64') +
      '","qos":' +
      m.qos +
      ',"lastModifiedTime":' +
      m.lastModifiedTime;
    if (m.userProperties !== undefined)
      body += ',"userProperties":"' + Buffer.from(m.userProperties).toString('base64') + '"';
    this.#ok(ex, body + '}');
  }

  #listRetained(ex: Exchange): void {
    const q = parseQuery(ex.query);
    if (q === undefined)
      return this.#fail(ex, constraintFault('nextToken', ex.query, 'Member must be percent-encoded UTF-8'), 'error');
    const max = intParam(q, 'maxResults', 1, 200);
    if (typeof max === 'object') return this.#fail(ex, max, 'error');
    const pageSize = max ?? this.options.defaultRetainedPageSize;
    const topics = this.retained.topics();
    let start = 0;
    if (q.nextToken !== undefined && q.nextToken !== '') {
      const after = decodeToken(q.nextToken);
      if (after === undefined) return this.#fail(ex, BAD_TOKEN, 'error');
      start = upperBound(topics, after);
    }
    const end = Math.min(topics.length, start + pageSize);
    let body = '{"retainedTopics":[';
    for (let i = start; i < end; i++) {
      const m = this.retained.get(topics[i]!)!;
      body +=
        (i === start ? '' : ',') +
        '{"topic":' +
        JSON.stringify(m.topic) +
        ',"payloadSize":' +
        m.payload.length +
        ',"qos":' +
        m.qos +
        ',"lastModifiedTime":' +
        m.lastModifiedTime +
        '}';
    }
    body += ']';
    if (end < topics.length) body += ',"nextToken":' + JSON.stringify(encodeToken(topics[end - 1]!));
    this.#ok(ex, body + '}');
  }

  /** ListThings of the control plane (with its filters), on the data plane's route. */
  #listThings(ex: Exchange): void {
    let body: string;
    try {
      body = this.#controlPlane.listThingsBody(ex.query);
    } catch (err) {
      if (err instanceof ControlPlaneFault) return this.#fail(ex, err, 'error');
      throw err;
    }
    this.#ok(ex, body);
  }

  // ---- responses ----------------------------------------------------------------------------

  #ok(ex: Exchange, body: string): void {
    if (ex.done) return;
    ex.done = true;
    ex.permit?.release();
    this.#sendRaw(ex.res, 200, body);
  }

  #fail(ex: Exchange, fault: ShadowFault, kind: 'error' | 'throttled' | 'fault'): void {
    if (ex.done) return;
    ex.done = true;
    ex.permit?.release();
    const c = this.#counters.ops[ex.op];
    if (kind === 'throttled') c.throttled++;
    else if (kind === 'error') c.errors++;
    this.#sendFault(ex.res, fault);
  }

  #sendRaw(res: ServerResponse, status: number, body: string): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, [
      'Content-Type',
      JSON_TYPE,
      'Content-Length',
      String(Buffer.byteLength(body)),
      'x-amzn-RequestId',
      nextRequestId(),
    ]);
    res.end(body);
  }

  #sendFault(res: ServerResponse, fault: ShadowFault): void {
    if (res.headersSent || res.destroyed) return;
    const body = '{"message":' + JSON.stringify(fault.message) + '}';
    res.writeHead(fault.status, [
      'Content-Type',
      JSON_TYPE,
      'Content-Length',
      String(Buffer.byteLength(body)),
      'x-amzn-RequestId',
      nextRequestId(),
      'x-amzn-ErrorType',
      fault.errorType,
    ]);
    res.end(body);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Decodes the user-properties header: base64 of a JSON array of `{key: value}` string objects,
 * as the JS SDK sends it, or of a JSON string holding that array, as botocore sends it. Returns
 * the array's JSON text (GetRetainedMessage answers it base64-encoded, as AWS documents).
 */
function parseUserProperties(b64: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  let text = Buffer.from(b64, 'base64').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    // botocore (boto3, the AWS CLI) JSON-encodes the documented JSON string once more before
    // base64: `"[{\"k\":\"v\"}]"`. The array inside is what is kept and given back.
    if (typeof parsed === 'string') {
      text = parsed;
      parsed = JSON.parse(text);
    }
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  for (const item of parsed) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
    for (const v of Object.values(item as Record<string, unknown>)) if (typeof v !== 'string') return undefined;
  }
  return text;
}

/** Starts an emulator and waits until it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = new Emulator(options);
  try {
    return await emulator.listen();
  } catch (err) {
    await emulator.close();
    throw err;
  }
}
