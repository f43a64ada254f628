import {
  AbortError,
  NetworkError,
  type ServiceError,
  type ShadowError,
  TimeoutError,
  isShadowError,
  serviceErrorFor,
  type ServiceErrorDetails,
} from '../errors.js';
import { parseJson } from '../shadow/json-text.js';
import { parseRetryAfter } from './retry-delay.js';

/** AWS error names by status, used only when neither the header nor the body names one. */
const TYPE_BY_STATUS: Readonly<Record<number, string>> = Object.freeze({
  400: 'InvalidRequestException',
  401: 'UnauthorizedException',
  403: 'ForbiddenException',
  404: 'ResourceNotFoundException',
  405: 'MethodNotAllowedException',
  409: 'ConflictException',
  413: 'RequestEntityTooLargeException',
  415: 'UnsupportedDocumentEncodingException',
  429: 'ThrottlingException',
  500: 'InternalFailureException',
  503: 'ServiceUnavailableException',
});

/** As the SDK sanitizes an error code: cut at `:` and `,`, keep what follows `#`. */
export function sanitizeErrorType(raw: string): string {
  let v = raw;
  const colon = v.indexOf(':');
  if (colon >= 0) v = v.slice(0, colon);
  const comma = v.indexOf(',');
  if (comma >= 0) v = v.slice(0, comma);
  const hash = v.indexOf('#');
  if (hash >= 0) v = v.slice(hash + 1);
  return v.trim();
}

export interface ErrorTarget {
  operation: string;
  thingName?: string | undefined;
  shadowName?: string | undefined;
}

/** Finds the headers an error needs in undici's raw `[name, value, ...]` list. */
function pickHeaders(raw: ReadonlyArray<Buffer | string> | undefined): {
  type?: string;
  requestId?: string;
  retryAfter?: string;
  amzRetryAfter?: string;
} {
  const out: { type?: string; requestId?: string; retryAfter?: string; amzRetryAfter?: string } = {};
  if (!raw) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString().toLowerCase();
    switch (name) {
      case 'x-amzn-errortype':
        out.type = raw[i + 1]!.toString();
        break;
      case 'x-amzn-requestid':
        out.requestId = raw[i + 1]!.toString();
        break;
      case 'x-amz-request-id':
        out.requestId ??= raw[i + 1]!.toString();
        break;
      case 'retry-after':
        out.retryAfter = raw[i + 1]!.toString();
        break;
      case 'x-amz-retry-after':
        out.amzRetryAfter = raw[i + 1]!.toString();
        break;
    }
  }
  return out;
}

/**
 * Builds the typed error of a non-2xx response: the AWS name from `x-amzn-ErrorType` first, then
 * the body's `code` / `__type`; the message from the body's `message` / `Message`.
 * `noStack`: the caller expects this answer and never shows the error (a 404 that means "no
 * shadow"): the error is built without capturing a stack trace, its `stack` is the first line only.
 */
export function errorFromResponse(
  target: ErrorTarget,
  statusCode: number,
  rawHeaders: ReadonlyArray<Buffer | string> | undefined,
  body: Uint8Array | undefined,
  noStack = false,
): ServiceError {
  const h = pickHeaders(rawHeaders);
  let parsed: Record<string, unknown> | undefined;
  if (body !== undefined && body.byteLength > 0) {
    try {
      const v: unknown = parseJson(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) parsed = v as Record<string, unknown>;
    } catch {
      // not JSON: the status decides
    }
  }
  let type = h.type !== undefined ? sanitizeErrorType(h.type) : '';
  if (!type && parsed) {
    const code =
      typeof parsed.code === 'string' ? parsed.code : typeof parsed.__type === 'string' ? parsed.__type : undefined;
    if (code !== undefined) type = sanitizeErrorType(code);
  }
  if (!type) type = TYPE_BY_STATUS[statusCode] ?? `Http${statusCode}Error`;
  const msg = parsed
    ? typeof parsed.message === 'string'
      ? parsed.message
      : typeof parsed.Message === 'string'
        ? parsed.Message
        : undefined
    : undefined;
  const d: ServiceErrorDetails = { operation: target.operation, statusCode, awsErrorType: type };
  if (msg !== undefined && msg !== '') d.awsMessage = msg.length > 300 ? `${msg.slice(0, 300)}...` : msg;
  if (h.requestId !== undefined) d.requestId = h.requestId;
  if (target.thingName !== undefined) d.thingName = target.thingName;
  if (target.shadowName !== undefined) d.shadowName = target.shadowName;
  const retryAfterMs = parseRetryAfter(h.retryAfter, h.amzRetryAfter);
  if (retryAfterMs !== undefined) d.retryAfterMs = retryAfterMs;
  if (!noStack) return serviceErrorFor(d);
  // Capturing the frames is most of the cost of an Error; the limit is read at construction.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return serviceErrorFor(d);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const NETWORK_CODES = new Set([
  'UND_ERR_SOCKET',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

function describe(target: ErrorTarget): string {
  if (target.thingName === undefined) return '';
  if (target.operation === 'ListNamedShadowsForThing') return ` (thing "${target.thingName}")`;
  return target.shadowName === undefined
    ? ` (thing "${target.thingName}" classic shadow)`
    : ` (thing "${target.thingName}" shadow "${target.shadowName}")`;
}

/**
 * Maps a transport failure (undici or socket error) to NetworkError / TimeoutError / AbortError.
 * Anything else is returned unchanged: unknown errors are never retried.
 */
export function errorFromTransport(target: ErrorTarget, err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted)
    return new AbortError(`${target.operation} was aborted${describe(target)}`, { cause: signal.reason ?? err });
  if (isShadowError(err)) return err as ShadowError;
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  if (e?.name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') {
    return new AbortError(`${target.operation} was aborted${describe(target)}`, { cause: err });
  }
  if (code !== undefined && TIMEOUT_CODES.has(code))
    return new TimeoutError(target.operation, `${code}${describe(target)}`, { cause: err });
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new NetworkError(target.operation, `${code} ${e?.message ?? ''}${describe(target)}`.replace(/\s+/g, ' '), {
      cause: err,
    });
  }
  return err;
}
