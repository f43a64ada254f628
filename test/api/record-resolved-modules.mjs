/**
 * Preload (`node --import ./record-resolved-modules.mjs`) that appends every module URL the ESM
 * loader resolves, one a line, to the file named by SHADOWFLEET_RESOLVED_LOG. Hooks run on their
 * own thread, so the lines are written synchronously there and read after the process exits.
 */
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
const log = process.env.SHADOWFLEET_RESOLVED_LOG;
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (log) appendFileSync(log, result.url + '\\n');
  return result;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
