/**
 * One way to open Redis for the distributed parts (shared rate gates, the batch queue): an
 * ioredis client that fails fast with an error naming the URL when Redis does not answer,
 * instead of ioredis' default of retrying for ever while commands queue up in memory.
 *
 * Every command the client sends is counted (`RedisCallCounter`), pipelines included, so a
 * benchmark can print Redis calls per 1,000 things.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, InvalidArgumentError } from '../../errors.js';

export interface RedisConnectionOptions {
  /** Give up connecting after this long. Default 3000 ms. */
  connectTimeoutMs?: number;
  /** After the first connection, reconnect attempts before commands fail. Default 20 (about 10 s). */
  reconnectAttempts?: number;
  /** BullMQ workers need `null` (blocking commands wait for ever); default 2. */
  maxRetriesPerRequest?: number | null;
  /** Counts the commands sent (shared by several clients when given). */
  counter?: RedisCallCounter;
  /** Connection name shown by CLIENT LIST. */
  name?: string;
}

export const DEFAULT_REDIS_CONNECTION_OPTIONS = Object.freeze({
  connectTimeoutMs: 3000,
  reconnectAttempts: 20,
  maxRetriesPerRequest: 2,
});

/** Counts Redis commands sent by the clients it is attached to. */
export class RedisCallCounter {
  calls = 0;
  /** Wraps `client.sendCommand` (pipelines and scripts go through it too). */
  attach(client: Redis): void {
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
      this.calls += 1;
      return send(...args);
    }) as Redis['sendCommand'];
  }
}

/** The URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Checks a Redis URL once; the message names the option it came from. */
export function validateRedisUrl(url: unknown, option = '--redis'): string {
  if (typeof url !== 'string' || url === '')
    throw new InvalidArgumentError(`${option} must be a redis:// URL, got ${JSON.stringify(url)}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgumentError(`${option} must be a redis:// URL, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new InvalidArgumentError(
      `${option} must be a redis:// or rediss:// URL, got ${JSON.stringify(redactRedisUrl(url))}`,
    );
  return url;
}

/** The ioredis options for `url` (also handed to BullMQ, which opens its own connections). */
export function redisOptions(_url: string, options: RedisConnectionOptions = {}): RedisOptions {
  const d = DEFAULT_REDIS_CONNECTION_OPTIONS;
  const attempts = options.reconnectAttempts ?? d.reconnectAttempts;
  const o: RedisOptions = {
    connectTimeout: options.connectTimeoutMs ?? d.connectTimeoutMs,
    maxRetriesPerRequest:
      options.maxRetriesPerRequest === undefined ? d.maxRetriesPerRequest : options.maxRetriesPerRequest,
    // Bounded: after `attempts` failed reconnects the client ends and pending commands fail.
    retryStrategy: (times: number) => (times > attempts ? null : Math.min(100 * times, 500)),
    lazyConnect: true,
  };
  if (options.name !== undefined) o.connectionName = options.name;
  return o;
}

/**
 * Opens a client on `url` and waits until it answers PING; rejects with a ConfigError naming
 * the URL when it cannot (refused, timed out, wrong password).
 */
export async function connectRedis(url: string, options: RedisConnectionOptions = {}): Promise<Redis> {
  validateRedisUrl(url);
  const client = new Redis(url, { ...redisOptions(url, options), retryStrategy: () => null });
  // Errors are reported through connect()/commands; an unhandled 'error' event would crash.
  // The socket's own error (ECONNREFUSED, ETIMEDOUT) says more than "Connection is closed".
  let socketError: Error | undefined;
  const onError = (err: Error): void => {
    socketError ??= err;
  };
  client.on('error', onError);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    const cause = socketError ?? (err as Error);
    throw new ConfigError(`Redis at ${redactRedisUrl(url)} is unreachable: ${cause?.message ?? String(cause)}`, {
      cause,
    });
  }
  client.off('error', onError);
  client.on('error', () => undefined);
  // Connected: from now on reconnect for a while when the link drops.
  const attempts = options.reconnectAttempts ?? DEFAULT_REDIS_CONNECTION_OPTIONS.reconnectAttempts;
  client.options.retryStrategy = (times: number) => (times > attempts ? null : Math.min(100 * times, 500));
  options.counter?.attach(client);
  return client;
}

/**
 * The URL as ioredis connection options (for BullMQ, which opens and duplicates its own
 * connections): host, port, user, password, db and TLS, with the bounded retry above.
 */
export function redisConnectionFromUrl(url: string, options: RedisConnectionOptions = {}): RedisOptions {
  validateRedisUrl(url);
  const u = new URL(url);
  const o: RedisOptions = {
    ...redisOptions(url, options),
    lazyConnect: false,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? 6379 : Number(u.port),
  };
  if (u.username !== '') o.username = decodeURIComponent(u.username);
  if (u.password !== '') o.password = decodeURIComponent(u.password);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '') o.db = Number(db);
  if (u.protocol === 'rediss:') o.tls = {};
  return o;
}
