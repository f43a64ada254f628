import type { EmulatorOperation, ResolvedEmulatorOptions } from './emulator-options.js';
import { seededRandom } from './seeded-random.js';

export type FaultKind = 'internalError' | 'unavailable' | 'reset' | 'throttled';

/** Seeded fault draws per request: 500, 503, a connection reset or a 429 throttle, and added latency, per operation. */
export class FaultInjector {
  readonly #options: ResolvedEmulatorOptions['faults'];
  readonly #random: () => number;
  readonly #cut500: number;
  readonly #cut503: number;
  readonly #cutReset: number;
  /** True when no operation has a fault rate (the hot path skips the draw). */
  readonly enabled: boolean;

  constructor(options: ResolvedEmulatorOptions['faults']) {
    this.#options = options;
    this.#random = seededRandom(options.seed);
    const k = options.kinds;
    const total = k.internalError + k.unavailable + k.reset + k.throttled;
    this.#cut500 = total === 0 ? 0 : k.internalError / total;
    this.#cut503 = total === 0 ? 0 : (k.internalError + k.unavailable) / total;
    this.#cutReset = total === 0 ? 0 : (k.internalError + k.unavailable + k.reset) / total;
    this.enabled = Object.values(options.perOperation).some((r) => r.rate > 0);
  }

  /** The fault for this request, if any. Draws only for operations with a rate. */
  draw(op: EmulatorOperation): FaultKind | undefined {
    const rate = this.#options.perOperation[op].rate;
    if (rate <= 0) return undefined;
    if (this.#random() >= rate) return undefined;
    const k = this.#random();
    return k < this.#cut500
      ? 'internalError'
      : k < this.#cut503
        ? 'unavailable'
        : k < this.#cutReset
          ? 'reset'
          : 'throttled';
  }

  latencyMs(op: EmulatorOperation): number {
    return this.#options.perOperation[op].latencyMs;
  }
}
