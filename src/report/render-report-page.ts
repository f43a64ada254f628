/**
 * Renders a ReportModel as one self-contained HTML page: inline CSS, inline SVG charts, no
 * script and no external resource. A Content-Security-Policy forbids any fetch, so the page
 * opens the same from a laptop, an S3 bucket or a CI artifact. All user text is escaped.
 */
import { escapeHtml } from './escape-html.js';
import type { ReportModel, ReportTable, ReportValue, ReportWave } from './report-model.js';
import { PALETTE, barChart, histogramChart, lineChart, type LineSeries } from './svg-charts.js';
import { VERSION } from '../version.js';

const OUTCOME_COLORS: Record<string, string> = {
  written: '#16a34a',
  ok: '#16a34a',
  converged: '#16a34a',
  unchanged: '#9ca3af',
  rebased: '#0891b2',
  skipped: '#a3a3a3',
  'skipped-condition': '#d4d4d4',
  'would-write': '#2563eb',
  failed: '#dc2626',
  throttled: '#f59e0b',
  'not-converged': '#f59e0b',
  'too-large': '#7c3aed',
  invalid: '#db2777',
};

const CSS = `
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f9fafb;--card:#fff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 28px 12px;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:15px;margin:0 0 10px}
.badge{display:inline-block;font-size:11px;text-transform:uppercase;letter-spacing:.06em;background:#eef2ff;color:#3730a3;border-radius:4px;padding:2px 6px;margin-right:8px;vertical-align:middle}
.sub{color:var(--muted)}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px;padding:16px 28px 28px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px}
section.wide{grid-column:1/-1}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td .note{color:var(--muted);margin-left:6px}
.kv td:first-child{color:var(--muted);width:45%}
.chart{width:100%;height:auto;display:block}
.chart .grid{stroke:var(--line);stroke-width:1}
.chart .axis,.chart .tickline{stroke:#9ca3af;stroke-width:1}
.chart .tick{font-size:11px;fill:var(--muted)}
.chart .axis-label{font-size:12px;fill:var(--muted)}
.chart .line{fill:none;stroke-width:2;stroke-linejoin:round}
.chart .line.dashed{stroke-dasharray:6 4;stroke-width:1.5}
.chart .line.thin{stroke-width:1.2;opacity:.8}
.chart .area{opacity:.12}
.chart .muted{fill:var(--muted);font-size:13px}
.chart .bar-label,.chart .bar-value{font-size:12px;fill:var(--fg)}
.chart .marker{stroke-width:1.5;stroke-dasharray:4 3}
.chart .marker-label{font-size:11px;font-weight:600}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin-bottom:4px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
ul.notes{margin:0;padding-left:18px;color:var(--muted)}
footer{padding:0 28px 24px;color:var(--muted);font-size:12px}
`;

function cell(v: ReportValue): string {
  if (typeof v === 'number') return `<td class="num">${escapeHtml(formatValue(v))}</td>`;
  return `<td>${escapeHtml(v === null ? '' : String(v))}</td>`;
}

/** Numbers with thousands separators and at most 3 decimals. */
export function formatValue(v: ReportValue): string {
  if (typeof v !== 'number') return v === null ? '' : String(v);
  if (!Number.isFinite(v)) return String(v);
  const digits = Math.abs(v) >= 100 ? 1 : 3;
  return v.toLocaleString('en-US', { maximumFractionDigits: Number.isInteger(v) ? 0 : digits });
}

function table(t: ReportTable): string {
  const numeric = t.columns.map(
    (_, i) => t.rows.length > 0 && t.rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined),
  );
  const head = t.columns
    .map((c, i) => `<th${numeric[i] ? ' style="text-align:right"' : ''}>${escapeHtml(c)}</th>`)
    .join('');
  const body = t.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('');
  return `<section class="wide" data-section="table"><h2>${escapeHtml(t.title)}</h2><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></section>`;
}

function sortedEntries(o: Record<string, number>): Array<[string, number]> {
  return Object.entries(o)
    .filter(([, v]) => typeof v === 'number' && Number.isFinite(v))
    .sort((a, b) => b[1] - a[1]);
}

/** The waves of a progressive rollout: a row per wave (its gate and verdict), and a chart per gate of the shares it watched. */
function wavesSection(waves: readonly ReportWave[]): string {
  const pct = (x: number | undefined): string => (x === undefined ? '' : `${Math.round(x * 10) / 10}%`);
  const rows = waves.map((w) => {
    const g = w.gate;
    const gate =
      g === undefined
        ? 'none'
        : [
            g.converged === undefined ? '' : `converged ${pct(g.converged)}`,
            g.healthy === undefined ? '' : `healthy ${pct(g.healthy)}`,
            `within ${g.withinMs / 1000} s`,
          ]
            .filter(Boolean)
            .join(', ');
    const verdict = w.skipped === true ? 'not run' : (g?.verdict ?? '');
    return `<tr data-wave="${escapeHtml(w.label)}" data-verdict="${escapeHtml(verdict)}"><td>${escapeHtml(w.label)}</td><td>${w.targets.toLocaleString('en-US')}</td><td>${w.written.toLocaleString('en-US')}</td><td>${escapeHtml(gate)}</td><td class="verdict-${escapeHtml(verdict.replace(/ /g, '-'))}">${escapeHtml(verdict)}</td><td>${escapeHtml(g?.reason ?? '')}</td></tr>`;
  });
  const charts = waves
    .filter((w) => w.gate !== undefined && w.gate.points.length > 0)
    .map((w) => {
      const g = w.gate!;
      const last = g.points[g.points.length - 1]!.t;
      const series: LineSeries[] = [
        { name: 'converged', color: PALETTE[0]!, points: g.points.map((p) => [p.t, p.converged] as [number, number]) },
        { name: 'healthy', color: PALETTE[3]!, points: g.points.map((p) => [p.t, p.healthy] as [number, number]) },
      ];
      if (g.converged !== undefined)
        series.push({
          name: 'converged needed',
          color: PALETTE[0]!,
          dashed: true,
          thin: true,
          points: [
            [0, g.converged],
            [last, g.converged],
          ],
        });
      if (g.healthy !== undefined)
        series.push({
          name: 'healthy needed',
          color: PALETTE[3]!,
          dashed: true,
          thin: true,
          points: [
            [0, g.healthy],
            [last, g.healthy],
          ],
        });
      return `<h3>${escapeHtml(`Gate of wave ${w.label}: ${g.verdict}`)}</h3>${lineChart({ width: 1100, chart: `gate-${w.label}`, label: `gate of wave ${w.label}`, xLabel: 'seconds since the wave was written', yLabel: 'share of the wave (%)', yMax: 100, yUnit: '%', series })}`;
    });
  const head = '<tr><th>wave</th><th>targets</th><th>written</th><th>gate</th><th>verdict</th><th>why</th></tr>';
  return `<section class="wide" data-section="waves"><h2>Waves and gates</h2><table><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>${charts.join('')}</section>`;
}

/** The HTML page for a report model (a complete document, UTF-8). */
export function renderReportPage(model: ReportModel): string {
  const sections = [
    summarySection(model),
    timelineSection(model),
    latencySection(model),
    outcomesSection(model),
    errorsSection(model),
    convergenceSection(model),
    model.waves && model.waves.length > 0 ? wavesSection(model.waves) : undefined,
    ...(model.tables ?? []).map(table),
    notesSection(model),
  ].filter((s): s is string => s !== undefined);

  const when = model.generatedAt ?? new Date().toISOString();
  return `<!doctype html>
<html lang="en" data-kind="${escapeHtml(model.kind)}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="shadowfleet ${escapeHtml(VERSION)}">
<title>${escapeHtml(model.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1><span class="badge">${escapeHtml(model.kind)}</span>${escapeHtml(model.title)}</h1>${model.subtitle ? `<div class="sub">${escapeHtml(model.subtitle)}</div>` : ''}</header>
<main>
${sections.join('\n')}
</main>
<footer>${escapeHtml(`shadowfleet ${VERSION} · generated ${when}`)}</footer>
</body>
</html>
`;
}

function summarySection(model: ReportModel): string {
  const rows = model.summary
    .map((r) => {
      const note = r.note ? `<span class="note">${escapeHtml(r.note)}</span>` : '';
      return `<tr><td>${escapeHtml(r.label)}</td><td>${escapeHtml(formatValue(r.value))}${note}</td></tr>`;
    })
    .join('');
  return `<section data-section="summary"><h2>Summary</h2><table class="kv"><tbody>${rows}</tbody></table></section>`;
}

/** The rate (with its limit and, when there are several, a line per type) on the left axis; errors and throttles on the right. */
function timelineSection(model: ReportModel): string | undefined {
  if (!model.timeline || model.timeline.points.length === 0) return undefined;
  const pts = model.timeline.points;
  const rateLabel = model.timeline.rateLabel ?? 'ops/s';
  const series: LineSeries[] = [
    { name: rateLabel, color: PALETTE[0]!, points: pts.map((p) => [p.t, p.rate]), area: true },
  ];
  if (pts.some((p) => p.limit !== undefined)) {
    series.push({
      name: model.timeline.limitLabel ?? 'rate limit',
      color: '#6b7280',
      points: pts.filter((p) => p.limit !== undefined).map((p) => [p.t, p.limit!]),
      step: true,
      dashed: true,
    });
  }
  const types = [...new Set(pts.flatMap((p) => Object.keys(p.byType ?? {})))];
  if (types.length > 1) {
    types.forEach((type, i) => {
      series.push({
        name: `${type}/s`,
        color: PALETTE[(i + 2) % PALETTE.length]!,
        points: pts.map((p) => [p.t, p.byType?.[type] ?? 0]),
        thin: true,
      });
    });
  }
  if (pts.some((p) => (p.errors ?? 0) > 0)) {
    series.push({
      name: 'errors/s',
      color: PALETTE[4]!,
      points: pts.map((p) => [p.t, p.errors ?? 0]),
      axis: 'right',
    });
  }
  series.push({ name: 'throttles/s', color: PALETTE[1]!, points: pts.map((p) => [p.t, p.throttles]), axis: 'right' });
  return `<section class="wide" data-section="timeline"><h2>Rate and throttles over time</h2>${lineChart({ width: 1100, chart: 'rate', label: 'rate and throttles over time', xLabel: 'seconds since start', yLabel: rateLabel, rightLabel: 'throttles, errors per s', series })}</section>`;
}

function latencySection(model: ReportModel): string | undefined {
  if (!model.latency || !(model.latency.count > 0)) return undefined;
  const l = model.latency;
  const markers = [
    { name: 'p50', value: l.p50 },
    { name: 'p90', value: l.p90 },
    { name: 'p99', value: l.p99 },
    { name: 'max', value: l.max },
  ];
  const pct = `<table><thead><tr><th>count</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr></thead><tbody><tr>${[l.count, l.min, l.p50, l.p90, l.p99, l.p999, l.max].map((v) => cell(v)).join('')}</tr></tbody></table>`;
  return `<section data-section="latency"><h2>Latency distribution (ms)</h2>${histogramChart({ width: 600, chart: 'latency', label: 'latency distribution', buckets: l.buckets, markers, unit: 'ms' })}${pct}</section>`;
}

function outcomesSection(model: ReportModel): string | undefined {
  if (!model.outcomes || Object.keys(model.outcomes).length === 0) return undefined;
  const bars = sortedEntries(model.outcomes).map(([label, value], i) => ({
    label,
    value,
    color: OUTCOME_COLORS[label] ?? PALETTE[i % PALETTE.length]!,
  }));
  return `<section data-section="outcomes"><h2>${escapeHtml(model.outcomesTitle ?? 'Outcomes by type')}</h2>${barChart({ width: 600, chart: 'outcomes', label: 'outcomes by type', rows: bars })}</section>`;
}

function errorsSection(model: ReportModel): string | undefined {
  if (!model.errors || Object.keys(model.errors).length === 0) return undefined;
  const bars = sortedEntries(model.errors).map(([label, value]) => ({
    label,
    value,
    color: label === 'ThrottlingException' ? '#f59e0b' : '#dc2626',
  }));
  return `<section data-section="errors"><h2>Errors by AWS name</h2>${barChart({ width: 600, chart: 'errors', label: 'errors by AWS name', rows: bars })}</section>`;
}

function convergenceSection(model: ReportModel): string | undefined {
  if (!model.convergence || model.convergence.points.length === 0) return undefined;
  const c = model.convergence;
  const total = c.total > 0 ? c.total : 1;
  const points = c.points.map((p) => [p.t, (p.converged / total) * 100] as [number, number]);
  const last = c.points[c.points.length - 1]!;
  return `<section class="wide" data-section="convergence"><h2>Convergence over time</h2><p class="sub">${escapeHtml(`${last.converged.toLocaleString('en-US')} of ${c.total.toLocaleString('en-US')} targets report the new desired state`)}</p>${lineChart({ width: 1100, chart: 'convergence', label: 'convergence over time', xLabel: 'seconds since the rollout started', yLabel: 'converged (%)', yMax: 100, yUnit: '%', series: [{ name: 'converged share', color: PALETTE[3]!, points, area: true }] })}</section>`;
}

function notesSection(model: ReportModel): string | undefined {
  if (!model.notes || model.notes.length === 0) return undefined;
  return `<section class="wide" data-section="notes"><h2>Notes</h2><ul class="notes">${model.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>`;
}
