import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  ServiceError,
  ThrottlingError,
  UnauthorizedError,
  NetworkError,
  TimeoutError,
  AbortError,
} from '../../src/errors.js';
import { errorFromResponse, errorFromTransport, sanitizeErrorType } from '../../src/client/response-error.js';

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const target = { operation: 'UpdateThingShadow', thingName: 'pump-17', shadowName: 'config' };

describe('errorFromResponse', () => {
  it('sanitizes error types like the AWS SDK', () => {
    expect(sanitizeErrorType('aws.protocoltests#ConflictException:http://internal')).toBe('ConflictException');
    expect(sanitizeErrorType('ThrottlingException,Other')).toBe('ThrottlingException');
    expect(sanitizeErrorType('ResourceNotFoundException')).toBe('ResourceNotFoundException');
  });

  it('reads the type from x-amzn-ErrorType before the body', () => {
    const err = errorFromResponse(
      target,
      409,
      ['X-Amzn-ErrorType', 'ConflictException:http://x', 'x-amzn-RequestId', 'req-1'],
      enc({ code: 'Other', message: 'Version conflict' }),
    );
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.awsErrorType).toBe('ConflictException');
    expect(err.requestId).toBe('req-1');
    expect(err.message).toBe(
      'UpdateThingShadow failed with 409 ConflictException: thing "pump-17" shadow "config" (Version conflict)',
    );
  });

  it('falls back to the body code, then __type, then the status', () => {
    expect(errorFromResponse(target, 404, [], enc({ code: 'ResourceNotFoundException', message: 'x' }))).toBeInstanceOf(
      NotFoundError,
    );
    const t = errorFromResponse(
      target,
      400,
      [],
      enc({ __type: 'com.amazon#ThrottlingException', Message: 'Rate exceeded' }),
    );
    expect(t).toBeInstanceOf(ThrottlingError);
    expect(t.awsMessage).toBe('Rate exceeded');
    const u = errorFromResponse(target, 403, undefined, new TextEncoder().encode('<html>'));
    expect(u).toBeInstanceOf(UnauthorizedError);
    expect(u.awsErrorType).toBe('ForbiddenException');
    const n = errorFromResponse(target, 404, [], enc({ code: 404, message: 'numeric code ignored' }));
    expect(n.awsErrorType).toBe('ResourceNotFoundException');
  });

  it('keeps unknown types as a generic retryable-by-status ServiceError', () => {
    const e = errorFromResponse(target, 502, [], undefined);
    expect(e).toBeInstanceOf(ServiceError);
    expect(e.awsErrorType).toBe('Http502Error');
    expect(e.retryable).toBe(true);
  });

  it('reads Retry-After and x-amz-retry-after into retryAfterMs', () => {
    expect(errorFromResponse(target, 429, ['Retry-After', '3'], undefined).retryAfterMs).toBe(3000);
    expect(errorFromResponse(target, 429, ['x-amz-retry-after', '120'], undefined).retryAfterMs).toBe(120);
    expect(errorFromResponse(target, 429, ['Retry-After', 'later'], undefined).retryAfterMs).toBeUndefined();
  });
});

describe('errorFromTransport', () => {
  it('maps undici socket, timeout and abort errors to typed errors', () => {
    expect(
      errorFromTransport(target, Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), undefined),
    ).toBeInstanceOf(NetworkError);
    expect(
      errorFromTransport(target, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), undefined),
    ).toBeInstanceOf(NetworkError);
    expect(
      errorFromTransport(target, Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), undefined),
    ).toBeInstanceOf(TimeoutError);
    expect(
      errorFromTransport(target, Object.assign(new Error('t'), { code: 'UND_ERR_CONNECT_TIMEOUT' }), undefined),
    ).toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    ac.abort();
    expect(errorFromTransport(target, new Error('x'), ac.signal)).toBeInstanceOf(AbortError);
  });

  it('returns unknown errors unchanged so they are never retried', () => {
    const e = new TypeError('bug');
    expect(errorFromTransport(target, e, undefined)).toBe(e);
  });
});
