/** The `restore` task: writes snapshot state back, minimal and version-guarded (see src/jobs/snapshot-restore-handler.ts). */
export { restoreHandler as default, restoreHandler } from '../../src/jobs/snapshot-restore-handler.js';
