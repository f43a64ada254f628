/**
 * The configs of the tasks progressive rollouts add: `wave-check` (what a gate observes of a
 * wave's written things) and `rollback` (undo writes from their before-images). Plain,
 * structured-clone safe data, as every task config.
 */
import type { JsonObject } from '../shadow/types.js';

/** Item data key holding the JSON text of a thing's UndoRecord (rollback) or of the update it got (wave-check). */
export const UNDO_DATA_KEY = 'undo';
export const WROTE_DATA_KEY = 'wrote';

/** The config of a 'wave-check' task (workers/handlers/wave-check.ts). */
export interface WaveCheckTaskConfig {
  shadowName?: string;
  /** The merge document written to every thing (static rollouts); else each item's `data.wrote`. */
  desired?: JsonObject;
  /** The health expression, compiled once per thread; absent: no health observed. */
  health?: string;
  concurrency?: number;
}

/** The config of a 'rollback' task (workers/handlers/rollback.ts). Items carry `data.undo`. */
export interface RollbackTaskConfig {
  shadowName?: string;
  /** Read and plan only: outcome would-write / unchanged / kept. */
  dryRun?: boolean;
  /** Read-plan-write attempts per thing on version conflicts. Default 5. */
  maxAttempts?: number;
  clientTokenPrefix?: string;
  concurrency?: number;
}
