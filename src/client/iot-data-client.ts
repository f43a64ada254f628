import diagnosticsChannel from 'node:diagnostics_channel';
import { Pool, type Dispatcher } from 'undici';
import { AbortError, ConfigError, InvalidArgumentError, isShadowError, type ShadowError } from '../errors.js';
import {
  DEFAULT_TOPIC_RULES,
  isReservedTopic,
  validateShadowName,
  validateThingName,
  validateTopic,
} from '../shadow/index.js';
import {
  assertStorableNumbers,
  documentJson,
  mayLosePrecision,
  parseJson as parseJsonText,
} from '../shadow/json-text.js';
import type { ShadowDocument, UpdateDocument } from '../shadow/index.js';
import {
  CredentialSource,
  defaultCredentialsProvider,
  isLoopbackHost,
  type ClientCredentials,
  type CredentialsProvider,
} from './credential-source.js';
import { errorFromResponse, errorFromTransport, type ErrorTarget } from './response-error.js';
import { parseDataEndpoint } from './resolve-data-endpoint.js';
import { retryDelay, type RetryPolicyOptions } from './retry-delay.js';
import { EMPTY_PAYLOAD_HASH, SigV4Signer, encodeLabel, payloadHash, type SigningCredentials } from './sigv4-signer.js';

export type { ClientCredentials };

export interface ShadowRef {
  thingName: string;
  /** Absent = the classic (unnamed) shadow. */
  shadowName?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** Every data-plane operation, the one list the engine's gates iterate. */
export const OPERATION_NAMES = Object.freeze([
  'GetThingShadow',
  'UpdateThingShadow',
  'DeleteThingShadow',
  'ListNamedShadowsForThing',
  'Publish',
  'GetRetainedMessage',
  'ListRetainedMessages',
] as const);

export type OperationName = (typeof OPERATION_NAMES)[number];

export interface AttemptOutcome {
  statusCode?: number;
  error?: ShadowError;
  durationMs: number;
}

/** Where rate gates plug in: `beforeAttempt` is awaited before every attempt, retries included. */
export interface RequestHooks {
  beforeAttempt?(op: OperationName, ref: ShadowRef | undefined): void | Promise<void>;
  afterAttempt?(op: OperationName, ref: ShadowRef | undefined, outcome: AttemptOutcome): void;
}

export interface ClientRetryOptions {
  /** Attempts including the first; 1 disables retries. Default 3. */
  maxAttempts?: number;
  /** Default 100 ms. */
  baseDelayMs?: number;
  /** Cap of the backoff and of a server Retry-After hint. Default 20 s. */
  maxDelayMs?: number;
  /** Jitter source in [0, 1) (tests inject a fixed one). */
  random?: () => number;
  /** Waits between attempts (tests inject one that records the delay instead of sleeping). */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

export interface IotDataClientOptions {
  /** Data endpoint, e.g. `https://xxxx-ats.iot.eu-west-1.amazonaws.com`; else SHADOWFLEET_ENDPOINT. http:// is allowed. */
  endpoint?: string;
  /** Else AWS_REGION, else AWS_DEFAULT_REGION, else `us-east-1`. */
  region?: string;
  /** Explicit keys or a provider; default: the AWS credential chain (local keys for a loopback endpoint). */
  credentials?: ClientCredentials | (() => Promise<ClientCredentials>);
  signingName?: 'iotdata' | 'iotdevicegateway';
  /** Sockets of the pool. Default 64. */
  connections?: number;
  /** Requests in flight per socket. Default 1. */
  pipelining?: number;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** Time to the response headers, and between body chunks. Default 30 s. */
  requestTimeoutMs?: number;
  /** Idle keep-alive of pooled sockets. Default 60 s. */
  keepAliveTimeoutMs?: number;
  retry?: ClientRetryOptions;
  hooks?: RequestHooks;
}

export const DEFAULT_IOT_DATA_CLIENT_OPTIONS = Object.freeze({
  region: 'us-east-1',
  signingName: 'iotdata' as const,
  connections: 64,
  pipelining: 1,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 60_000,
  retry: Object.freeze({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 20_000 }),
});

export interface ListNamedShadowsInput {
  thingName: string;
  /** 1..100. */
  pageSize?: number;
  nextToken?: string;
}

export interface ListNamedShadowsOutput {
  results: string[];
  nextToken?: string;
  /** Epoch seconds, when the service sent one. */
  timestamp?: number;
}

export interface PublishInput {
  topic: string;
  payload?: Uint8Array | string;
  qos?: 0 | 1;
  retain?: boolean;
  contentType?: string;
  responseTopic?: string;
  /** Seconds. */
  messageExpiry?: number;
  userProperties?: Array<Record<string, string>>;
  payloadFormatIndicator?: 'UNSPECIFIED_BYTES' | 'UTF8_DATA';
  /** Base64, sent as given. */
  correlationData?: string;
}

export interface RetainedMessage {
  topic: string;
  payload: Uint8Array;
  qos: number;
  lastModifiedTime: number;
  userProperties?: Array<Record<string, string>>;
}

export interface RetainedMessageSummary {
  topic: string;
  payloadSize: number;
  qos: number;
  lastModifiedTime: number;
}

export interface ListRetainedMessagesInput {
  /** 1..200. */
  maxResults?: number;
  nextToken?: string;
}

export interface ListRetainedMessagesOutput {
  retainedTopics: RetainedMessageSummary[];
  nextToken?: string;
}

/** Events published on `shadowfleet:request:start` and `shadowfleet:request:retry`. */
export interface RequestStartMessage {
  operation: OperationName;
  thingName?: string;
  shadowName?: string;
  attempt: number;
}
export interface RequestRetryMessage extends RequestStartMessage {
  delayMs: number;
  error: unknown;
}

const startChannel = diagnosticsChannel.channel('shadowfleet:request:start');
const retryChannel = diagnosticsChannel.channel('shadowfleet:request:retry');

const MAX_PUBLISH_BYTES = 128 * 1024;
const OCTET_STREAM = 'application/octet-stream';

interface ResolvedIotDataClientOptions {
  origin: string;
  host: string;
  basePath: string;
  region: string;
  signingName: string;
  connections: number;
  pipelining: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  retry: RetryPolicyOptions;
  sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  credentials: CredentialsProvider | SigningCredentials;
}

interface RawResponse {
  statusCode: number;
  rawHeaders: Buffer[] | undefined;
  body: Buffer;
}

/** Per-request state of one dispatch (undici handler protocol); resolves with the whole body. */
class ResponseCollector implements Dispatcher.DispatchHandler {
  statusCode = 0;
  rawHeaders: Buffer[] | undefined;
  #first: Buffer | undefined;
  #chunks: Buffer[] | undefined;
  #abort: ((err?: Error) => void) | undefined;
  #signal: AbortSignal | undefined;
  #resolve: (r: RawResponse) => void;
  #reject: (e: unknown) => void;
  #onAbort: (() => void) | undefined;

  constructor(resolve: (r: RawResponse) => void, reject: (e: unknown) => void, signal: AbortSignal | undefined) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    if (signal !== undefined) {
      this.#onAbort = () => {
        if (this.#abort !== undefined) {
          this.#abort(new AbortError());
        } else {
          // Still queued in the pool: settle now; onConnect drops it before it is written.
          this.#cleanup();
          this.#reject(new AbortError());
        }
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.#signal?.aborted) abort(new AbortError());
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    this.statusCode = statusCode;
    // Headers are only read for errors; success responses never parse them.
    if (statusCode >= 300) this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#first === undefined) this.#first = chunk;
    else (this.#chunks ??= [this.#first]).push(chunk);
    return true;
  }

  onComplete(): void {
    this.#cleanup();
    const body = this.#chunks !== undefined ? Buffer.concat(this.#chunks) : (this.#first ?? Buffer.alloc(0));
    this.#resolve({ statusCode: this.statusCode, rawHeaders: this.rawHeaders, body });
  }

  onError(err: Error): void {
    this.#cleanup();
    this.#reject(err);
  }

  #cleanup(): void {
    if (this.#onAbort !== undefined) this.#signal!.removeEventListener('abort', this.#onAbort);
  }
}

const defaultSleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function positiveInt(name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new InvalidArgumentError(`IotDataClientOptions.${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

function resolveOptions(o: IotDataClientOptions): ResolvedIotDataClientOptions {
  if (o === null || typeof o !== 'object') throw new InvalidArgumentError('IotDataClientOptions must be an object');
  const D = DEFAULT_IOT_DATA_CLIENT_OPTIONS;
  const endpoint = o.endpoint ?? process.env.SHADOWFLEET_ENDPOINT;
  if (endpoint === undefined || endpoint === '') {
    throw new ConfigError(
      'no data endpoint: pass IotDataClientOptions.endpoint or set SHADOWFLEET_ENDPOINT (see resolveDataEndpoint())',
    );
  }
  const url = parseDataEndpoint(endpoint, 'IotDataClientOptions.endpoint');
  const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? D.region;
  if (!/^[a-z0-9-]+$/.test(region))
    throw new InvalidArgumentError(
      `IotDataClientOptions.region must be a bare region like us-east-1, got ${JSON.stringify(region)}`,
    );
  const signingName = o.signingName ?? D.signingName;
  if (signingName !== 'iotdata' && signingName !== 'iotdevicegateway') {
    throw new InvalidArgumentError(
      `IotDataClientOptions.signingName must be 'iotdata' or 'iotdevicegateway', got ${JSON.stringify(signingName)}`,
    );
  }
  const r = o.retry ?? {};
  const retry: RetryPolicyOptions = {
    maxAttempts: positiveInt('retry.maxAttempts', r.maxAttempts ?? D.retry.maxAttempts),
    baseDelayMs: positiveInt('retry.baseDelayMs', r.baseDelayMs ?? D.retry.baseDelayMs, 0),
    maxDelayMs: positiveInt('retry.maxDelayMs', r.maxDelayMs ?? D.retry.maxDelayMs, 0),
  };
  if (r.random !== undefined) retry.random = r.random;
  let credentials: CredentialsProvider | SigningCredentials;
  const c = o.credentials;
  if (c === undefined) {
    credentials = defaultCredentialsProvider(isLoopbackHost(url.hostname));
  } else if (typeof c === 'function') {
    credentials = c;
  } else if (
    typeof c === 'object' &&
    c !== null &&
    typeof c.accessKeyId === 'string' &&
    typeof c.secretAccessKey === 'string' &&
    c.accessKeyId &&
    c.secretAccessKey
  ) {
    credentials = c;
  } else {
    throw new InvalidArgumentError(
      'IotDataClientOptions.credentials must be { accessKeyId, secretAccessKey, sessionToken? } or a provider function',
    );
  }
  return {
    origin: url.origin,
    host: url.host,
    basePath: url.basePath,
    region,
    signingName,
    connections: positiveInt('connections', o.connections ?? D.connections),
    pipelining: positiveInt('pipelining', o.pipelining ?? D.pipelining),
    connectTimeoutMs: positiveInt('connectTimeoutMs', o.connectTimeoutMs ?? D.connectTimeoutMs),
    requestTimeoutMs: positiveInt('requestTimeoutMs', o.requestTimeoutMs ?? D.requestTimeoutMs),
    keepAliveTimeoutMs: positiveInt('keepAliveTimeoutMs', o.keepAliveTimeoutMs ?? D.keepAliveTimeoutMs),
    retry,
    sleep: r.sleep ?? defaultSleep,
    credentials,
  };
}

function checkRef(op: OperationName, ref: ShadowRef): void {
  if (ref === null || typeof ref !== 'object')
    throw new InvalidArgumentError(`${op}: expected { thingName, shadowName? }`);
  const t = validateThingName(ref.thingName);
  if (t !== undefined)
    throw new InvalidArgumentError(`${op}: invalid thingName ${JSON.stringify(ref.thingName)}: ${t}`);
  if (ref.shadowName !== undefined) {
    const s = validateShadowName(ref.shadowName);
    if (s !== undefined)
      throw new InvalidArgumentError(`${op}: invalid shadowName ${JSON.stringify(ref.shadowName)}: ${s}`);
  }
}

/** Topic rules shared with the emulator (src/shadow), plus the dot segments a URL path cannot carry. */
function checkTopic(op: OperationName, topic: unknown, what = 'topic'): string {
  const msg = validateTopic(topic, DEFAULT_TOPIC_RULES, what);
  if (msg !== undefined) throw new InvalidArgumentError(`${op}: invalid ${what} ${JSON.stringify(topic)}: ${msg}`);
  if (topic === '.' || topic === '..') throw new InvalidArgumentError(`${op}: ${what} must not be "." or ".."`);
  return topic as string;
}

function checkRange(op: OperationName, name: string, v: unknown, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${op}: ${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
}

function toBytes(v: Uint8Array | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** A response body; numbers a double cannot hold keep their text (src/shadow/json-text.ts). */
function parseJson<T>(op: OperationName, body: Buffer): T {
  try {
    return parseJsonText(body.toString('utf8')) as T;
  } catch (err) {
    throw new InvalidArgumentError(`${op}: the service returned a body that is not JSON`, { cause: err });
  }
}

function isNotFound(err: unknown): boolean {
  return isShadowError(err) && err.code === 'SHADOW_ERR_NOT_FOUND';
}

let updateSerialized: (
  client: IotDataClient,
  input: ShadowRef & { payload: string },
  o: CallOptions | undefined,
) => Promise<Buffer>;

/**
 * UpdateThingShadow with a payload the caller serialized itself with documentJson (the engine's
 * handlers): the text is sent as is, without the JSON check updateThingShadowRaw makes on text
 * it did not write. Not part of the public API; bad text is refused by the service (400).
 */
export function updateSerializedShadow(
  client: IotDataClient,
  input: ShadowRef & { payload: string },
  o?: CallOptions,
): Promise<Uint8Array> {
  return updateSerialized(client, input, o);
}

/** The error context, built only when something fails. */
function targetOf(operation: OperationName, ref: ShadowRef | undefined): ErrorTarget {
  return { operation, thingName: ref?.thingName, shadowName: ref?.shadowName };
}

/** Canonical (sorted, encoded) query string; also what goes on the wire. */
function canonicalQuery(params: Array<[string, string]>): string {
  if (params.length === 0) return '';
  params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let q = '';
  for (const [k, v] of params) q += `${q ? '&' : ''}${encodeLabel(k)}=${encodeLabel(v)}`;
  return q;
}

/**
 * The AWS IoT Data Plane over one undici pool, SigV4-signed, with typed errors and retries.
 * Everything that does not change per request (origin, host, base path, signer, option
 * checks) is decided at construction.
 */
export class IotDataClient {
  readonly endpoint: string;
  readonly region: string;
  readonly signingName: string;
  #pool: Pool;
  #signer: SigV4Signer;
  #credentials: CredentialSource;
  #basePath: string;
  #retry: RetryPolicyOptions;
  #sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  #before: RequestHooks['beforeAttempt'];
  #after: RequestHooks['afterAttempt'];
  #timeout: number;
  #closed = false;
  #signerReady: Promise<void> | undefined;

  constructor(options: IotDataClientOptions = {}) {
    const o = resolveOptions(options);
    this.endpoint = o.origin + o.basePath;
    this.region = o.region;
    this.signingName = o.signingName;
    this.#basePath = o.basePath;
    this.#retry = o.retry;
    this.#sleep = o.sleep;
    this.#timeout = o.requestTimeoutMs;
    this.#before = options.hooks?.beforeAttempt;
    this.#after = options.hooks?.afterAttempt;
    this.#signer = new SigV4Signer({ region: o.region, service: o.signingName, host: o.host });
    this.#credentials = new CredentialSource(o.credentials);
    this.#pool = new Pool(o.origin, {
      connections: o.connections,
      pipelining: o.pipelining,
      connectTimeout: o.connectTimeoutMs,
      headersTimeout: o.requestTimeoutMs,
      bodyTimeout: o.requestTimeoutMs,
      keepAliveTimeout: o.keepAliveTimeoutMs,
    });
  }

  async getThingShadow(ref: ShadowRef, o?: CallOptions): Promise<ShadowDocument> {
    return parseJson<ShadowDocument>('GetThingShadow', await this.#get(ref, o));
  }

  async getThingShadowRaw(ref: ShadowRef, o?: CallOptions): Promise<Uint8Array> {
    return this.#get(ref, o);
  }

  /**
   * As getThingShadow, but a shadow that does not exist (404 ResourceNotFoundException) gives
   * `undefined` instead of a NotFoundError. For callers to whom "no shadow" is an ordinary
   * answer (copying into an empty account, things without a named shadow): that answer builds
   * no stack trace. Every other failure throws as getThingShadow does.
   */
  async getThingShadowIfExists(ref: ShadowRef, o?: CallOptions): Promise<ShadowDocument | undefined> {
    let raw: Buffer;
    try {
      raw = await this.#get(ref, o, true);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    return parseJson<ShadowDocument>('GetThingShadow', raw);
  }

  #get(ref: ShadowRef, o: CallOptions | undefined, expectNotFound = false): Promise<Buffer> {
    checkRef('GetThingShadow', ref);
    return this.#send(
      'GetThingShadow',
      ref,
      'GET',
      this.#shadowPath(ref.thingName),
      ref.shadowName === undefined ? '' : `name=${encodeLabel(ref.shadowName)}`,
      undefined,
      EMPTY_PAYLOAD_HASH,
      undefined,
      o?.signal,
      expectNotFound,
    );
  }

  async updateThingShadow(input: ShadowRef & { payload: UpdateDocument }, o?: CallOptions): Promise<ShadowDocument> {
    checkRef('UpdateThingShadow', input);
    const p = input.payload;
    if (p === null || typeof p !== 'object' || Array.isArray(p)) {
      throw new InvalidArgumentError(
        'UpdateThingShadow: payload must be a shadow update document object like { state: { desired: {...} } }',
      );
    }
    let text: string;
    try {
      text = documentJson(p, 'UpdateThingShadow: payload');
    } catch (err) {
      if (isShadowError(err)) throw err;
      throw new InvalidArgumentError(
        `UpdateThingShadow: payload cannot be serialized as JSON: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const body = Buffer.from(text, 'utf8');
    const raw = await this.#update(input, body, o?.signal);
    return parseJson<ShadowDocument>('UpdateThingShadow', raw);
  }

  async updateThingShadowRaw(
    input: ShadowRef & { payload: Uint8Array | string },
    o?: CallOptions,
  ): Promise<Uint8Array> {
    checkRef('UpdateThingShadow', input);
    const p = input.payload;
    if (typeof p !== 'string' && !(p instanceof Uint8Array)) {
      throw new InvalidArgumentError('UpdateThingShadow: raw payload must be a string or Uint8Array of JSON');
    }
    const body = toBytes(p);
    const text = body.toString('utf8');
    let parsed: unknown;
    try {
      // Validity and shape only: the exact parse is needed just for the numbers the scan flags.
      parsed = JSON.parse(text);
    } catch {
      throw new InvalidArgumentError('UpdateThingShadow: payload is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new InvalidArgumentError('UpdateThingShadow: payload must be a JSON object');
    }
    // Only a number the scan flags can be outside the range of a double (e.g. 1e400).
    if (mayLosePrecision(text)) assertStorableNumbers(parseJsonText(text), 'UpdateThingShadow: payload');
    return this.#update(input, body, o?.signal);
  }

  /** updateThingShadowRaw without the JSON check, for text documentJson wrote (updateSerializedShadow). */
  async #updateSerialized(input: ShadowRef & { payload: string }, o: CallOptions | undefined): Promise<Buffer> {
    checkRef('UpdateThingShadow', input);
    if (typeof input.payload !== 'string')
      throw new InvalidArgumentError('UpdateThingShadow: serialized payload must be a string of JSON');
    return this.#update(input, Buffer.from(input.payload, 'utf8'), o?.signal);
  }

  static {
    updateSerialized = (client, input, o) => client.#updateSerialized(input, o);
  }

  async deleteThingShadow(ref: ShadowRef, o?: CallOptions): Promise<{ version: number; timestamp: number }> {
    return this.#delete(ref, o, false);
  }

  /**
   * As deleteThingShadow, but a shadow that does not exist gives `undefined` instead of a
   * NotFoundError (built without a stack trace); every other failure throws.
   */
  async deleteThingShadowIfExists(
    ref: ShadowRef,
    o?: CallOptions,
  ): Promise<{ version: number; timestamp: number } | undefined> {
    try {
      return await this.#delete(ref, o, true);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #delete(
    ref: ShadowRef,
    o: CallOptions | undefined,
    expectNotFound: boolean,
  ): Promise<{ version: number; timestamp: number }> {
    checkRef('DeleteThingShadow', ref);
    const raw = await this.#send(
      'DeleteThingShadow',
      ref,
      'DELETE',
      this.#shadowPath(ref.thingName),
      ref.shadowName === undefined ? '' : `name=${encodeLabel(ref.shadowName)}`,
      undefined,
      EMPTY_PAYLOAD_HASH,
      undefined,
      o?.signal,
      expectNotFound,
    );
    const doc = parseJson<{ version: number; timestamp: number }>('DeleteThingShadow', raw);
    return { version: doc.version, timestamp: doc.timestamp };
  }

  async listNamedShadowsForThing(input: ListNamedShadowsInput, o?: CallOptions): Promise<ListNamedShadowsOutput> {
    const op = 'ListNamedShadowsForThing';
    if (input === null || typeof input !== 'object') throw new InvalidArgumentError(`${op}: expected { thingName }`);
    checkRef(op, { thingName: input.thingName });
    checkRange(op, 'pageSize', input.pageSize, 1, 100);
    if (input.nextToken !== undefined && typeof input.nextToken !== 'string')
      throw new InvalidArgumentError(`${op}: nextToken must be a string`);
    const params: Array<[string, string]> = [];
    if (input.nextToken !== undefined) params.push(['nextToken', input.nextToken]);
    if (input.pageSize !== undefined) params.push(['pageSize', String(input.pageSize)]);
    const raw = await this.#send(
      op,
      { thingName: input.thingName },
      'GET',
      `${this.#basePath}/api/things/shadow/ListNamedShadowsForThing/${encodeLabel(input.thingName)}`,
      canonicalQuery(params),
      undefined,
      EMPTY_PAYLOAD_HASH,
      undefined,
      o?.signal,
    );
    const doc = parseJson<{ results?: string[] | null; nextToken?: string | null; timestamp?: number }>(op, raw);
    const out: ListNamedShadowsOutput = { results: doc.results ?? [] };
    if (typeof doc.timestamp === 'number') out.timestamp = doc.timestamp;
    if (typeof doc.nextToken === 'string' && doc.nextToken !== '') out.nextToken = doc.nextToken;
    return out;
  }

  async *paginateNamedShadowsForThing(
    input: { thingName: string; pageSize?: number; maxItems?: number; startingToken?: string },
    o?: CallOptions,
  ): AsyncIterable<string> {
    const op = 'ListNamedShadowsForThing';
    checkRange(op, 'maxItems', input?.maxItems, 1, Number.MAX_SAFE_INTEGER);
    let remaining = input.maxItems ?? Number.POSITIVE_INFINITY;
    let token = input.startingToken;
    do {
      const req: ListNamedShadowsInput = { thingName: input.thingName };
      if (input.pageSize !== undefined) req.pageSize = input.pageSize;
      if (token !== undefined) req.nextToken = token;
      const page = await this.listNamedShadowsForThing(req, o);
      for (const name of page.results) {
        yield name;
        if (--remaining <= 0) return;
      }
      token = page.nextToken;
    } while (token !== undefined);
  }

  async publish(input: PublishInput, o?: CallOptions): Promise<void> {
    const op = 'Publish';
    if (input === null || typeof input !== 'object')
      throw new InvalidArgumentError(`${op}: expected { topic, payload? }`);
    const topic = checkTopic(op, input.topic);
    const params: Array<[string, string]> = [];
    if (input.qos !== undefined) {
      if (input.qos !== 0 && input.qos !== 1)
        throw new InvalidArgumentError(`${op}: qos must be 0 or 1, got ${String(input.qos)}`);
      params.push(['qos', String(input.qos)]);
    }
    if (input.retain !== undefined) {
      if (typeof input.retain !== 'boolean') throw new InvalidArgumentError(`${op}: retain must be a boolean`);
      if (input.retain && isReservedTopic(topic))
        throw new InvalidArgumentError(`${op}: cannot retain a message on the reserved topic ${JSON.stringify(topic)}`);
      params.push(['retain', String(input.retain)]);
    }
    if (input.contentType !== undefined) {
      if (typeof input.contentType !== 'string') throw new InvalidArgumentError(`${op}: contentType must be a string`);
      params.push(['contentType', input.contentType]);
    }
    if (input.responseTopic !== undefined)
      params.push(['responseTopic', checkTopic(op, input.responseTopic, 'responseTopic')]);
    if (input.messageExpiry !== undefined) {
      checkRange(op, 'messageExpiry', input.messageExpiry, 0, Number.MAX_SAFE_INTEGER);
      params.push(['messageExpiry', String(input.messageExpiry)]);
    }
    let extra: Array<[string, string]> | undefined;
    if (input.userProperties !== undefined) {
      const up = input.userProperties;
      if (
        !Array.isArray(up) ||
        !up.every((e) => e !== null && typeof e === 'object' && Object.values(e).every((v) => typeof v === 'string'))
      ) {
        throw new InvalidArgumentError(
          `${op}: userProperties must be an array of { name: "value" } objects with string values`,
        );
      }
      (extra ??= []).push(['x-amz-mqtt5-user-properties', Buffer.from(JSON.stringify(up), 'utf8').toString('base64')]);
    }
    if (input.payloadFormatIndicator !== undefined) {
      if (input.payloadFormatIndicator !== 'UNSPECIFIED_BYTES' && input.payloadFormatIndicator !== 'UTF8_DATA') {
        throw new InvalidArgumentError(`${op}: payloadFormatIndicator must be UNSPECIFIED_BYTES or UTF8_DATA`);
      }
      (extra ??= []).push(['x-amz-mqtt5-payload-format-indicator', input.payloadFormatIndicator]);
    }
    if (input.correlationData !== undefined) {
      if (typeof input.correlationData !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(input.correlationData)) {
        throw new InvalidArgumentError(`${op}: correlationData must be a base64 string`);
      }
      (extra ??= []).push(['x-amz-mqtt5-correlation-data', input.correlationData]);
    }
    let body: Buffer | undefined;
    if (input.payload !== undefined) {
      if (typeof input.payload !== 'string' && !(input.payload instanceof Uint8Array))
        throw new InvalidArgumentError(`${op}: payload must be a string or Uint8Array`);
      body = toBytes(input.payload);
      if (body.byteLength > MAX_PUBLISH_BYTES)
        throw new InvalidArgumentError(
          `${op}: payload is ${body.byteLength} bytes, more than the ${MAX_PUBLISH_BYTES} allowed`,
        );
    }
    await this.#send(
      op,
      undefined,
      'POST',
      `${this.#basePath}/topics/${encodeLabel(topic)}`,
      canonicalQuery(params),
      body ?? Buffer.alloc(0),
      payloadHash(body),
      extra,
      o?.signal,
    );
  }

  async getRetainedMessage(input: { topic: string }, o?: CallOptions): Promise<RetainedMessage> {
    const op = 'GetRetainedMessage';
    const topic = checkTopic(op, input?.topic);
    const raw = await this.#send(
      op,
      undefined,
      'GET',
      `${this.#basePath}/retainedMessage/${encodeLabel(topic)}`,
      '',
      undefined,
      EMPTY_PAYLOAD_HASH,
      undefined,
      o?.signal,
    );
    const doc = parseJson<{
      topic?: string;
      payload?: string | null;
      qos?: number;
      lastModifiedTime?: number;
      userProperties?: string | null;
    }>(op, raw);
    const out: RetainedMessage = {
      topic: doc.topic ?? topic,
      payload: doc.payload ? new Uint8Array(Buffer.from(doc.payload, 'base64')) : new Uint8Array(0),
      qos: doc.qos ?? 0,
      lastModifiedTime: doc.lastModifiedTime ?? 0,
    };
    if (typeof doc.userProperties === 'string' && doc.userProperties !== '') {
      try {
        out.userProperties = JSON.parse(Buffer.from(doc.userProperties, 'base64').toString('utf8')) as Array<
          Record<string, string>
        >;
      } catch {
        // leave absent: not a base64 JSON array
      }
    }
    return out;
  }

  async listRetainedMessages(
    input: ListRetainedMessagesInput = {},
    o?: CallOptions,
  ): Promise<ListRetainedMessagesOutput> {
    const op = 'ListRetainedMessages';
    checkRange(op, 'maxResults', input.maxResults, 1, 200);
    if (input.nextToken !== undefined && typeof input.nextToken !== 'string')
      throw new InvalidArgumentError(`${op}: nextToken must be a string`);
    const params: Array<[string, string]> = [];
    if (input.maxResults !== undefined) params.push(['maxResults', String(input.maxResults)]);
    if (input.nextToken !== undefined) params.push(['nextToken', input.nextToken]);
    const raw = await this.#send(
      op,
      undefined,
      'GET',
      `${this.#basePath}/retainedMessage`,
      canonicalQuery(params),
      undefined,
      EMPTY_PAYLOAD_HASH,
      undefined,
      o?.signal,
    );
    const doc = parseJson<{ retainedTopics?: RetainedMessageSummary[] | null; nextToken?: string | null }>(op, raw);
    const out: ListRetainedMessagesOutput = { retainedTopics: doc.retainedTopics ?? [] };
    if (typeof doc.nextToken === 'string' && doc.nextToken !== '') out.nextToken = doc.nextToken;
    return out;
  }

  async *paginateRetainedMessages(
    input: { maxResults?: number; maxItems?: number; startingToken?: string } = {},
    o?: CallOptions,
  ): AsyncIterable<RetainedMessageSummary> {
    checkRange('ListRetainedMessages', 'maxItems', input.maxItems, 1, Number.MAX_SAFE_INTEGER);
    let remaining = input.maxItems ?? Number.POSITIVE_INFINITY;
    let token = input.startingToken;
    do {
      const req: ListRetainedMessagesInput = {};
      if (input.maxResults !== undefined) req.maxResults = input.maxResults;
      if (token !== undefined) req.nextToken = token;
      const page = await this.listRetainedMessages(req, o);
      for (const item of page.retainedTopics) {
        yield item;
        if (--remaining <= 0) return;
      }
      token = page.nextToken;
    } while (token !== undefined);
  }

  /** Closes the pool after in-flight requests finish. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.close();
  }

  #shadowPath(thingName: string): string {
    return `${this.#basePath}/things/${encodeLabel(thingName)}/shadow`;
  }

  #update(ref: ShadowRef, body: Buffer, signal: AbortSignal | undefined): Promise<Buffer> {
    return this.#send(
      'UpdateThingShadow',
      ref,
      'POST',
      this.#shadowPath(ref.thingName),
      ref.shadowName === undefined ? '' : `name=${encodeLabel(ref.shadowName)}`,
      body,
      payloadHash(body),
      undefined,
      signal,
    );
  }

  /**
   * One logical call: gates, signs, sends, maps errors and retries per `retryDelay`.
   * `expectNotFound`: a 404 is an answer the caller handles, its error is built without a stack.
   */
  async #send(
    op: OperationName,
    ref: ShadowRef | undefined,
    method: string,
    path: string,
    query: string,
    body: Buffer | undefined,
    bodyHash: string,
    extra: Array<[string, string]> | undefined,
    signal: AbortSignal | undefined,
    expectNotFound = false,
  ): Promise<Buffer> {
    if (this.#closed) throw new ConfigError(`${op}: the IotDataClient is closed`);
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw errorFromTransport(targetOf(op, ref), signal.reason, signal);
      if (this.#before !== undefined) {
        const gate = this.#before(op, ref);
        if (gate !== undefined) await gate;
        if (signal?.aborted) {
          // The gate granted this attempt (a permit, a per-thing slot): hand it back, or it leaks.
          const error = errorFromTransport(targetOf(op, ref), signal.reason, signal);
          const outcome: AttemptOutcome = { durationMs: 0 };
          if (isShadowError(error)) outcome.error = error;
          this.#after?.(op, ref, outcome);
          throw error;
        }
      }
      if (startChannel.hasSubscribers) {
        startChannel.publish({
          operation: op,
          thingName: ref?.thingName,
          shadowName: ref?.shadowName,
          attempt,
        } satisfies RequestStartMessage);
      }
      const started = this.#after !== undefined ? performance.now() : 0;
      let error: unknown;
      let statusCode: number | undefined;
      try {
        const res = await this.#dispatch(method, path, query, body, bodyHash, extra, signal);
        statusCode = res.statusCode;
        if (statusCode >= 200 && statusCode < 300) {
          this.#after?.(op, ref, { statusCode, durationMs: performance.now() - started });
          return res.body;
        }
        error = errorFromResponse(
          targetOf(op, ref),
          statusCode,
          res.rawHeaders,
          res.body,
          expectNotFound && statusCode === 404,
        );
      } catch (err) {
        error = errorFromTransport(targetOf(op, ref), err, signal);
      }
      if (this.#after !== undefined) {
        const outcome: AttemptOutcome = { durationMs: performance.now() - started };
        if (statusCode !== undefined) outcome.statusCode = statusCode;
        if (isShadowError(error)) outcome.error = error;
        this.#after(op, ref, outcome);
      }
      const delay = retryDelay(attempt, error, this.#retry);
      if (delay === undefined || signal?.aborted) throw error;
      if (retryChannel.hasSubscribers) {
        retryChannel.publish({
          operation: op,
          thingName: ref?.thingName,
          shadowName: ref?.shadowName,
          attempt,
          delayMs: delay,
          error,
        } satisfies RequestRetryMessage);
      }
      await this.#sleep(delay, signal);
    }
  }

  async #dispatch(
    method: string,
    path: string,
    query: string,
    body: Buffer | undefined,
    bodyHash: string,
    extra: Array<[string, string]> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RawResponse> {
    const now = Date.now();
    const creds = this.#credentials.current(now) ?? (await this.#credentials.refresh());
    if (!this.#signer.isReady(creds, now)) {
      // One key derivation shared by all requests that arrive while it runs.
      this.#signerReady ??= this.#signer.prepare(creds, now).finally(() => {
        this.#signerReady = undefined;
      });
      await this.#signerReady;
      if (!this.#signer.isReady(creds, Date.now())) await this.#signer.prepare(creds, Date.now());
    }
    const authorization = this.#signer.sign(method, path, query, bodyHash, extra);
    const headers: string[] = [
      'host',
      this.#signer.host,
      'x-amz-date',
      this.#signer.longDate,
      'x-amz-content-sha256',
      bodyHash,
      'authorization',
      authorization,
    ];
    const token = this.#signer.sessionToken;
    if (token) headers.push('x-amz-security-token', token);
    if (body !== undefined) headers.push('content-type', OCTET_STREAM);
    if (extra !== undefined) for (const [k, v] of extra) headers.push(k, v);
    return new Promise<RawResponse>((resolve, reject) => {
      const handler = new ResponseCollector(resolve, reject, signal);
      const opts: Dispatcher.DispatchOptions = {
        method: method as Dispatcher.HttpMethod,
        path: query ? `${path}?${query}` : path,
        headers,
        body: body ?? null,
        headersTimeout: this.#timeout,
        bodyTimeout: this.#timeout,
      };
      this.#pool.dispatch(opts, handler);
    });
  }
}
