import { describe, expect, it } from 'vitest';
import {
  AbortError,
  RateGateError,
  ConfigError,
  ConflictError,
  InvalidArgumentError,
  NetworkError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceError,
  ServiceUnavailableError,
  ShadowError,
  SnapshotError,
  ThrottlingError,
  TimeoutError,
  UnauthorizedError,
  WorkerError,
  fromErrorRecord,
  isShadowError,
  serviceErrorFor,
  toErrorRecord,
  type ServiceErrorDetails,
} from '../src/errors.js';

const details = (awsErrorType: string, statusCode: number): ServiceErrorDetails => ({
  operation: 'UpdateThingShadow',
  statusCode,
  awsErrorType,
  awsMessage: 'detail',
  requestId: 'req-1',
  thingName: 'pump-17',
  shadowName: 'config',
});

describe('service errors', () => {
  const table = [
    {
      type: 'ThrottlingException',
      status: 429,
      cls: ThrottlingError,
      name: 'ThrottlingError',
      code: 'SHADOW_ERR_THROTTLED',
      retryable: true,
    },
    {
      type: 'ConflictException',
      status: 409,
      cls: ConflictError,
      name: 'ConflictError',
      code: 'SHADOW_ERR_CONFLICT',
      retryable: false,
    },
    {
      type: 'ResourceNotFoundException',
      status: 404,
      cls: NotFoundError,
      name: 'NotFoundError',
      code: 'SHADOW_ERR_NOT_FOUND',
      retryable: false,
    },
    {
      type: 'RequestEntityTooLargeException',
      status: 413,
      cls: PayloadTooLargeError,
      name: 'PayloadTooLargeError',
      code: 'SHADOW_ERR_PAYLOAD_TOO_LARGE',
      retryable: false,
    },
    {
      type: 'UnauthorizedException',
      status: 401,
      cls: UnauthorizedError,
      name: 'UnauthorizedError',
      code: 'SHADOW_ERR_UNAUTHORIZED',
      retryable: false,
    },
    {
      type: 'ForbiddenException',
      status: 403,
      cls: UnauthorizedError,
      name: 'UnauthorizedError',
      code: 'SHADOW_ERR_UNAUTHORIZED',
      retryable: false,
    },
    {
      type: 'ServiceUnavailableException',
      status: 503,
      cls: ServiceUnavailableError,
      name: 'ServiceUnavailableError',
      code: 'SHADOW_ERR_UNAVAILABLE',
      retryable: true,
    },
    {
      type: 'InternalFailureException',
      status: 500,
      cls: ServiceError,
      name: 'ServiceError',
      code: 'SHADOW_ERR_SERVICE',
      retryable: true,
    },
    {
      type: 'InvalidRequestException',
      status: 400,
      cls: ServiceError,
      name: 'ServiceError',
      code: 'SHADOW_ERR_SERVICE',
      retryable: false,
    },
    {
      type: 'UnsupportedDocumentEncodingException',
      status: 415,
      cls: ServiceError,
      name: 'ServiceError',
      code: 'SHADOW_ERR_SERVICE',
      retryable: false,
    },
  ] as const;

  for (const row of table) {
    it(`maps ${row.status} ${row.type} to ${row.name} and survives a trip through structuredClone`, () => {
      const err = serviceErrorFor(details(row.type, row.status));
      expect(err).toBeInstanceOf(row.cls);
      expect(err).toBeInstanceOf(ServiceError);
      expect(isShadowError(err)).toBe(true);
      expect(err.name).toBe(row.name);
      expect(err.code).toBe(row.code);
      expect(err.retryable).toBe(row.retryable);
      expect(err.message).toBe(
        `UpdateThingShadow failed with ${row.status} ${row.type}: thing "pump-17" shadow "config" (detail)`,
      );

      const back = fromErrorRecord(structuredClone(toErrorRecord(err)));
      expect(back).toBeInstanceOf(row.cls);
      expect(back.code).toBe(row.code);
      expect(back.message).toBe(err.message);
      expect((back as ServiceError).requestId).toBe('req-1');
    });
  }

  it('falls back to the status code when the error type is unknown', () => {
    expect(serviceErrorFor(details('SomethingNew', 429))).toBeInstanceOf(ThrottlingError);
    expect(serviceErrorFor(details('SomethingNew', 502)).retryable).toBe(true);
    expect(serviceErrorFor(details('SomethingNew', 418)).retryable).toBe(false);
  });

  it('names the classic shadow when no shadow name is given', () => {
    const err = serviceErrorFor({
      operation: 'GetThingShadow',
      statusCode: 404,
      awsErrorType: 'ResourceNotFoundException',
      thingName: 'lamp-1',
    });
    expect(err.message).toBe('GetThingShadow failed with 404 ResourceNotFoundException: thing "lamp-1" classic shadow');
  });
});

describe('local errors', () => {
  const table = [
    { make: () => new InvalidArgumentError('bad'), name: 'InvalidArgumentError', code: 'SHADOW_ERR_INVALID_ARGUMENT' },
    { make: () => new ConfigError('bad'), name: 'ConfigError', code: 'SHADOW_ERR_CONFIG' },
    { make: () => new SnapshotError('bad'), name: 'SnapshotError', code: 'SHADOW_ERR_SNAPSHOT' },
    {
      make: () => new NetworkError('GetThingShadow', 'socket hang up'),
      name: 'NetworkError',
      code: 'SHADOW_ERR_NETWORK',
    },
    { make: () => new TimeoutError('GetThingShadow', 'after 10 ms'), name: 'TimeoutError', code: 'SHADOW_ERR_TIMEOUT' },
    { make: () => new AbortError(), name: 'AbortError', code: 'SHADOW_ERR_ABORTED' },
    { make: () => new RateGateError('rate gate failed'), name: 'RateGateError', code: 'SHADOW_ERR_RATE_GATE' },
    { make: () => new WorkerError('thread exited'), name: 'WorkerError', code: 'SHADOW_ERR_WORKER' },
  ] as const;

  for (const row of table) {
    it(`${row.name} carries code ${row.code} and round-trips as a record`, () => {
      const err = row.make();
      expect(err).toBeInstanceOf(ShadowError);
      expect(isShadowError(err)).toBe(true);
      expect(err.name).toBe(row.name);
      expect(err.code).toBe(row.code);
      const back = fromErrorRecord(structuredClone(toErrorRecord(err)));
      expect(back.code).toBe(row.code);
      expect(back.message).toBe(err.message);
    });
  }

  it('records a foreign error without claiming it is one of ours', () => {
    const rec = toErrorRecord(new TypeError('nope'));
    expect(rec).toEqual({ name: 'TypeError', code: 'SHADOW_ERR_UNKNOWN', message: 'nope' });
    expect(isShadowError(new TypeError('nope'))).toBe(false);
    expect(isShadowError(null)).toBe(false);
  });
});
