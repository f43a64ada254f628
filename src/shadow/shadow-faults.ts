import type { ShadowFault } from './types.js';

function f(status: number, errorType: string, message: string): ShadowFault {
  return Object.freeze({ status, errorType, message });
}

/** The AWS error answers of the shadow and publish APIs (texts from AWS's error table). */
export const SHADOW_FAULTS = Object.freeze({
  invalidJson: f(400, 'InvalidRequestException', 'Invalid JSON'),
  missingState: f(400, 'InvalidRequestException', 'Missing required node: state'),
  stateNotObject: f(400, 'InvalidRequestException', 'State node must be an object'),
  desiredNotObject: f(400, 'InvalidRequestException', 'Desired node must be an object'),
  reportedNotObject: f(400, 'InvalidRequestException', 'Reported node must be an object'),
  invalidVersion: f(400, 'InvalidRequestException', 'Invalid version'),
  invalidClientToken: f(400, 'InvalidRequestException', 'Invalid clientToken'),
  // UNCONFIRMED text: AWS documents that arrays may not hold null, not the message it answers with.
  nullInArray: f(400, 'InvalidRequestException', 'Invalid JSON: arrays may not contain null values'),
  // UNCONFIRMED text: a number beyond the double range (1e400) cannot be stored as sent.
  numberOutOfRange: f(400, 'InvalidRequestException', 'Invalid JSON: number outside the range of a double'),
  versionConflict: f(409, 'ConflictException', 'Version conflict'),
  tooLarge: f(413, 'RequestEntityTooLargeException', 'The payload exceeds the maximum size allowed'),
  unsupportedEncoding: f(
    415,
    'UnsupportedDocumentEncodingException',
    'Unsupported documented encoding; supported encoding is UTF-8',
  ),
  throttled: f(429, 'ThrottlingException', 'Rate exceeded'),
  internal: f(500, 'InternalFailureException', 'Internal service failure'),
  unavailable: f(503, 'ServiceUnavailableException', 'Service Unavailable'),
  unauthorized: f(401, 'UnauthorizedException', 'Unauthorized'),
  forbidden: f(403, 'ForbiddenException', 'Forbidden'),
  methodNotAllowed: f(405, 'MethodNotAllowedException', 'Method Not Allowed'),
  // UNCONFIRMED: what AWS answers for a path no operation has; 404 with a generic type.
  unknownOperation: f(404, 'UnknownOperationException', 'Not Found'),
});

export function shadowFault(status: number, errorType: string, message: string): ShadowFault {
  return f(status, errorType, message);
}

/** `State contains an invalid node: '<key>'` */
export function invalidNodeFault(key: string): ShadowFault {
  return f(400, 'InvalidRequestException', `State contains an invalid node: '${key}'`);
}

/** `JSON contains too many levels of nesting; maximum is N` */
export function depthFault(maxDepth: number): ShadowFault {
  return f(400, 'InvalidRequestException', `JSON contains too many levels of nesting; maximum is ${maxDepth}`);
}

/** `No shadow exists with name: '<shadow name, or thing name for the classic shadow>'` */
export function noShadowFault(thingName: string, shadowName: string | undefined): ShadowFault {
  return f(404, 'ResourceNotFoundException', `No shadow exists with name: '${shadowName ?? thingName}'`);
}

/** An AWS model-constraint message: `1 validation error detected: Value '...' at '...' failed to satisfy constraint: ...` */
export function constraintFault(member: string, value: unknown, constraint: string): ShadowFault {
  const shown = typeof value === 'string' ? value : String(value);
  return f(
    400,
    'InvalidRequestException',
    `1 validation error detected: Value '${shown}' at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}
