/**
 * shadowfleet/client: the AWS IoT Data Plane client (and the control-plane calls that select
 * targets) with the error classes, without the bulk engine, the jobs or the sinks. A public
 * entry point of its own so that a program making a few calls (or `shadowfleet get`) loads
 * only what those calls need; everything here is also exported by the package root.
 *
 *   const client = new IotDataClient({ endpoint: await resolveDataEndpoint({ region }) });
 *   const doc = await client.getThingShadow({ thingName: 'pump-17', shadowName: 'config' });
 *   await client.updateThingShadow({ thingName: 'pump-17', payload: { state: { desired: { on: true } }, version: doc.version } });
 *   await client.close();
 *
 * `retryDelay` is the retry policy the client applies. test/api/public-surface.test.ts pins the
 * runtime names; internals (the signer, the credential source) are imported by path inside src.
 */
export {
  /** Every AWS IoT Data Plane operation over undici with SigV4, retries and typed errors. */
  IotDataClient,
  /** IotDataClient's defaults. */
  DEFAULT_IOT_DATA_CLIENT_OPTIONS,
  type IotDataClientOptions,
  type ClientCredentials,
  type ClientRetryOptions,
  type ShadowRef,
  type CallOptions,
  type OperationName,
  type RequestHooks,
  type AttemptOutcome,
  type ListNamedShadowsInput,
  type ListNamedShadowsOutput,
  type PublishInput,
  type RetainedMessage,
  type RetainedMessageSummary,
  type ListRetainedMessagesInput,
  type ListRetainedMessagesOutput,
  type RequestStartMessage,
  type RequestRetryMessage,
} from './iot-data-client.js';
export {
  /** The IoT control-plane calls that select targets: ListThings, thing groups, SearchIndex. */
  IotControlClient,
  /** IotControlClient's defaults. */
  DEFAULT_IOT_CONTROL_CLIENT_OPTIONS,
  type IotControlClientOptions,
  type ControlCallOptions,
  type ListThingsInput,
  type ListThingsInThingGroupInput,
  type SearchIndexInput,
  type ThingAttribute,
  type ThingDocument,
  type Page,
} from './iot-control-client.js';
/** The retry policy (a delay in ms, or stop) and the server retry hint it obeys. */
export { retryDelay, parseRetryAfter, type RetryPolicyOptions } from './retry-delay.js';
/** The one endpoint parser (credentials in a URL are refused) and DescribeEndpoint for a region. */
export {
  parseDataEndpoint,
  resolveDataEndpoint,
  type DataEndpoint,
  type ResolveDataEndpointOptions,
} from './resolve-data-endpoint.js';
export type { CredentialsProvider } from './credential-source.js';
/** The error classes every call may throw (the same classes as the package root's). */
export {
  /** Base of every error shadowfleet throws; `code` is a stable `SHADOW_ERR_*` string. */
  ShadowError,
  /** True for any shadowfleet error, across copies of the package and worker threads. */
  isShadowError,
  /** Bad options or input, thrown at construction; the message names the option. */
  InvalidArgumentError,
  /** A configuration that cannot work (no endpoint, credentials in a URL...). */
  ConfigError,
  /** Any error response of the AWS service, with statusCode, awsErrorType and requestId. */
  ServiceError,
  /** 429 ThrottlingException. */
  ThrottlingError,
  /** 409 ConflictException: the shadow's version changed since it was read. */
  ConflictError,
  /** 404 ResourceNotFoundException. */
  NotFoundError,
  /** 413 RequestEntityTooLargeException. */
  PayloadTooLargeError,
  /** 401/403: credentials refused. */
  UnauthorizedError,
  /** 503 ServiceUnavailableException. */
  ServiceUnavailableError,
  /** A connection failed or was reset (the transport error is the `cause`). */
  NetworkError,
  /** A request exceeded its timeout. */
  TimeoutError,
  /** The caller's AbortSignal fired. */
  AbortError,
  type ShadowErrorCode,
  type ServiceErrorDetails,
} from '../errors.js';
/** JSON that keeps numbers a double cannot hold exactly (shadow documents may carry them). */
export { parseJson, stringifyJson, isExactNumber } from '../shadow/json-text.js';
