/**
 * shadowfleet's one public entry point. The CLI and the jobs import from here.
 */
export * from './errors.js';
export * from './shadow/index.js';
export * from './client/index.js';
export * from './engine/index.js';
export * from './sinks/index.js';
export * from './jobs/index.js';
export * from './report/index.js';
export { VERSION } from './version.js';
