/**
 * Human output helpers shared by the commands. Results go to stdout through `ctx.out`; these
 * only format.
 */

export type Cell = string | number | boolean | null | undefined;

/** Left-aligned text table with a header row; numbers are right-aligned. */
export function formatTable(rows: ReadonlyArray<Record<string, Cell>>, columns?: ReadonlyArray<string>): string {
  const cols = columns ?? (rows.length > 0 ? Object.keys(rows[0]!) : []);
  if (cols.length === 0) return '';
  const text = (v: Cell): string => (v === null || v === undefined ? '' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const line = (cells: Cell[], numeric: boolean[]): string =>
    cells
      .map((v, i) => (numeric[i] ? text(v).padStart(widths[i]!) : text(v).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const numeric = cols.map((c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number'));
  const out = [
    line(
      [...cols],
      numeric.map(() => false),
    ),
    line(
      widths.map((w) => '-'.repeat(w)),
      numeric.map(() => false),
    ),
  ];
  for (const r of rows)
    out.push(
      line(
        cols.map((c) => r[c]),
        numeric,
      ),
    );
  return out.join('\n');
}

/** A summary as aligned `key  value` lines (the human form of a job's result). */
export function formatPairs(rows: ReadonlyArray<readonly [string, string]>): string {
  const w = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** Pretty JSON for humans (two-space indent). */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** `thing "x" classic shadow` / `thing "x" shadow "y"`. */
export function describeShadow(thingName: string, shadowName?: string): string {
  return shadowName === undefined
    ? `thing "${thingName}" classic shadow`
    : `thing "${thingName}" shadow "${shadowName}"`;
}

/** Epoch seconds or milliseconds as an ISO date (values below 1e12 are seconds). */
export function formatEpoch(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  return new Date(value < 1e12 ? value * 1000 : value).toISOString();
}

/** Bytes as UTF-8 text when they decode cleanly and are printable, else base64 with a marker. */
export function formatPayload(bytes: Uint8Array): string {
  if (bytes.byteLength === 0) return '(empty)';
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // eslint-disable-next-line no-control-regex
    if (!/[\u0000-\u0008\u000e-\u001f]/.test(text)) return text;
  } catch {
    // not UTF-8
  }
  return `base64:${Buffer.from(bytes).toString('base64')}`;
}
