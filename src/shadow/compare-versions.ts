/** A dotted version such as `1.4`, `1.4.10`, `2.0.0-rc.1` or `v3.1` (a leading `v` is ignored). */
const VERSION = /^v?\d+(\.\d+)*([-+][0-9A-Za-z.-]*)?$/;

/** True when `s` reads as a dotted version (at least one dot, or a `v` prefix), e.g. `1.5.0`. */
export function isDottedVersion(s: string): boolean {
  return VERSION.test(s) && (s.includes('.') || s.startsWith('v'));
}

/**
 * Compares two dotted versions numerically segment by segment (`1.10.0` > `1.9.3`); missing
 * segments count as 0 (`1.5` == `1.5.0`). A pre-release suffix (`-rc.1`) sorts before the same
 * version without one, and two suffixes compare as text; a build suffix (`+...`) is ignored.
 * Returns a negative number, 0 or a positive number. Firmware versions are often not semver
 * (`1.4`, `2.0.10.3`), which is why this is not `semver.compare`.
 */
export function compareVersions(a: string, b: string): number {
  const [an, ap] = split(a);
  const [bn, bp] = split(b);
  for (let i = 0; i < Math.max(an.length, bn.length); i++) {
    const d = (an[i] ?? 0) - (bn[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (ap === bp) return 0;
  if (ap === '') return 1;
  if (bp === '') return -1;
  return ap < bp ? -1 : 1;
}

function split(v: string): [number[], string] {
  let s = v.startsWith('v') ? v.slice(1) : v;
  const plus = s.indexOf('+');
  if (plus >= 0) s = s.slice(0, plus);
  const dash = s.indexOf('-');
  const pre = dash >= 0 ? s.slice(dash + 1) : '';
  const core = dash >= 0 ? s.slice(0, dash) : s;
  return [core.split('.').map((p) => Number(p)), pre];
}
