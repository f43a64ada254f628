import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ConfigError,
  InvalidArgumentError,
  NetworkError,
  TimeoutError,
  serviceErrorFor,
} from '../../src/errors.js';
import { parseRetryAfter, retryDelay } from '../../src/client/retry-delay.js';

const opts = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 };
const svc = (statusCode: number, awsErrorType: string, retryAfterMs?: number) =>
  serviceErrorFor({
    operation: 'GetThingShadow',
    statusCode,
    awsErrorType,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });

describe('retryDelay', () => {
  it.each([
    [429, 'ThrottlingException'],
    [500, 'InternalFailureException'],
    [502, 'BadGateway'],
    [503, 'ServiceUnavailableException'],
    [504, 'GatewayTimeout'],
  ])('retries a %i %s with full-jitter exponential backoff', (status, type) => {
    expect(retryDelay(1, svc(status, type), opts)).toBe(50);
    expect(retryDelay(2, svc(status, type), opts)).toBe(100);
    expect(retryDelay(3, svc(status, type), opts)).toBe(200);
  });

  it.each([
    [400, 'InvalidRequestException'],
    [401, 'UnauthorizedException'],
    [403, 'ForbiddenException'],
    [404, 'ResourceNotFoundException'],
    [409, 'ConflictException'],
    [413, 'RequestEntityTooLargeException'],
    [415, 'UnsupportedDocumentEncodingException'],
  ])('never retries a %i %s', (status, type) => {
    expect(retryDelay(1, svc(status, type), opts)).toBeUndefined();
  });

  it('caps the backoff at maxDelayMs', () => {
    expect(
      retryDelay(4, svc(503, 'ServiceUnavailableException'), { ...opts, maxAttempts: 20, random: () => 0.999999 }),
    ).toBe(799);
    expect(
      retryDelay(10, svc(503, 'ServiceUnavailableException'), { ...opts, maxAttempts: 20, random: () => 0.999999 }),
    ).toBe(999);
  });

  it('draws the jitter over the whole window, from zero to the ceiling', () => {
    expect(retryDelay(3, svc(500, 'InternalFailureException'), { ...opts, random: () => 0 })).toBe(0);
    expect(retryDelay(3, svc(500, 'InternalFailureException'), { ...opts, random: () => 0.99 })).toBe(396);
  });

  it('stops once maxAttempts attempts have been made', () => {
    expect(retryDelay(4, svc(429, 'ThrottlingException'), opts)).toBe(400);
    expect(retryDelay(5, svc(429, 'ThrottlingException'), opts)).toBeUndefined();
    expect(retryDelay(1, svc(429, 'ThrottlingException'), { ...opts, maxAttempts: 1 })).toBeUndefined();
  });

  it('obeys a server retry hint without jitter, capped at maxDelayMs', () => {
    expect(retryDelay(1, svc(429, 'ThrottlingException', 700), opts)).toBe(700);
    expect(retryDelay(1, svc(503, 'ServiceUnavailableException', 60_000), opts)).toBe(1000);
    expect(retryDelay(1, svc(409, 'ConflictException', 10), opts)).toBeUndefined();
  });

  it('retries network resets and timeouts', () => {
    expect(retryDelay(1, new NetworkError('GetThingShadow', 'ECONNRESET'), opts)).toBe(50);
    expect(retryDelay(1, new TimeoutError('GetThingShadow', 'UND_ERR_HEADERS_TIMEOUT'), opts)).toBe(50);
  });

  it('never retries unknown errors, aborts or bad input', () => {
    expect(retryDelay(1, new Error('boom'), opts)).toBeUndefined();
    expect(retryDelay(1, 'string', opts)).toBeUndefined();
    expect(retryDelay(1, new AbortError(), opts)).toBeUndefined();
    expect(retryDelay(1, new InvalidArgumentError('x'), opts)).toBeUndefined();
    expect(retryDelay(1, new ConfigError('x'), opts)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 0);
  it('reads delta-seconds and HTTP dates from Retry-After', () => {
    expect(parseRetryAfter('2', undefined, now)).toBe(2000);
    expect(parseRetryAfter('0.5', undefined, now)).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', undefined, now)).toBe(3000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', undefined, now)).toBe(0);
  });

  it('prefers x-amz-retry-after in milliseconds', () => {
    expect(parseRetryAfter('9', '250', now)).toBe(250);
  });

  it('returns undefined for malformed hints so the caller falls back to its backoff', () => {
    expect(parseRetryAfter('soon', undefined, now)).toBeUndefined();
    expect(parseRetryAfter('-1', undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', undefined, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, 'x', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, undefined, now)).toBeUndefined();
  });
});
