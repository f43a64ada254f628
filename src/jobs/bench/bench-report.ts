/**
 * Turns a BenchResult into the report page's model (and the human table of the CLI).
 */
import type { ReportModel, ReportRow } from '../../report/report-model.js';
import type { BenchResult } from './bench-result.js';
import { BENCH_OPERATIONS } from './bench-scenario.js';

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatUsd(v: number): string {
  return v >= 1 ? `US$${v.toFixed(2)}` : `US$${v.toPrecision(3)}`;
}

/** "get 50%, update 50%" */
export function describeMix(ops: Record<string, number>): string {
  const total = Object.values(ops).reduce((s, w) => s + w, 0) || 1;
  return Object.entries(ops)
    .filter(([, w]) => w > 0)
    .map(([op, w]) => `${op} ${Math.round((w / total) * 1000) / 10}%`)
    .join(', ');
}

function outcomeNote(r: BenchResult): string {
  const parts = [`${r.ok.toLocaleString('en-US')} ok`];
  for (const k of ['throttled', 'not-found'])
    if (r.byOutcome[k]) parts.push(`${r.byOutcome[k]!.toLocaleString('en-US')} ${k}`);
  parts.push(`${r.failed.toLocaleString('en-US')} failed`);
  return parts.join(', ');
}

export function benchSummaryRows(r: BenchResult): ReportRow[] {
  const o = r.options;
  const rows: ReportRow[] = [
    { label: 'endpoint', value: r.emulator ? `${r.endpoint} (emulator, own process)` : r.endpoint },
    { label: 'operation mix', value: describeMix(o.operations) },
    {
      label: 'things',
      value: o.things,
      note: `${o.prefix}0 .. ${o.prefix}${o.things - 1}${o.shadowName ? `, shadow "${o.shadowName}"` : ', classic shadow'}`,
    },
    { label: 'document sizes', value: o.documentBytes.join(', '), note: 'bytes' },
    {
      label: 'load',
      value: `${o.concurrency} in flight, ${o.workers} worker${o.workers === 1 ? '' : 's'}`,
      note:
        o.rate === undefined
          ? 'account quota gates (4,000/s per operation)'
          : o.rate === 'off'
            ? 'no rate gate'
            : `target ${o.rate} ops/s`,
    },
    { label: 'measured for', value: Math.round(r.durationMs) / 1000, note: 's' },
    { label: 'operations', value: r.operations, note: outcomeNote(r) },
    { label: 'throughput', value: r.opsPerSecond, note: 'ops/s' },
    {
      label: 'latency p50 / p90 / p99 / max',
      value: `${r.latency.p50} / ${r.latency.p90} / ${r.latency.p99} / ${r.latency.max}`,
      note: 'ms',
    },
    { label: 'requests', value: r.requests, note: 'client retries included' },
    {
      label: 'throttles',
      value: r.throttles,
      note: r.requests > 0 ? `${(Math.round((r.throttles / r.requests) * 10000) / 100).toString()}% of requests` : '',
    },
    { label: 'bytes sent / received', value: `${formatBytes(r.bytesSent)} / ${formatBytes(r.bytesReceived)}` },
    { label: 'billed operations', value: r.billedOperations, note: `per started ${o.pricing.meterBytes} B` },
  ];
  if (r.billedMessages > 0)
    rows.push({
      label: 'billed messages',
      value: r.billedMessages,
      note: `per started ${o.pricing.publishMeterBytes} B`,
    });
  rows.push({
    label: 'estimated cost',
    value: formatUsd(r.estimatedCostUsd),
    note: `at US$${o.pricing.perMillion} per million shadow operations${r.billedMessages > 0 ? `, US$${o.pricing.publishPerMillion} per million messages` : ''}`,
  });
  if (r.cleanup)
    rows.push({
      label: 'cleanup',
      value: `${r.cleanup.deleted} deleted, ${r.cleanup.notFound} not found, ${r.cleanup.failed} failed`,
    });
  if (r.interrupted) rows.push({ label: 'interrupted', value: 'yes', note: 'partial figures' });
  return rows;
}

export function benchReportModel(r: BenchResult): ReportModel {
  const perOp = BENCH_OPERATIONS.filter((op) => r.byOperation[op] !== undefined).map((op) => {
    const s = r.byOperation[op]!;
    return [
      op,
      s.count,
      s.ok,
      s.failed,
      s.opsPerSecond,
      s.latency.p50,
      s.latency.p90,
      s.latency.p99,
      s.latency.max,
      s.bytesSent,
      s.bytesReceived,
    ];
  });
  const limit = typeof r.options.rate === 'number' ? r.options.rate : undefined;
  const model: ReportModel = {
    kind: 'bench',
    title: `Benchmark: ${describeMix(r.options.operations)}`,
    subtitle: `${r.endpoint} · ${r.startedAt}`,
    generatedAt: r.endedAt,
    summary: benchSummaryRows(r),
    timeline: {
      rateLabel: 'ops/s',
      limitLabel: 'target rate',
      points: r.timeline.map((p) => ({
        t: p.t,
        rate: p.rate,
        throttles: p.throttles,
        errors: p.errors,
        byType: p.byOperation,
        ...(limit === undefined ? {} : { limit }),
      })),
    },
    latency: r.latency,
    outcomes: r.byOutcome,
    outcomesTitle: 'Outcomes by type',
    errors: r.errors,
    tables: [
      {
        title: 'By operation',
        columns: [
          'operation',
          'count',
          'ok',
          'failed',
          'ops/s',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          'max ms',
          'bytes sent',
          'bytes received',
        ],
        rows: perOp,
      },
    ],
    notes: [
      'Latency is the round trip of the last HTTP attempt of each operation (waits in the rate gates are pacing, not latency), recorded in an HDR histogram.',
      `Billed operations: one per started ${r.options.pricing.meterBytes} bytes of the larger of request and response; the cost is an estimate from list prices, set your own with the pricing options.`,
    ],
  };
  return model;
}
