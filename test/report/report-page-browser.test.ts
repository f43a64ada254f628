/**
 * The report page in a real headless browser (Debian's chromium through playwright-core):
 * the charts are drawn with their data points, nothing is logged as an error, and nothing but
 * the file itself is requested. A screenshot is kept for people to look at.
 */
import { copyFile, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { runBench } from '../../src/jobs/bench/bench.js';
import { writeReportPage } from '../../src/report/write-report-page.js';
import { ensureChromium } from './ensure-chromium.js';
import { sampleModel } from './sample-model.js';

const CHROMIUM = process.env.SHADOWFLEET_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Where the screenshot is kept (outside the source tree unless asked). */
const SHOT_DIR = process.env.SHADOWFLEET_SCREENSHOT_DIR ?? join(tmpdir(), 'shadowfleet-screenshots');

let browser: Browser;
let dir: string;

beforeAll(async () => {
  await ensureChromium(CHROMIUM);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  dir = await mkdtemp(join(tmpdir(), 'shadowfleet-browser-'));
}, 900_000);

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Takes the screenshot into this run's own directory, then puts a copy under SHOT_DIR by a rename:
 * another run of the suite on the machine keeps its screenshots under the same names, and a file
 * half-written by one is never what the other reads. Returns this run's own file.
 */
async function keepScreenshot(page: Page, name: string): Promise<string> {
  const own = join(dir, name);
  await page.screenshot({ path: own, fullPage: true });
  await mkdir(SHOT_DIR, { recursive: true });
  const partial = join(SHOT_DIR, `.${name}.${process.pid}.partial`);
  await copyFile(own, partial);
  await rename(partial, join(SHOT_DIR, name));
  return own;
}

async function open(path: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(path).href;
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems, requests, url };
}

describe('the report page in a headless browser', () => {
  it('draws every chart with its data points, logs no error and requests nothing but itself', async () => {
    const model = sampleModel();
    const path = await writeReportPage(join(dir, 'report.html'), model);
    const { page, problems, requests, url } = await open(path);

    const q = (sel: string) => page.locator(sel).count();
    const counts = {
      ratePoints: await q('svg[data-chart="rate"] circle.pt'),
      rateLines: await q('svg[data-chart="rate"] polyline.line'),
      throttlePoints: await q('svg[data-chart="rate"] circle.pt[data-series="throttles/s"]'),
      latencyBars: await q('svg[data-chart="latency"] rect.pt'),
      latencyMarkers: await q('svg[data-chart="latency"] line.marker'),
      outcomeBars: await q('svg[data-chart="outcomes"] rect.pt'),
      errorBars: await q('svg[data-chart="errors"] rect.pt'),
      convergencePoints: await q('svg[data-chart="convergence"] circle.pt'),
      scripts: await q('script'),
    };
    expect(counts.ratePoints).toBeGreaterThanOrEqual(model.timeline!.points.length * 2);
    expect(counts.throttlePoints).toBe(model.timeline!.points.length);
    expect(counts.rateLines).toBeGreaterThanOrEqual(3);
    expect(counts.latencyBars).toBe(model.latency!.buckets.length);
    expect(counts.latencyMarkers).toBe(4);
    expect(counts.outcomeBars).toBe(Object.keys(model.outcomes!).length);
    expect(counts.errorBars).toBe(Object.keys(model.errors!).length);
    expect(counts.convergencePoints).toBe(model.convergence!.points.length);
    expect(counts.scripts).toBe(0);

    // Every chart is laid out with a real size, and its marks sit inside it.
    const boxes = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((s) => {
        const r = s.getBoundingClientRect();
        return { chart: s.getAttribute('data-chart'), w: r.width, h: r.height };
      }),
    );
    expect(boxes.map((b) => b.chart).sort()).toEqual(['convergence', 'errors', 'latency', 'outcomes', 'rate']);
    for (const b of boxes) {
      expect(b.w).toBeGreaterThan(300);
      expect(b.h).toBeGreaterThan(60);
    }
    const tallest = await page.$$eval('svg[data-chart="latency"] rect.pt', (rects) =>
      Math.max(...rects.map((r) => r.getBoundingClientRect().height)),
    );
    expect(tallest).toBeGreaterThan(50);

    // User text stays text.
    expect(await page.locator('h1').innerText()).toContain('Rollout of config v2 <to> "fleet" & co');
    expect(await q('img')).toBe(0);

    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);

    const shot = await keepScreenshot(page, 'report-page.png');
    expect((await stat(shot)).size).toBeGreaterThan(20_000);
    await page.close();
  });

  it('draws the page of a real benchmark run against the emulator', async () => {
    // 2/s per operation (a bucket of 2): eight requests in flight outrun it however slow the
    // machine is, so every second of the run has throttles to draw.
    const emulator = await startEmulator({ quotas: { accountRps: 2 } });
    let path: string;
    try {
      const r = await runBench({
        endpoint: emulator.url,
        operations: { get: 2, update: 2, list: 1 },
        things: 30,
        durationMs: 2500,
        concurrency: 8,
        workers: 1,
        rate: 'off',
        requestAttempts: 1,
        report: join(dir, 'bench.html'),
      });
      path = r.report!;
      expect(r.throttles).toBeGreaterThan(0);
    } finally {
      await emulator.close();
    }
    const { page, problems, requests, url } = await open(path);
    expect(await page.locator('svg[data-chart="rate"] circle.pt[data-series="ops/s"]').count()).toBeGreaterThanOrEqual(
      2,
    );
    expect(
      await page.locator('svg[data-chart="rate"] circle.pt[data-series="throttles/s"]').count(),
    ).toBeGreaterThanOrEqual(2);
    expect(await page.locator('svg[data-chart="latency"] rect.pt').count()).toBeGreaterThan(1);
    expect(await page.locator('svg[data-chart="errors"] rect.pt[data-x="ThrottlingException"]').count()).toBe(1);
    expect(await page.locator('[data-section="table"] tbody tr').count()).toBe(3);
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    await keepScreenshot(page, 'bench-report-page.png');
    await page.close();
  });

  it('shows a page without charts cleanly when a run recorded nothing', async () => {
    const path = await writeReportPage(join(dir, 'empty.html'), {
      kind: 'bench',
      title: 'nothing ran',
      summary: [{ label: 'operations', value: 0 }],
    });
    const { page, problems, requests, url } = await open(path);
    expect(await page.locator('svg.chart').count()).toBe(0);
    expect(await page.locator('[data-section="summary"] td').first().innerText()).toBe('operations');
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    await page.close();
  });
});
