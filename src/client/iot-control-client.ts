import { Pool } from 'undici';
import { ConfigError, InvalidArgumentError, NotFoundError, ServiceError } from '../errors.js';
import {
  CredentialSource,
  defaultCredentialsProvider,
  isLoopbackHost,
  type ClientCredentials,
  type CredentialsProvider,
} from './credential-source.js';
import type { ClientRetryOptions } from './iot-data-client.js';
import { parseDataEndpoint } from './resolve-data-endpoint.js';
import { errorFromResponse, errorFromTransport } from './response-error.js';
import { retryDelay, type RetryPolicyOptions } from './retry-delay.js';
import { EMPTY_PAYLOAD_HASH, SigV4Signer, encodeLabel, payloadHash, type SigningCredentials } from './sigv4-signer.js';

export interface IotControlClientOptions {
  /** Control-plane endpoint; default `https://iot.<region>.amazonaws.com`. The emulator serves both planes on one URL. */
  endpoint?: string;
  /** Else AWS_REGION, else AWS_DEFAULT_REGION, else `us-east-1`. */
  region?: string;
  /** Explicit keys or a provider; default: the AWS credential chain (local keys for a loopback endpoint). */
  credentials?: ClientCredentials | (() => Promise<ClientCredentials>);
  /** Sockets of the pool. Default 4 (listing is sequential; AWS allows ~10-25 TPS here). */
  connections?: number;
  /** Time to the response headers, and between body chunks. Default 30 s. */
  requestTimeoutMs?: number;
  /** Retries of throttling (a 400 ThrottlingException here), 5xx and network errors. */
  retry?: ClientRetryOptions;
}

export const DEFAULT_IOT_CONTROL_CLIENT_OPTIONS = Object.freeze({
  region: 'us-east-1',
  connections: 4,
  requestTimeoutMs: 30_000,
  retry: Object.freeze({ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 20_000 }),
});

export interface ControlCallOptions {
  signal?: AbortSignal;
}

export interface ListThingsInput {
  attributeName?: string;
  attributeValue?: string;
  usePrefixAttributeValue?: boolean;
  thingTypeName?: string;
  /** 1..250. */
  maxResults?: number;
  nextToken?: string;
}

export interface ThingAttribute {
  thingName: string;
  thingTypeName?: string;
  thingArn?: string;
  attributes: Record<string, string>;
  version?: number;
}

export interface ListThingsInThingGroupInput {
  thingGroupName: string;
  recursive?: boolean;
  /** 1..250. */
  maxResults?: number;
  nextToken?: string;
}

export interface SearchIndexInput {
  queryString: string;
  /** Default `AWS_Things`. */
  indexName?: string;
  /** 1..100. */
  maxResults?: number;
  nextToken?: string;
}

export interface ThingDocument {
  thingName: string;
  thingId?: string;
  thingTypeName?: string;
  thingGroupNames?: string[];
  attributes?: Record<string, string>;
  /** The indexed shadows as JSON text (AWS sends a string). */
  shadow?: string;
  connectivity?: { connected?: boolean; timestamp?: number; disconnectReason?: string };
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

type Operation = 'ListThings' | 'ListThingsInThingGroup' | 'SearchIndex';

const defaultSleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

function checkInt(op: string, name: string, v: unknown, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${op}: ${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
}

function checkName(op: string, name: string, v: unknown): string {
  if (typeof v !== 'string' || !/^[a-zA-Z0-9:_-]{1,128}$/.test(v)) {
    throw new InvalidArgumentError(
      `${op}: ${name} must be 1-128 characters of [a-zA-Z0-9:_-], got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** Canonical (sorted, encoded) query string; also what goes on the wire. */
function canonicalQuery(params: Array<[string, string]>): string {
  params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return params.map(([k, v]) => `${encodeLabel(k)}=${encodeLabel(v)}`).join('&');
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push(k, one);
  }
  return out;
}

/** True for SearchIndex's answer when the account has thing indexing off (reference §6.3). */
function indexingOff(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError && /index\s.*does not exist/i.test(err.awsMessage ?? err.message);
}

/**
 * The AWS IoT control-plane calls that select targets (ListThings, ListThingsInThingGroup,
 * SearchIndex) over undici, SigV4-signed with the signing name `iot`, with the data-plane
 * client's error classes and retry policy. Paginators yield thing names one page at a time:
 * a fleet is never held whole.
 */
export class IotControlClient {
  readonly endpoint: string;
  readonly region: string;
  readonly #pool: Pool;
  readonly #signer: SigV4Signer;
  readonly #credentials: CredentialSource;
  readonly #basePath: string;
  readonly #retry: RetryPolicyOptions;
  readonly #sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  readonly #timeout: number;
  #closed = false;

  constructor(options: IotControlClientOptions = {}) {
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('IotControlClientOptions must be an object');
    const D = DEFAULT_IOT_CONTROL_CLIENT_OPTIONS;
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? D.region;
    if (!/^[a-z0-9-]+$/.test(region))
      throw new InvalidArgumentError(
        `IotControlClientOptions.region must be a bare region like us-east-1, got ${JSON.stringify(region)}`,
      );
    const url = parseDataEndpoint(
      options.endpoint ?? `https://iot.${region}.amazonaws.com`,
      'IotControlClientOptions.endpoint',
    );
    const r = options.retry ?? {};
    checkInt('IotControlClientOptions', 'retry.maxAttempts', r.maxAttempts, 1, 100);
    checkInt('IotControlClientOptions', 'connections', options.connections, 1, 1024);
    checkInt('IotControlClientOptions', 'requestTimeoutMs', options.requestTimeoutMs, 1, 3_600_000);
    this.#retry = {
      maxAttempts: r.maxAttempts ?? D.retry.maxAttempts,
      baseDelayMs: r.baseDelayMs ?? D.retry.baseDelayMs,
      maxDelayMs: r.maxDelayMs ?? D.retry.maxDelayMs,
    };
    if (r.random !== undefined) this.#retry.random = r.random;
    this.#sleep = r.sleep ?? defaultSleep;
    const c = options.credentials;
    let credentials: CredentialsProvider | SigningCredentials;
    if (c === undefined) credentials = defaultCredentialsProvider(isLoopbackHost(url.hostname));
    else if (typeof c === 'function') credentials = c;
    else if (
      typeof c === 'object' &&
      c !== null &&
      typeof c.accessKeyId === 'string' &&
      c.accessKeyId &&
      typeof c.secretAccessKey === 'string' &&
      c.secretAccessKey
    )
      credentials = c;
    else
      throw new InvalidArgumentError(
        'IotControlClientOptions.credentials must be { accessKeyId, secretAccessKey, sessionToken? } or a provider function',
      );
    this.endpoint = url.href;
    this.region = region;
    this.#basePath = url.basePath;
    this.#timeout = options.requestTimeoutMs ?? D.requestTimeoutMs;
    this.#signer = new SigV4Signer({ region, service: 'iot', host: url.host });
    this.#credentials = new CredentialSource(credentials);
    this.#pool = new Pool(url.origin, {
      connections: options.connections ?? D.connections,
      headersTimeout: this.#timeout,
      bodyTimeout: this.#timeout,
    });
  }

  /** One page of ListThings (`GET /things`). */
  async listThings(input: ListThingsInput = {}, o?: ControlCallOptions): Promise<Page<ThingAttribute>> {
    const op = 'ListThings';
    checkInt(op, 'maxResults', input.maxResults, 1, 250);
    const params: Array<[string, string]> = [];
    if (input.attributeName !== undefined) params.push(['attributeName', input.attributeName]);
    if (input.attributeValue !== undefined) params.push(['attributeValue', input.attributeValue]);
    if (input.usePrefixAttributeValue !== undefined)
      params.push(['usePrefixAttributeValue', String(input.usePrefixAttributeValue)]);
    if (input.thingTypeName !== undefined)
      params.push(['thingTypeName', checkName(op, 'thingTypeName', input.thingTypeName)]);
    if (input.maxResults !== undefined) params.push(['maxResults', String(input.maxResults)]);
    if (input.nextToken) params.push(['nextToken', input.nextToken]);
    const doc = (await this.#send(op, 'GET', '/things', canonicalQuery(params), undefined, o?.signal)) as {
      things?: ThingAttribute[] | null;
      nextToken?: string | null;
    };
    return page(doc.things ?? [], doc.nextToken);
  }

  /** One page of ListThingsInThingGroup (`GET /thing-groups/{name}/things`). */
  async listThingsInThingGroup(input: ListThingsInThingGroupInput, o?: ControlCallOptions): Promise<Page<string>> {
    const op = 'ListThingsInThingGroup';
    const group = checkName(op, 'thingGroupName', input?.thingGroupName);
    checkInt(op, 'maxResults', input.maxResults, 1, 250);
    const params: Array<[string, string]> = [];
    if (input.recursive !== undefined) params.push(['recursive', String(input.recursive)]);
    if (input.maxResults !== undefined) params.push(['maxResults', String(input.maxResults)]);
    if (input.nextToken) params.push(['nextToken', input.nextToken]);
    const doc = (await this.#send(
      op,
      'GET',
      `/thing-groups/${encodeLabel(group)}/things`,
      canonicalQuery(params),
      undefined,
      o?.signal,
    )) as { things?: string[] | null; nextToken?: string | null };
    return page(doc.things ?? [], doc.nextToken);
  }

  /**
   * One page of SearchIndex (`POST /indices/search`). When the account has thing indexing off,
   * AWS answers 404 "Index AWS_Things does not exist"; that becomes a ConfigError saying so.
   */
  async searchIndex(input: SearchIndexInput, o?: ControlCallOptions): Promise<Page<ThingDocument>> {
    const op = 'SearchIndex';
    if (typeof input?.queryString !== 'string' || input.queryString === '')
      throw new InvalidArgumentError(`${op}: queryString must be a non-empty string`);
    checkInt(op, 'maxResults', input.maxResults, 1, 100);
    const indexName = checkName(op, 'indexName', input.indexName ?? 'AWS_Things');
    const body: Record<string, unknown> = { indexName, queryString: input.queryString };
    if (input.maxResults !== undefined) body.maxResults = input.maxResults;
    if (input.nextToken) body.nextToken = input.nextToken;
    let doc: { things?: ThingDocument[] | null; nextToken?: string | null };
    try {
      doc = (await this.#send(
        op,
        'POST',
        '/indices/search',
        '',
        Buffer.from(JSON.stringify(body), 'utf8'),
        o?.signal,
      )) as typeof doc;
    } catch (err) {
      if (indexingOff(err)) {
        throw new ConfigError(
          `fleet indexing is not switched on for this account: ${err.awsMessage ?? err.message}; switch it on with UpdateIndexingConfiguration ` +
            `(aws iot update-indexing-configuration --thing-indexing-configuration thingIndexingMode=REGISTRY_AND_SHADOW), then wait until the index ${indexName} is ACTIVE`,
          { cause: err },
        );
      }
      if (err instanceof ServiceError && err.awsErrorType === 'IndexNotReadyException') {
        throw new ConfigError(
          `the fleet index ${indexName} is still being built; try again once DescribeIndex says ACTIVE (${err.awsMessage ?? err.message})`,
          { cause: err },
        );
      }
      throw err;
    }
    return page(doc.things ?? [], doc.nextToken);
  }

  /** Thing names of ListThings, page by page. */
  thingNames(input: Omit<ListThingsInput, 'nextToken'> = {}, o?: ControlCallOptions): AsyncIterable<string> {
    return names(
      (nextToken) => this.listThings({ ...input, ...(nextToken ? { nextToken } : {}) }, o),
      (t) => t.thingName,
    );
  }

  /** Thing names in a group (with `recursive`, in its descendants too), page by page. */
  thingNamesInGroup(
    input: Omit<ListThingsInThingGroupInput, 'nextToken'>,
    o?: ControlCallOptions,
  ): AsyncIterable<string> {
    return names(
      (nextToken) => this.listThingsInThingGroup({ ...input, ...(nextToken ? { nextToken } : {}) }, o),
      (t) => t,
    );
  }

  /** Thing names matching a fleet indexing query, page by page (SearchIndex has no SDK paginator). */
  searchThingNames(input: Omit<SearchIndexInput, 'nextToken'>, o?: ControlCallOptions): AsyncIterable<string> {
    return names(
      (nextToken) => this.searchIndex({ ...input, ...(nextToken ? { nextToken } : {}) }, o),
      (t) => t.thingName,
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.close();
  }

  /** One logical call: signs, sends, maps errors and retries per `retryDelay`. */
  async #send(
    op: Operation,
    method: 'GET' | 'POST',
    path: string,
    query: string,
    body: Buffer | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    if (this.#closed) throw new ConfigError(`${op}: the IotControlClient is closed`);
    const fullPath = this.#basePath + path;
    const bodyHash = body === undefined ? EMPTY_PAYLOAD_HASH : payloadHash(body);
    for (let attempt = 1; ; attempt++) {
      let error: unknown;
      try {
        const headers = await this.#sign(method, fullPath, query, bodyHash);
        if (body !== undefined) headers['content-type'] = 'application/json';
        const res = await this.#pool.request({
          method,
          path: query ? `${fullPath}?${query}` : fullPath,
          headers,
          body: body ?? null,
          signal: signal ?? null,
        });
        const raw = Buffer.from(await res.body.arrayBuffer());
        if (res.statusCode >= 200 && res.statusCode < 300) {
          try {
            return JSON.parse(raw.toString('utf8')) as unknown;
          } catch (err) {
            throw new InvalidArgumentError(`${op}: the service returned a body that is not JSON`, { cause: err });
          }
        }
        error = errorFromResponse({ operation: op }, res.statusCode, flatHeaders(res.headers), raw);
      } catch (err) {
        if (err instanceof InvalidArgumentError) throw err;
        error = errorFromTransport({ operation: op }, err, signal);
      }
      const delay = retryDelay(attempt, error, this.#retry);
      if (delay === undefined || signal?.aborted) throw error;
      await this.#sleep(delay, signal);
    }
  }

  async #sign(method: string, path: string, query: string, bodyHash: string): Promise<Record<string, string>> {
    const now = Date.now();
    const creds = this.#credentials.current(now) ?? (await this.#credentials.refresh());
    if (!this.#signer.isReady(creds, now)) await this.#signer.prepare(creds, now);
    const headers: Record<string, string> = {
      host: this.#signer.host,
      'x-amz-date': this.#signer.longDate,
      'x-amz-content-sha256': bodyHash,
      authorization: this.#signer.sign(method, path, query, bodyHash),
    };
    const token = this.#signer.sessionToken;
    if (token) headers['x-amz-security-token'] = token;
    return headers;
  }
}

function page<T>(items: T[], nextToken: string | null | undefined): Page<T> {
  return typeof nextToken === 'string' && nextToken !== '' ? { items, nextToken } : { items };
}

/** Follows nextToken and yields each item's name; only the current page is held. */
async function* names<T>(
  fetchPage: (nextToken: string | undefined) => Promise<Page<T>>,
  nameOf: (item: T) => string,
): AsyncIterable<string> {
  let token: string | undefined;
  do {
    const p = await fetchPage(token);
    for (const item of p.items) yield nameOf(item);
    if (p.nextToken !== undefined && p.nextToken === token)
      throw new ConfigError('the service returned the same nextToken twice; stopping rather than looping');
    token = p.nextToken;
  } while (token !== undefined);
}
