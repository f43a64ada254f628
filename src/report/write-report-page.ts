import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SnapshotError } from '../errors.js';
import { checkDestinationFile } from '../io/check-destination.js';
import { writeFileAtomic } from '../io/write-file-atomic.js';
import { renderReportPage } from './render-report-page.js';
import type { ReportModel } from './report-model.js';

/**
 * Checks, before a run, that the report page can be written at `path` (ConfigError naming the
 * path: a directory, a device, procfs, an unwritable place). Commands call it before the first
 * request, so a bad path costs nothing.
 */
export async function checkReportPageDestination(path: string, what = 'report page'): Promise<void> {
  await checkDestinationFile(path, what);
}

/**
 * Writes the report page atomically: to a temporary name beside the target, flushed, then
 * renamed, so a reader never sees half a page. Returns the absolute path written. A failure here
 * comes after the run did its work, so it is an error of the run (exit 1), not a usage error.
 */
export async function writeReportPage(path: string, model: ReportModel): Promise<string> {
  const target = resolve(path);
  await checkDestinationFile(target, 'report page');
  const html = renderReportPage(model);
  try {
    await mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, html);
  } catch (err) {
    throw new SnapshotError(`cannot write the report page to ${target}: ${(err as Error).message}`, { cause: err });
  }
  return target;
}
