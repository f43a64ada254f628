/**
 * Hand-written inline SVG charts for the report page: no library, no script, no fetch. Every
 * chart is an <svg data-chart="..."> whose data points are marks with class "pt" carrying
 * data-x/data-y, so a browser test can check what was drawn.
 */
import { escapeHtml } from './escape-html.js';

const DEFAULT_WIDTH = 760;
const H = 280;
const TOP = 16;
const BOTTOM = 44;
const LEFT = 64;

export const PALETTE = Object.freeze([
  '#2563eb',
  '#dc2626',
  '#f59e0b',
  '#16a34a',
  '#7c3aed',
  '#0891b2',
  '#db2777',
  '#65a30d',
  '#9ca3af',
]);

export interface LineSeries {
  name: string;
  color: string;
  points: Array<[number, number]>;
  /** Plot against the right-hand axis (e.g. throttles beside the rate). */
  axis?: 'left' | 'right';
  /** Fill the area under the line. */
  area?: boolean;
  /** Draw as steps (a configured limit). */
  step?: boolean;
  dashed?: boolean;
  /** A secondary line: thinner, no point marks. */
  thin?: boolean;
}

export interface LineChartOptions {
  chart: string;
  label: string;
  xLabel: string;
  yLabel: string;
  rightLabel?: string;
  series: LineSeries[];
  /** Fixed top of the left axis (e.g. 100 for a percentage). */
  yMax?: number;
  yUnit?: string;
  /** viewBox width: about the width the chart is shown at, so text keeps its size. */
  width?: number;
}

/** Rounds a tick step to 1, 2 or 5 times a power of ten. */
export function niceStep(range: number, count: number): number {
  if (!(range > 0)) return 1;
  const raw = range / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** Short axis labels: 950, 1.2k, 3.4M, 0.25. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  if (a >= 1) return trim(v);
  return String(Number(v.toPrecision(2)));
}

function trim(v: number): string {
  return String(Math.round(v * 10) / 10);
}

const f1 = (v: number): string => (Math.round(v * 10) / 10).toString();

function axisTop(max: number): { top: number; step: number } {
  const m = max > 0 ? max : 1;
  const step = niceStep(m, 5);
  return { top: Math.ceil(m / step) * step, step };
}

/** Thins a series to at most `max` points by averaging neighbours (keeps the shape, bounds the page size). */
function thin(points: Array<[number, number]>, max: number): Array<[number, number]> {
  if (points.length <= max) return points;
  const per = Math.ceil(points.length / max);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < points.length; i += per) {
    const slice = points.slice(i, i + per);
    const y = slice.reduce((s, p) => s + p[1], 0) / slice.length;
    out.push([slice[slice.length - 1]![0], y]);
  }
  return out;
}

function empty(chart: string, label: string, message: string, W = DEFAULT_WIDTH): string {
  return `<svg class="chart" data-chart="${escapeHtml(chart)}" role="img" aria-label="${escapeHtml(label)}" viewBox="0 0 ${W} 80" xmlns="http://www.w3.org/2000/svg"><text x="${W / 2}" y="44" text-anchor="middle" class="muted">${escapeHtml(message)}</text></svg>`;
}

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? DEFAULT_WIDTH;
  const series = o.series.map((s) => ({
    ...s,
    points: thin(
      s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])),
      400,
    ),
  }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return empty(o.chart, o.label, 'no data', W);
  const hasRight = series.some((s) => s.axis === 'right');
  const right = hasRight ? 64 : 24;
  const pw = W - LEFT - right;
  const ph = H - TOP - BOTTOM;
  const xMin = Math.min(0, ...all.map((p) => p[0]));
  const xMaxRaw = Math.max(...all.map((p) => p[0]));
  const xs = axisTop(xMaxRaw - xMin);
  const xMax = xMin + xs.top;
  const left =
    o.yMax !== undefined
      ? { top: o.yMax, step: niceStep(o.yMax, 5) }
      : axisTop(Math.max(0, ...series.filter((s) => s.axis !== 'right').flatMap((s) => s.points.map((p) => p[1]))));
  const rightAxis = axisTop(
    Math.max(0, ...series.filter((s) => s.axis === 'right').flatMap((s) => s.points.map((p) => p[1]))),
  );
  const X = (x: number): number => LEFT + ((x - xMin) / (xMax - xMin || 1)) * pw;
  const Y = (y: number, axis: 'left' | 'right' | undefined): number => {
    const top = axis === 'right' ? rightAxis.top : left.top;
    return TOP + ph - (Math.min(Math.max(y, 0), top) / (top || 1)) * ph;
  };

  const parts: string[] = [];
  // grid and left ticks
  for (let k = 0; k * left.step <= left.top + left.step / 2; k++) {
    const v = k * left.step;
    const y = f1(Y(v, 'left'));
    parts.push(`<line class="grid" x1="${LEFT}" x2="${LEFT + pw}" y1="${y}" y2="${y}"/>`);
    parts.push(
      `<text class="tick" x="${LEFT - 6}" y="${y}" dy="0.32em" text-anchor="end">${escapeHtml(formatTick(v))}${o.yUnit ? escapeHtml(o.yUnit) : ''}</text>`,
    );
  }
  if (hasRight) {
    for (let k = 0; k * rightAxis.step <= rightAxis.top + rightAxis.step / 2; k++) {
      const v = k * rightAxis.step;
      parts.push(
        `<text class="tick right" x="${LEFT + pw + 6}" y="${f1(Y(v, 'right'))}" dy="0.32em">${escapeHtml(formatTick(v))}</text>`,
      );
    }
  }
  for (let k = 0; xMin + k * xs.step <= xMax + xs.step / 2; k++) {
    const v = xMin + k * xs.step;
    const x = f1(X(v));
    parts.push(`<line class="tickline" x1="${x}" x2="${x}" y1="${TOP + ph}" y2="${TOP + ph + 4}"/>`);
    parts.push(
      `<text class="tick" x="${x}" y="${TOP + ph + 16}" text-anchor="middle">${escapeHtml(formatTick(v))}</text>`,
    );
  }
  parts.push(`<line class="axis" x1="${LEFT}" x2="${LEFT + pw}" y1="${TOP + ph}" y2="${TOP + ph}"/>`);
  parts.push(
    `<text class="axis-label" x="${LEFT + pw / 2}" y="${H - 6}" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`,
  );
  parts.push(
    `<text class="axis-label" transform="translate(14 ${TOP + ph / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(o.yLabel)}</text>`,
  );
  if (hasRight && o.rightLabel) {
    parts.push(
      `<text class="axis-label" transform="translate(${W - 8} ${TOP + ph / 2}) rotate(90)" text-anchor="middle">${escapeHtml(o.rightLabel)}</text>`,
    );
  }

  series.forEach((s, si) => {
    if (s.points.length === 0) return;
    const coords: string[] = [];
    s.points.forEach(([x, y], i) => {
      if (s.step && i > 0) coords.push(`${f1(X(x))},${f1(Y(s.points[i - 1]![1], s.axis))}`);
      coords.push(`${f1(X(x))},${f1(Y(y, s.axis))}`);
    });
    const color = escapeHtml(s.color);
    if (s.area) {
      const base = f1(Y(0, s.axis));
      parts.push(
        `<polygon class="area" fill="${color}" points="${f1(X(s.points[0]![0]))},${base} ${coords.join(' ')} ${f1(X(s.points[s.points.length - 1]![0]))},${base}"/>`,
      );
    }
    parts.push(
      `<polyline class="line${s.dashed ? ' dashed' : ''}${s.thin ? ' thin' : ''}" data-series="${escapeHtml(s.name)}" stroke="${color}" points="${coords.join(' ')}"/>`,
    );
    if (!s.step && !s.thin) {
      const r = s.points.length > 120 ? 1.6 : 2.6;
      for (const [x, y] of s.points) {
        parts.push(
          `<circle class="pt" data-series="${escapeHtml(s.name)}" data-x="${x}" data-y="${Math.round(y * 1000) / 1000}" cx="${f1(X(x))}" cy="${f1(Y(y, s.axis))}" r="${r}" fill="${color}"><title>${escapeHtml(`${s.name}: ${formatTick(y)} at ${formatTick(x)} s`)}</title></circle>`,
        );
      }
    }
    void si;
  });

  const legend = series
    .map(
      (s) =>
        `<span class="key"><i style="background:${escapeHtml(s.color)}"></i>${escapeHtml(s.name)}${s.axis === 'right' ? ' (right axis)' : ''}</span>`,
    )
    .join('');
  return `<div class="legend">${legend}</div><svg class="chart" data-chart="${escapeHtml(o.chart)}" role="img" aria-label="${escapeHtml(o.label)}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

export interface BarRow {
  label: string;
  value: number;
  color?: string;
}

/** Horizontal bars with label, count and share of the total. */
export function barChart(o: { chart: string; label: string; rows: BarRow[]; width?: number }): string {
  const W = o.width ?? DEFAULT_WIDTH;
  const rows = o.rows.filter((r) => Number.isFinite(r.value));
  if (rows.length === 0) return empty(o.chart, o.label, 'nothing recorded', W);
  const total = rows.reduce((s, r) => s + r.value, 0);
  const max = Math.max(...rows.map((r) => r.value), 1);
  const rowH = 28;
  const labelW = Math.min(210, Math.round(W * 0.3));
  const valueW = 130;
  const bw = W - labelW - valueW - 16;
  const h = rows.length * rowH + 12;
  const parts = rows.map((r, i) => {
    const y = 6 + i * rowH;
    const w = r.value > 0 ? Math.max(2, (r.value / max) * bw) : 0;
    const share = total > 0 ? ` (${(Math.round((r.value / total) * 1000) / 10).toString()}%)` : '';
    const color = escapeHtml(r.color ?? PALETTE[i % PALETTE.length]!);
    return (
      `<text class="bar-label" x="${labelW - 8}" y="${y + rowH / 2 - 2}" dy="0.32em" text-anchor="end">${escapeHtml(clip(r.label, 30))}</text>` +
      `<rect class="pt bar" data-x="${escapeHtml(r.label)}" data-y="${r.value}" x="${labelW}" y="${y + 3}" width="${f1(w)}" height="${rowH - 10}" rx="3" fill="${color}"><title>${escapeHtml(`${r.label}: ${r.value.toLocaleString('en-US')}${share}`)}</title></rect>` +
      `<text class="bar-value" x="${labelW + w + 8}" y="${y + rowH / 2 - 2}" dy="0.32em">${escapeHtml(r.value.toLocaleString('en-US') + share)}</text>`
    );
  });
  return `<svg class="chart" data-chart="${escapeHtml(o.chart)}" role="img" aria-label="${escapeHtml(o.label)}" viewBox="0 0 ${W} ${h}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export interface HistogramBar {
  from: number;
  to: number;
  count: number;
}

/** Latency distribution: log-spaced buckets as bars, with markers for the named percentiles. */
export function histogramChart(o: {
  chart: string;
  label: string;
  buckets: HistogramBar[];
  markers: Array<{ name: string; value: number }>;
  unit: string;
  width?: number;
}): string {
  const W = o.width ?? DEFAULT_WIDTH;
  const buckets = o.buckets.filter((b) => b.to > b.from);
  if (buckets.length === 0) return empty(o.chart, o.label, 'no latencies recorded', W);
  const pw = W - LEFT - 24;
  const ph = H - TOP - BOTTOM;
  const maxCount = Math.max(...buckets.map((b) => b.count), 1);
  const ys = axisTop(maxCount);
  const lo = Math.log(buckets[0]!.from > 0 ? buckets[0]!.from : 1e-3);
  const hi = Math.log(buckets[buckets.length - 1]!.to);
  const X = (v: number): number => LEFT + ((Math.log(Math.max(v, 1e-6)) - lo) / (hi - lo || 1)) * pw;
  const Y = (c: number): number => TOP + ph - (c / ys.top) * ph;
  const parts: string[] = [];
  for (let k = 0; k * ys.step <= ys.top + ys.step / 2; k++) {
    const v = k * ys.step;
    parts.push(`<line class="grid" x1="${LEFT}" x2="${LEFT + pw}" y1="${f1(Y(v))}" y2="${f1(Y(v))}"/>`);
    parts.push(
      `<text class="tick" x="${LEFT - 6}" y="${f1(Y(v))}" dy="0.32em" text-anchor="end">${escapeHtml(formatTick(v))}</text>`,
    );
  }
  for (const b of buckets) {
    const x0 = X(b.from);
    const x1 = X(b.to);
    parts.push(
      `<rect class="pt bar" data-x="${b.from}" data-y="${b.count}" x="${f1(x0 + 0.5)}" y="${f1(Y(b.count))}" width="${f1(Math.max(1, x1 - x0 - 1))}" height="${f1(TOP + ph - Y(b.count))}" fill="${PALETTE[0]}"><title>${escapeHtml(`${formatTick(b.from)}-${formatTick(b.to)} ${o.unit}: ${b.count.toLocaleString('en-US')}`)}</title></rect>`,
    );
  }
  // x ticks at decades and 2/5 steps inside the range
  const from = buckets[0]!.from;
  const to = buckets[buckets.length - 1]!.to;
  for (let e = Math.floor(Math.log10(from)) - 1; e <= Math.ceil(Math.log10(to)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v < from * 0.999 || v > to * 1.001) continue;
      const x = f1(X(v));
      parts.push(`<line class="tickline" x1="${x}" x2="${x}" y1="${TOP + ph}" y2="${TOP + ph + 4}"/>`);
      parts.push(
        `<text class="tick" x="${x}" y="${TOP + ph + 16}" text-anchor="middle">${escapeHtml(formatTick(v))}</text>`,
      );
    }
  }
  const markerColors = ['#16a34a', '#f59e0b', '#dc2626', '#7c3aed'];
  o.markers.forEach((m, i) => {
    if (!(m.value > 0)) return;
    const xv = Math.min(LEFT + pw, Math.max(LEFT, X(m.value)));
    const x = f1(xv);
    const c = markerColors[i % markerColors.length];
    // Labels right of the line, or left of it near the right edge, one row per marker.
    const end = xv > LEFT + pw * 0.7;
    parts.push(
      `<line class="marker" data-marker="${escapeHtml(m.name)}" x1="${x}" x2="${x}" y1="${TOP}" y2="${TOP + ph}" stroke="${c}"/>`,
    );
    parts.push(
      `<text class="marker-label" x="${x}" y="${TOP + 10 + i * 13}" dx="${end ? -4 : 4}"${end ? ' text-anchor="end"' : ''} fill="${c}">${escapeHtml(`${m.name} ${formatTick(m.value)} ${o.unit}`)}</text>`,
    );
  });
  parts.push(`<line class="axis" x1="${LEFT}" x2="${LEFT + pw}" y1="${TOP + ph}" y2="${TOP + ph}"/>`);
  parts.push(
    `<text class="axis-label" x="${LEFT + pw / 2}" y="${H - 6}" text-anchor="middle">${escapeHtml(`latency (${o.unit}, log scale)`)}</text>`,
  );
  parts.push(
    `<text class="axis-label" transform="translate(14 ${TOP + ph / 2}) rotate(-90)" text-anchor="middle">requests</text>`,
  );
  return `<svg class="chart" data-chart="${escapeHtml(o.chart)}" role="img" aria-label="${escapeHtml(o.label)}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}
