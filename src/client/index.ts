/**
 * The AWS IoT Data Plane client.
 *
 *   const client = new IotDataClient({ endpoint: await resolveDataEndpoint({ region }) });
 *   const doc = await client.getThingShadow({ thingName: 'pump-17', shadowName: 'config' });
 *   await client.updateThingShadow({ thingName: 'pump-17', payload: { state: { desired: { on: true } }, version: doc.version } });
 *   await client.close();
 *
 * Errors are the classes of ../errors.ts; `retryDelay` is the retry policy the client applies.
 */
export {
  IotDataClient,
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
  IotControlClient,
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
export { retryDelay, parseRetryAfter, type RetryPolicyOptions } from './retry-delay.js';
export { parseDataEndpoint, resolveDataEndpoint, type DataEndpoint, type ResolveDataEndpointOptions } from './resolve-data-endpoint.js';
export { SigV4Signer, encodeLabel, payloadHash, EMPTY_PAYLOAD_HASH, type SigV4SignerOptions, type SigningCredentials } from './sigv4-signer.js';
export { LOCAL_CREDENTIALS, isLoopbackHost, type CredentialsProvider } from './credential-source.js';
export { sanitizeErrorType } from './response-error.js';
