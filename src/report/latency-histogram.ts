/**
 * Latency distribution backed by an HDR histogram (hdr-histogram-js). Values are recorded in
 * microseconds (3 significant digits) and reported in milliseconds, so p50/p90/p99/max keep
 * their precision from tens of microseconds up to minutes.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/** Percentiles and extremes of a latency distribution, in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** One bar of the latency distribution chart: `count` values in [from, to) ms. */
export interface LatencyBucket {
  from: number;
  to: number;
  count: number;
}

/** A latency distribution as plain data (what a report page or a JSON result carries). */
export interface LatencyReport extends LatencySummary {
  /** Log-spaced buckets for the distribution chart. */
  buckets: LatencyBucket[];
  /** The percentile curve: [percentile, ms] pairs at 0, 50, 75, 90, 95, 99, 99.9, 99.99, 100. */
  percentiles: Array<[number, number]>;
  /** The whole histogram, compressed base64 (HdrHistogram's interchange format), microseconds. */
  encoded?: string;
}

const HIGHEST_US = 3_600_000_000; // one hour; larger values are clamped, not dropped
const CURVE = [0, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
}

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

export class LatencyHistogram {
  #h: Histogram;

  constructor() {
    this.#h = newHistogram();
  }

  /** Rebuilds a histogram from `encode()` output (e.g. sent by a worker thread). */
  static decode(encoded: string): LatencyHistogram {
    const out = new LatencyHistogram();
    out.#h.add(decodeFromCompressedBase64(encoded));
    return out;
  }

  /** Records one latency in milliseconds (negative and NaN values are ignored). */
  record(ms: number, count = 1): void {
    if (!(ms >= 0)) return;
    const us = Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000)));
    if (count === 1) this.#h.recordValue(us);
    else this.#h.recordValueWithCount(us, count);
  }

  /** Adds every value of `other` to this histogram. */
  add(other: LatencyHistogram): void {
    this.#h.add(other.#h);
  }

  get count(): number {
    return this.#h.totalCount;
  }

  /** The value (ms) at percentile `p` (0-100). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    // HDR answers the highest value equivalent to the bucket; never report more than the max seen.
    return round3(Math.min(this.#h.getValueAtPercentile(p), this.#h.maxValue) / 1000);
  }

  summary(): LatencySummary {
    const h = this.#h;
    if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    return {
      count: h.totalCount,
      min: round3(h.minNonZeroValue / 1000),
      mean: round3(h.mean / 1000),
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: round3(h.maxValue / 1000),
    };
  }

  /**
   * Log-spaced buckets between the smallest and the largest value (about `target` bars), for
   * the distribution chart. Counts are exact: each recorded value falls in exactly one bucket.
   */
  buckets(target = 24): LatencyBucket[] {
    const h = this.#h;
    if (h.totalCount === 0) return [];
    const lo = Math.max(1, h.minNonZeroValue);
    const hi = Math.max(lo + 1, h.maxValue + 1);
    const n = Math.max(1, Math.min(target, Math.ceil(Math.log2(hi / lo) * 4)));
    const step = Math.log(hi / lo) / n;
    const edges: number[] = [];
    for (let i = 0; i <= n; i++) edges.push(i === n ? hi : lo * Math.exp(step * i));
    const counts = new Array<number>(n).fill(0);
    let index = 0;
    for (const { value, count } of recordedValues(h)) {
      while (index < n - 1 && value >= edges[index + 1]!) index += 1;
      counts[index]! += count;
    }
    return counts.map((count, i) => ({ from: round3(edges[i]! / 1000), to: round3(edges[i + 1]! / 1000), count }));
  }

  report(options: { includeEncoded?: boolean; buckets?: number } = {}): LatencyReport {
    const out: LatencyReport = {
      ...this.summary(),
      buckets: this.buckets(options.buckets),
      percentiles: this.count === 0 ? [] : CURVE.map((p) => [p, this.percentile(p)] as [number, number]),
    };
    if (options.includeEncoded) out.encoded = this.encode();
    return out;
  }

  /** Compressed base64 form (structured-clone and JSON safe). */
  encode(): string {
    return encodeIntoCompressedBase64(this.#h);
  }

  reset(): void {
    this.#h.reset();
  }
}

/** Distinct recorded values (microseconds) with their counts, ascending. */
function* recordedValues(h: Histogram): Generator<{ value: number; count: number }> {
  // build() without WebAssembly returns a JsHistogram, whose RecordedValuesIterator is public.
  const it = (h as unknown as { recordedValuesIterator: RecordedIterator }).recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    yield { value: v.valueIteratedTo, count: v.countAtValueIteratedTo };
  }
}

interface RecordedIterator {
  reset(): void;
  hasNext(): boolean;
  next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
}
