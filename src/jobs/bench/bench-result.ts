/**
 * What a bench run returns: the types the job (bench.ts) builds and the report (bench-report.ts)
 * reads, here so that neither module imports the other for them.
 */

import type { LatencyReport, LatencySummary } from '../../report/latency-histogram.js';
import type { TimelinePoint } from '../../report/report-model.js';
import type { BenchOperation, BenchPricing } from './bench-scenario.js';

export interface ResolvedBenchOptions {
  operations: Record<BenchOperation, number>;
  things: number;
  prefix: string;
  shadowName: string | undefined;
  documentBytes: number[];
  rate: number | 'off' | undefined;
  concurrency: number;
  durationMs: number | undefined;
  count: number | undefined;
  workers: number;
  prepare: boolean;
  cleanup: boolean;
  pricing: Required<BenchPricing>;
  intervalMs: number;
  warmupMs: number;
}

/** Per-operation figures of a run. */
export interface BenchOperationResult {
  count: number;
  ok: number;
  failed: number;
  opsPerSecond: number;
  latency: LatencySummary;
  bytesSent: number;
  bytesReceived: number;
}

export interface BenchResult {
  endpoint: string;
  /** True when the run used the emulator in a child process. */
  emulator: boolean;
  options: ResolvedBenchOptions;
  startedAt: string;
  endedAt: string;
  /** Wall time of the measured phase, ms. */
  durationMs: number;
  interrupted: boolean;
  /** Operations finished in the measured phase (ok or not). */
  operations: number;
  ok: number;
  /** Operations that ended in an error other than throttling or not-found. */
  failed: number;
  opsPerSecond: number;
  latency: LatencyReport;
  byOperation: Partial<Record<BenchOperation, BenchOperationResult>>;
  byOutcome: Record<string, number>;
  /** Errors by AWS error name (or error class when the service did not answer). */
  errors: Record<string, number>;
  /** HTTP requests sent, client retries included. */
  requests: number;
  /** 429 ThrottlingException answers seen (retried or not). */
  throttles: number;
  bytesSent: number;
  bytesReceived: number;
  /** Billed shadow operations (metered per started `meterBytes`). */
  billedOperations: number;
  /** Billed messages (Publish, metered per started `publishMeterBytes`). */
  billedMessages: number;
  estimatedCostUsd: number;
  timeline: Array<TimelinePoint & { byOperation: Partial<Record<BenchOperation, number>> }>;
  /** Operations sent during the warm-up (not measured). */
  warmup?: { operations: number; durationMs: number };
  prepare?: { operations: number; failed: number; durationMs: number };
  cleanup?: { deleted: number; notFound: number; failed: number; durationMs: number };
  /** The emulator's own counters at the end (emulator runs only). */
  emulatorStats?: unknown;
  /** Absolute path of the report page, when written. */
  report?: string;
}
