/**
 * One error hierarchy for the whole library. Every error has a stable string `code`;
 * AWS errors keep their AWS names (ConflictException -> ConflictError). Per-item failures
 * of a bulk run are data (ErrorRecord), not exceptions: workers send records across threads
 * and the coordinator turns them back into errors only where it must throw.
 */

export type ShadowErrorCode =
  | 'SHADOW_ERR_INVALID_ARGUMENT'
  | 'SHADOW_ERR_CONFIG'
  | 'SHADOW_ERR_SERVICE'
  | 'SHADOW_ERR_THROTTLED'
  | 'SHADOW_ERR_CONFLICT'
  | 'SHADOW_ERR_NOT_FOUND'
  | 'SHADOW_ERR_PAYLOAD_TOO_LARGE'
  | 'SHADOW_ERR_UNAUTHORIZED'
  | 'SHADOW_ERR_UNAVAILABLE'
  | 'SHADOW_ERR_NETWORK'
  | 'SHADOW_ERR_TIMEOUT'
  | 'SHADOW_ERR_ABORTED'
  | 'SHADOW_ERR_RATE_GATE'
  | 'SHADOW_ERR_WORKER'
  | 'SHADOW_ERR_SNAPSHOT';

const BRAND = Symbol.for('shadowfleet.error');

export class ShadowError extends Error {
  readonly code: ShadowErrorCode;
  declare readonly [BRAND]: true;

  constructor(code: ShadowErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'ShadowError';
    Object.defineProperty(this, BRAND, { value: true });
  }
}

export function isShadowError(err: unknown): err is ShadowError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}

/** Bad options or input, detected before any request is sent. */
export class InvalidArgumentError extends ShadowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHADOW_ERR_INVALID_ARGUMENT', message, options);
    this.name = 'InvalidArgumentError';
  }
}

/** A configuration problem (missing endpoint, unusable credentials, unwritable destination). */
export class ConfigError extends ShadowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHADOW_ERR_CONFIG', message, options);
    this.name = 'ConfigError';
  }
}

/** The bad snapshot/journal/spec file case: names the file and line. */
export class SnapshotError extends ShadowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHADOW_ERR_SNAPSHOT', message, options);
    this.name = 'SnapshotError';
  }
}

export interface ServiceErrorDetails {
  operation: string;
  statusCode: number;
  awsErrorType: string;
  awsMessage?: string;
  requestId?: string;
  thingName?: string;
  shadowName?: string;
  /** Server hint from Retry-After / x-amz-retry-after, in ms. */
  retryAfterMs?: number;
}

function describeTarget(d: Pick<ServiceErrorDetails, 'operation' | 'thingName' | 'shadowName'>): string {
  if (d.thingName === undefined) return '';
  // A list names a thing, not one of its shadows.
  if (d.operation === 'ListNamedShadowsForThing') return `: thing "${d.thingName}"`;
  return d.shadowName === undefined
    ? `: thing "${d.thingName}" classic shadow`
    : `: thing "${d.thingName}" shadow "${d.shadowName}"`;
}

/** Every error response of the data plane. Subclasses mark the cases handled differently. */
export class ServiceError extends ShadowError {
  readonly operation: string;
  readonly statusCode: number;
  readonly awsErrorType: string;
  readonly awsMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly thingName: string | undefined;
  readonly shadowName: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly retryable: boolean;

  constructor(
    d: ServiceErrorDetails,
    code: ShadowErrorCode = 'SHADOW_ERR_SERVICE',
    retryable = isRetryableStatus(d.statusCode),
  ) {
    const detail = d.awsMessage ? ` (${d.awsMessage})` : '';
    super(code, `${d.operation} failed with ${d.statusCode} ${d.awsErrorType}${describeTarget(d)}${detail}`);
    this.name = 'ServiceError';
    this.operation = d.operation;
    this.statusCode = d.statusCode;
    this.awsErrorType = d.awsErrorType;
    this.awsMessage = d.awsMessage;
    this.requestId = d.requestId;
    this.thingName = d.thingName;
    this.shadowName = d.shadowName;
    this.retryAfterMs = d.retryAfterMs;
    this.retryable = retryable;
  }
}

export class ThrottlingError extends ServiceError {
  constructor(d: ServiceErrorDetails) {
    super(d, 'SHADOW_ERR_THROTTLED', true);
    this.name = 'ThrottlingError';
  }
}

export class ConflictError extends ServiceError {
  constructor(d: ServiceErrorDetails) {
    super(d, 'SHADOW_ERR_CONFLICT', false);
    this.name = 'ConflictError';
  }
}

export class NotFoundError extends ServiceError {
  constructor(d: ServiceErrorDetails) {
    super(d, 'SHADOW_ERR_NOT_FOUND', false);
    this.name = 'NotFoundError';
  }
}

export class PayloadTooLargeError extends ServiceError {
  constructor(d: ServiceErrorDetails) {
    super(d, 'SHADOW_ERR_PAYLOAD_TOO_LARGE', false);
    this.name = 'PayloadTooLargeError';
  }
}

export class UnauthorizedError extends ServiceError {
  constructor(d: ServiceErrorDetails) {
    super(d, 'SHADOW_ERR_UNAUTHORIZED', false);
    this.name = 'UnauthorizedError';
  }
}

export class ServiceUnavailableError extends ServiceError {
  constructor(d: ServiceErrorDetails) {
    super(d, 'SHADOW_ERR_UNAVAILABLE', true);
    this.name = 'ServiceUnavailableError';
  }
}

/** Socket-level failures (reset, refused, DNS): retryable. The undici error is the cause. */
export class NetworkError extends ShadowError {
  readonly operation: string;
  constructor(operation: string, message: string, options?: { cause?: unknown }) {
    super('SHADOW_ERR_NETWORK', `${operation} failed: ${message}`, options);
    this.name = 'NetworkError';
    this.operation = operation;
  }
}

export class TimeoutError extends ShadowError {
  readonly operation: string;
  constructor(operation: string, message: string, options?: { cause?: unknown }) {
    super('SHADOW_ERR_TIMEOUT', `${operation} timed out: ${message}`, options);
    this.name = 'TimeoutError';
    this.operation = operation;
  }
}

export class AbortError extends ShadowError {
  constructor(message = 'the operation was aborted', options?: { cause?: unknown }) {
    super('SHADOW_ERR_ABORTED', message, options);
    this.name = 'AbortError';
  }
}

/**
 * The account's rate gate could not hand out a permit while the run went on (its Redis failed
 * or its connection closed): the request was never sent. A failure of the item, not an
 * interruption: reports count it as failed and a rerun sends it again. (A gate closed because
 * the run stopped is an AbortError.)
 */
export class RateGateError extends ShadowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHADOW_ERR_RATE_GATE', message, options);
    this.name = 'RateGateError';
  }
}

/** A worker thread crashed or rejected a task. */
export class WorkerError extends ShadowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHADOW_ERR_WORKER', message, options);
    this.name = 'WorkerError';
  }
}

/** 429 and 5xx transients are retried; every other 4xx is final. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Picks the subclass for an AWS error response. */
export function serviceErrorFor(d: ServiceErrorDetails): ServiceError {
  switch (d.awsErrorType) {
    case 'ThrottlingException':
      return new ThrottlingError(d);
    case 'ConflictException':
      return new ConflictError(d);
    case 'ResourceNotFoundException':
      return new NotFoundError(d);
    case 'RequestEntityTooLargeException':
      return new PayloadTooLargeError(d);
    case 'UnauthorizedException':
    case 'ForbiddenException':
      return new UnauthorizedError(d);
    case 'ServiceUnavailableException':
      return new ServiceUnavailableError(d);
  }
  switch (d.statusCode) {
    case 429:
      return new ThrottlingError(d);
    case 409:
      return new ConflictError(d);
    case 404:
      return new NotFoundError(d);
    case 413:
      return new PayloadTooLargeError(d);
    case 401:
    case 403:
      return new UnauthorizedError(d);
    case 503:
      return new ServiceUnavailableError(d);
  }
  return new ServiceError(d);
}

/** A structured-clone-safe form of an error, for crossing threads and for journals/reports. */
export interface ErrorRecord {
  name: string;
  code: ShadowErrorCode | 'SHADOW_ERR_UNKNOWN';
  message: string;
  /** AWS error name (e.g. ConflictException) when the service answered. */
  awsErrorType?: string;
  statusCode?: number;
  requestId?: string;
  operation?: string;
  thingName?: string;
  shadowName?: string;
  retryable?: boolean;
}

export function toErrorRecord(err: unknown): ErrorRecord {
  if (err instanceof ServiceError) {
    const rec: ErrorRecord = {
      name: err.name,
      code: err.code,
      message: err.message,
      awsErrorType: err.awsErrorType,
      statusCode: err.statusCode,
      operation: err.operation,
      retryable: err.retryable,
    };
    if (err.requestId !== undefined) rec.requestId = err.requestId;
    if (err.thingName !== undefined) rec.thingName = err.thingName;
    if (err.shadowName !== undefined) rec.shadowName = err.shadowName;
    return rec;
  }
  if (isShadowError(err)) {
    const rec: ErrorRecord = { name: err.name, code: err.code, message: err.message };
    const op = (err as { operation?: unknown }).operation;
    if (typeof op === 'string') rec.operation = op;
    return rec;
  }
  if (err instanceof Error) return { name: err.name, code: 'SHADOW_ERR_UNKNOWN', message: err.message };
  return { name: 'Error', code: 'SHADOW_ERR_UNKNOWN', message: String(err) };
}

export function fromErrorRecord(rec: ErrorRecord): ShadowError {
  if (rec.awsErrorType !== undefined && rec.statusCode !== undefined) {
    const d: ServiceErrorDetails = {
      operation: rec.operation ?? 'unknown',
      statusCode: rec.statusCode,
      awsErrorType: rec.awsErrorType,
    };
    if (rec.requestId !== undefined) d.requestId = rec.requestId;
    if (rec.thingName !== undefined) d.thingName = rec.thingName;
    if (rec.shadowName !== undefined) d.shadowName = rec.shadowName;
    const e = serviceErrorFor(d);
    // Keep the original message (it already names operation, thing and shadow).
    Object.defineProperty(e, 'message', { value: rec.message, enumerable: false, writable: true, configurable: true });
    return e;
  }
  const op = rec.operation ?? 'unknown';
  let e: ShadowError;
  switch (rec.code) {
    case 'SHADOW_ERR_INVALID_ARGUMENT':
      e = new InvalidArgumentError(rec.message);
      break;
    case 'SHADOW_ERR_CONFIG':
      e = new ConfigError(rec.message);
      break;
    case 'SHADOW_ERR_NETWORK':
      e = new NetworkError(op, '');
      break;
    case 'SHADOW_ERR_TIMEOUT':
      e = new TimeoutError(op, '');
      break;
    case 'SHADOW_ERR_ABORTED':
      e = new AbortError(rec.message);
      break;
    case 'SHADOW_ERR_RATE_GATE':
      e = new RateGateError(rec.message);
      break;
    case 'SHADOW_ERR_SNAPSHOT':
      e = new SnapshotError(rec.message);
      break;
    default:
      e = new WorkerError(rec.message);
      break;
  }
  Object.defineProperty(e, 'message', { value: rec.message, enumerable: false, writable: true, configurable: true });
  return e;
}
