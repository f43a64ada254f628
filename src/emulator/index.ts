/**
 * shadowfleet/emulator: a local AWS IoT Data Plane for tests, demos and benchmarks.
 *
 *   const emulator = await startEmulator({ quotas: 'off' });
 *   // point a client at emulator.url ...
 *   await emulator.close();
 */
export { Emulator, startEmulator } from './emulator.js';
export * from './emulator-options.js';
export type { EmulatorStats, OperationCounters } from './emulator-stats.js';
export { ShadowStore, DEFAULT_SHADOW_STORE_OPTIONS, type ShadowStoreOptions } from './shadow-store.js';
export { RetainedStore, type RetainedMessage } from './retained-store.js';
export { seedThings, seededThingName } from './seed-things.js';
