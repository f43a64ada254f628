/** The human summary of a snapshot: printed by `snapshot` and, per account, by `snapshot --accounts`. */
import type { SnapshotResult } from '../index.js';

export function formatSnapshotResult(r: SnapshotResult): string {
  const m = r.manifest;
  const lines = [
    `snapshot written to ${r.location}`,
    `  things    ${r.things}`,
    `  shadows   ${r.records}`,
    `  failed    ${r.failed}`,
    `  outcomes  ${Object.entries(m.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  data      ${m.data.file}, ${m.data.bytes} bytes, sha256 ${m.data.sha256}`,
    `  time      ${(r.durationMs / 1000).toFixed(1)} s, ${r.recordsPerSecond.toFixed(0)} shadows/s, ${r.requests} requests, ${r.throttles} throttled`,
  ];
  if (m.failures.total > 0) {
    lines.push(`  could not read (${m.failures.total}, listed in manifest.json):`);
    for (const f of m.failures.items.slice(0, 10))
      lines.push(
        `    ${f.thing}${f.shadow === undefined ? '' : f.shadow === null ? ' (classic)' : ` "${f.shadow}"`}: ${f.message}`,
      );
  }
  return lines.join('\n');
}
