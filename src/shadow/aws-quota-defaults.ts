/**
 * The AWS IoT Core quotas shadowfleet defaults to, in one place: the engine's rate gates, the
 * jobs' rate options and the emulator's quota emulation all read them from here.
 *
 * Per account and per operation, requests per second: 4,000 for the shadow operations in the
 * large regions (400 in some smaller ones: configure it); per thing: 20 shadow requests per
 * second and 10 in flight. See reference/iot-data-plane.md for the sources.
 */
export const AWS_QUOTA_DEFAULTS = Object.freeze({
  /** GetThingShadow, UpdateThingShadow, DeleteThingShadow: requests/s per account, each. */
  accountRps: 4000,
  /** Shadow requests/s per thing, all operations together. */
  thingRps: 20,
  /** Shadow requests in flight per thing. */
  thingInFlight: 10,
});
