/**
 * Goals of the benchmark suite: each measured ratio or figure is compared with the goal an
 * issue set for it and marked PASS or MISS (or ERROR when the scenario could not run).
 */

export type GoalStatus = 'PASS' | 'MISS' | 'ERROR' | 'INFO';

export interface GoalRow {
  /** Scenario id, e.g. "client". */
  scenario: string;
  /** What is measured, e.g. "GetThingShadow ops/s vs AWS SDK v3". */
  metric: string;
  /** Our figure and the baseline's, when there is one. */
  ours?: number | string;
  baseline?: number | string;
  /** The compared value (a ratio, a share, MB, ...). */
  value?: number;
  unit?: string;
  /** Human form of the goal, e.g. ">= 3x". */
  goal: string;
  status: GoalStatus;
  note?: string;
}

export interface GoalCheck {
  scenario: string;
  metric: string;
  value: number | undefined;
  unit?: string;
  ours?: number | string;
  baseline?: number | string;
  /** `>=` or `<=` against `target`; `info` records a figure with no goal. */
  op: '>=' | '<=' | 'info';
  target?: number;
  goal?: string;
  note?: string;
}

export function check(c: GoalCheck): GoalRow {
  const row: GoalRow = {
    scenario: c.scenario,
    metric: c.metric,
    goal: c.goal ?? (c.op === 'info' ? '-' : `${c.op} ${c.target}${c.unit ?? ''}`),
    status: 'INFO',
  };
  if (c.ours !== undefined) row.ours = c.ours;
  if (c.baseline !== undefined) row.baseline = c.baseline;
  if (c.value !== undefined && Number.isFinite(c.value)) row.value = round(c.value);
  if (c.unit !== undefined) row.unit = c.unit;
  if (c.note !== undefined) row.note = c.note;
  if (c.op === 'info') return row;
  if (c.value === undefined || !Number.isFinite(c.value)) {
    row.status = 'ERROR';
    row.note ??= 'not measured';
    return row;
  }
  row.status = (c.op === '>=' ? c.value >= c.target! : c.value <= c.target!) ? 'PASS' : 'MISS';
  return row;
}

export function errorRow(scenario: string, metric: string, goal: string, err: unknown): GoalRow {
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  return { scenario, metric, goal, status: 'ERROR', note: message.slice(0, 200) };
}

export function round(v: number): number {
  if (Math.abs(v) >= 100) return Math.round(v);
  if (Math.abs(v) >= 1) return Math.round(v * 100) / 100;
  return Math.round(v * 10000) / 10000;
}

function fmt(v: number | string | undefined, unit = ''): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return `${round(v).toLocaleString('en-US')}${unit}`;
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The goals as a Markdown table. */
export function goalsMarkdown(rows: GoalRow[]): string {
  const lines = [
    '| scenario | metric | shadowfleet | baseline | result | goal | status |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows) {
    const status =
      r.status === 'PASS'
        ? 'PASS'
        : r.status === 'MISS'
          ? '**MISS**'
          : r.status === 'ERROR'
            ? `ERROR${r.note ? `: ${r.note}` : ''}`
            : 'info';
    const metric = r.note && r.status !== 'ERROR' ? `${r.metric} (${r.note})` : r.metric;
    lines.push(
      `| ${mdEscape(r.scenario)} | ${mdEscape(metric)} | ${mdEscape(fmt(r.ours))} | ${mdEscape(fmt(r.baseline))} | ${mdEscape(fmt(r.value, r.unit ?? ''))} | ${mdEscape(r.goal)} | ${mdEscape(status)} |`,
    );
  }
  return lines.join('\n');
}

/** The goals as a plain aligned table for the terminal. */
export function goalsText(rows: GoalRow[]): string {
  const grid = [
    ['scenario', 'metric', 'shadowfleet', 'baseline', 'result', 'goal', 'status'],
    ...rows.map((r) => [
      r.scenario,
      r.note && r.status !== 'ERROR' ? `${r.metric} (${r.note})` : r.metric,
      fmt(r.ours),
      fmt(r.baseline),
      fmt(r.value, r.unit ?? ''),
      r.goal,
      r.status + (r.status === 'ERROR' && r.note ? ` (${r.note})` : ''),
    ]),
  ];
  const widths = grid[0]!.map((_, i) => Math.max(...grid.map((row) => row[i]!.length)));
  return grid
    .map((row) =>
      row
        .map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
