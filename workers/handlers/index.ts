/**
 * The task handlers, by kind. Each handler module's default export is a TaskHandler; add one
 * import and one entry per kind.
 *
 * Static imports on purpose: inside a worker thread running TypeScript through `--import tsx`,
 * a dynamic import() of a .ts module (or of `./x.js` meaning `./x.ts`) fails with
 * ERR_UNKNOWN_FILE_EXTENSION / ERR_MODULE_NOT_FOUND, while the static graph loads.
 */
import type { TaskHandler, TaskKind } from '../../src/engine/task-types.js';
import bench from './bench.js';
import convergeCheck from './converge-check.js';
import rollout from './rollout.js';
import rollback from './rollback.js';
import waveCheck from './wave-check.js';
import snapshotRead from './snapshot-read.js';
import restore from './restore.js';
import sync from './sync.js';

export const HANDLERS: Readonly<Partial<Record<TaskKind, TaskHandler<never>>>> = Object.freeze({
  rollout: rollout as TaskHandler<never>,
  'converge-check': convergeCheck as TaskHandler<never>,
  bench: bench as TaskHandler<never>,
  'snapshot-read': snapshotRead as TaskHandler<never>,
  restore: restore as TaskHandler<never>,
  rollback: rollback as TaskHandler<never>,
  'wave-check': waveCheck as TaskHandler<never>,
  sync: sync as TaskHandler<never>,
});
