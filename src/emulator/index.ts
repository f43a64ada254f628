/**
 * shadowfleet/emulator: a local AWS IoT Data Plane for tests, demos and benchmarks.
 *
 *   const emulator = await startEmulator({ quotas: 'off' });   // in this process
 *   // point a client at emulator.url ...
 *   await emulator.close();
 *
 *   const child = await startEmulatorProcess({ seedThings: 1000 });   // in its own process
 *   await child.close();
 *
 * test/api/public-surface.test.ts pins the runtime names; the routes, quota gate, fault injector
 * and device simulator behind them are internal.
 */
export {
  /** Starts an emulator in this process and resolves once it listens. */
  startEmulator,
  /** A running emulator: its `url`, `store`, `retained` messages, `registry`, `stats()` and `close()`. */
  Emulator,
} from './emulator.js';
export {
  /** Starts an emulator in its own child process (options as for startEmulator) and resolves once it listens. */
  startEmulatorProcess,
  /** startEmulatorProcess's defaults. */
  DEFAULT_EMULATOR_PROCESS_OPTIONS,
  type EmulatorProcess,
  type EmulatorProcessOptions,
} from './emulator-process.js';
export {
  /** The emulator's defaults. */
  DEFAULT_EMULATOR_OPTIONS,
  /** AWS's default quotas (large regions): per account per operation, per thing. */
  AWS_QUOTAS,
  /** The operations the emulator serves (the keys of quotas, fault rules and counters). */
  EMULATOR_OPERATIONS,
  /** Validates emulator options once; every message names the option. */
  resolveEmulatorOptions,
  type EmulatorOptions,
  type EmulatorOperation,
  type QuotaOptions,
  type FaultRule,
  type FaultOptions,
  type SimulateDevicesOptions,
  type SigV4Credentials,
  type SigV4CredentialsSource,
  type SigV4Options,
  type ResolvedQuotas,
  type ResolvedEmulatorOptions,
} from './emulator-options.js';
export type { EmulatorStats, OperationCounters } from './emulator-stats.js';
export {
  /** The in-memory shadow store the emulator serves (`emulator.store`), usable alone. */
  ShadowStore,
  /** ShadowStore's defaults. */
  DEFAULT_SHADOW_STORE_OPTIONS,
  type ShadowStoreOptions,
} from './shadow-store.js';
export type { RetainedStore, RetainedMessage } from './retained-store.js';
/** The name of the i-th seeded thing (`seedThings: n` seeds device-000001 ...). */
export { seededThingName } from './seed-things.js';
