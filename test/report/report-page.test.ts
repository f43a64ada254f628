import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderReportPage } from '../../src/report/render-report-page.js';
import { writeReportPage, checkReportPageDestination } from '../../src/report/write-report-page.js';
import { escapeHtml } from '../../src/report/escape-html.js';
import { sampleModel } from './sample-model.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('renderReportPage', () => {
  it('escapes every piece of user text', () => {
    const html = renderReportPage(sampleModel());
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Rollout of config v2 &lt;to&gt; &quot;fleet&quot; &amp; co');
    expect(escapeHtml(`<a href='x'>&</a>`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('is self-contained: no script, no external resource, and a policy that forbids fetches', () => {
    const html = renderReportPage(sampleModel());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<[^>]*\s(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/@import/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'`);
  });

  it('draws one chart per kind of data the model carries', () => {
    const html = renderReportPage(sampleModel());
    for (const chart of ['rate', 'latency', 'outcomes', 'errors', 'convergence'])
      expect(html).toContain(`data-chart="${chart}"`);
    expect(html).toContain('data-series="throttles/s"');
    expect(html).toContain('data-series="rate limit"');
    expect(html).toContain('data-marker="p99"');
  });

  it('leaves out the charts a model has no data for', () => {
    const html = renderReportPage({ kind: 'bench', title: 'empty', summary: [{ label: 'operations', value: 0 }] });
    expect(html).toContain('data-section="summary"');
    expect(html).not.toContain('data-chart=');
  });

  it('formats numbers with separators in the summary table', () => {
    const html = renderReportPage(sampleModel());
    expect(html).toContain('10,000');
    expect(html).toContain('1,734.3');
  });
});

describe('writeReportPage', () => {
  it('writes the page atomically and leaves no temporary file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shadowfleet-report-'));
    dirs.push(dir);
    const path = await writeReportPage(join(dir, 'nested', 'report.html'), sampleModel());
    expect(path).toBe(join(dir, 'nested', 'report.html'));
    expect(await readFile(path, 'utf8')).toBe(renderReportPage(sampleModel()));
    expect(await readdir(join(dir, 'nested'))).toEqual(['report.html']);
  });

  it('refuses a page on procfs, on a device or over a directory before writing, naming the path', async () => {
    for (const [path, message] of [
      ['/proc/nope/x.html', '/proc/nope/x.html: /proc is on procfs'],
      ['/dev/full', '/dev/full is not a regular file'],
      [tmpdir(), `${tmpdir()} is a directory`],
    ] as const) {
      await expect(checkReportPageDestination(path)).rejects.toMatchObject({
        code: 'SHADOW_ERR_CONFIG',
        message: expect.stringContaining(message),
      });
    }
  });

  it('fails with a ConfigError naming the path when it cannot write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shadowfleet-report-'));
    dirs.push(dir);
    await writeReportPage(join(dir, 'file'), sampleModel());
    await expect(writeReportPage(join(dir, 'file', 'under-a-file.html'), sampleModel())).rejects.toMatchObject({
      code: 'SHADOW_ERR_CONFIG',
      message: expect.stringContaining('under-a-file.html'),
    });
  });
});
