export { checkDestinationDir, checkDestinationFile, type DestinationCheck } from './check-destination.js';
export { readBounded, readStreamBounded } from './read-bounded.js';
export { specialFileSystem } from './special-file-system.js';
export { writeFileAtomic } from './write-file-atomic.js';
export { AtomicFileWriter } from './atomic-file-writer.js';
export { partialPathOf } from './write-file-atomic.js';
export { limitLineLength } from './line-limit.js';
export { refuseSpecialFile } from './read-bounded.js';
