import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { renderReportPage } from './render-report-page.js';
import type { ReportModel } from './report-model.js';

/**
 * Writes the report page atomically: to a temporary name beside the target, flushed, then
 * renamed, so a reader never sees half a page. Returns the absolute path written.
 */
export async function writeReportPage(path: string, model: ReportModel): Promise<string> {
  const target = resolve(path);
  const tmp = `${target}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const html = renderReportPage(model);
  try {
    await mkdir(dirname(target), { recursive: true });
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(html, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new ConfigError(`cannot write the report page to ${target}: ${(err as Error).message}`, { cause: err });
  }
  return target;
}
