/** The `snapshot-read` task: reads every chosen shadow of a batch of things (see src/jobs/snapshot-read.ts). */
export { snapshotReadHandler as default, snapshotReadHandler } from '../../src/jobs/snapshot-read.js';
