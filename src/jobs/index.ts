export * from './rollout/rollout.js';
export * from './snapshot/snapshot.js';
export * from './restore/restore.js';
export * from './diff/diff.js';
export * from './bench/bench.js';
export * from './demo/demo.js';
