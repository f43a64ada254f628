/** Durations as the spec files and the command line write them. No dependencies, so the CLI can parse flags before loading a job. */
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses `90s`, `5m`, `1h`, `250ms`, `1m30s` or a bare number of seconds into milliseconds.
 * Returns undefined when the text is not a duration.
 */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * 1000 : undefined;
  const s = text.trim();
  if (s === '') return undefined;
  let total = 0;
  let rest = s;
  // compound forms such as 1m30s: consume unit groups left to right
  const group = /^(\d+(?:\.\d+)?)(ms|s|m|h)/;
  if (!DURATION_RE.test(s)) {
    while (rest.length > 0) {
      const m = group.exec(rest);
      if (!m) return undefined;
      total += Number(m[1]) * UNIT_MS[m[2]!]!;
      rest = rest.slice(m[0].length);
    }
    return total;
  }
  const m = DURATION_RE.exec(s)!;
  return Number(m[1]) * UNIT_MS[m[2] ?? 's']!;
}
