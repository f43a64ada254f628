export * from './rollout.js';
export * from './snapshot.js';
export * from './restore.js';
export * from './diff.js';
export * from './bench.js';
export * from './demo.js';
