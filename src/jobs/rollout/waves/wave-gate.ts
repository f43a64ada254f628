/**
 * A wave's gate: from what the wave's written things report, decide whether the next wave may
 * go out (`pass`), the rollout must stop (`fail`), or the gate keeps waiting (`wait`).
 *
 * - converged share: things whose reported state follows the desired keys written, of the
 *   things the wave wrote;
 * - healthy share: things that converged AND for which the health expression holds on the
 *   shadow (a thing that has not taken the change yet cannot vouch for it);
 * - pass as soon as both shares reach their thresholds; fail when `within` has run out, or
 *   earlier when the things that converged and report unhealthy are already too many for the
 *   healthy threshold to be reached even if every other thing turns out healthy.
 *
 * The clock is injected; `WaveGate` holds the latest observation per thing and a series of
 * decisions (the "healthy over time" of the report). `waitForGate` drives the rounds.
 */
import type { WaveGateSpec } from './wave-spec.js';

export type GateVerdict = 'pass' | 'fail' | 'wait';

/** What one re-read of a thing showed. `healthy` is undefined when the rollout has no health expression. */
export interface ThingObservation {
  converged: boolean;
  healthy?: boolean;
}

export interface GatePoint {
  elapsedMs: number;
  converged: number;
  healthy: number;
  unhealthy: number;
}

export interface GateDecision {
  verdict: GateVerdict;
  /** Why, in a sentence with the figures (`12 of 50 converged things are unhealthy: ...`). */
  reason: string;
  /** Things the wave wrote (the denominator of the shares). */
  things: number;
  converged: number;
  healthy: number;
  /** Converged things for which the health expression does not hold. */
  unhealthy: number;
  convergedShare: number;
  healthyShare: number;
  elapsedMs: number;
}

const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;

export class WaveGate {
  readonly spec: WaveGateSpec;
  readonly things: number;
  readonly startedAt: number;
  readonly deadline: number;
  readonly series: GatePoint[] = [];
  readonly #clock: () => number;
  readonly #seen = new Map<string, ThingObservation>();
  #converged = 0;
  #healthy = 0;
  #unhealthy = 0;

  /** `things`: how many things the wave wrote; the clock starts now (when the wave's writes ended). */
  constructor(spec: WaveGateSpec, things: number, clock: () => number = Date.now) {
    this.spec = spec;
    this.things = things;
    this.#clock = clock;
    this.startedAt = clock();
    this.deadline = this.startedAt + spec.withinMs;
  }

  /** Records the latest observation of a thing (a later one replaces an earlier one). */
  observe(key: string, o: ThingObservation): void {
    const prev = this.#seen.get(key);
    if (prev !== undefined) this.#count(prev, -1);
    this.#seen.set(key, o);
    this.#count(o, 1);
  }

  /** True when the thing needs no further re-read in this gate: converged and, with a health expression, healthy. */
  settled(key: string): boolean {
    const o = this.#seen.get(key);
    return o?.converged === true && o.healthy !== false;
  }

  #count(o: ThingObservation, by: 1 | -1): void {
    if (!o.converged) return;
    this.#converged += by;
    if (o.healthy === true) this.#healthy += by;
    else if (o.healthy === false) this.#unhealthy += by;
  }

  /** Decides from the observations so far, and adds a point to the series. */
  decide(): GateDecision {
    const now = this.#clock();
    const elapsedMs = now - this.startedAt;
    const n = this.things;
    const convergedShare = n === 0 ? 1 : this.#converged / n;
    const healthyShare = n === 0 ? 1 : this.#healthy / n;
    this.series.push({ elapsedMs, converged: this.#converged, healthy: this.#healthy, unhealthy: this.#unhealthy });
    const d = (verdict: GateVerdict, reason: string): GateDecision => ({
      verdict,
      reason,
      things: n,
      converged: this.#converged,
      healthy: this.#healthy,
      unhealthy: this.#unhealthy,
      convergedShare,
      healthyShare,
      elapsedMs,
    });
    const { converged: needC, healthy: needH } = this.spec;
    if (n === 0) return d('pass', 'the wave wrote nothing: no thing to watch');
    const convergedOk = needC === undefined || convergedShare >= needC;
    const healthyOk = needH === undefined || healthyShare >= needH;
    const figures = `${this.#converged} of ${n} converged (${pct(convergedShare)}), ${this.#healthy} healthy (${pct(healthyShare)})`;
    if (convergedOk && healthyOk) return d('pass', `${figures}: thresholds reached`);
    if (needH !== undefined && (n - this.#unhealthy) / n < needH) {
      return d(
        'fail',
        `${this.#unhealthy} of ${n} things took the change and are unhealthy: at most ${pct((n - this.#unhealthy) / n)} can be healthy, ${pct(needH)} needed`,
      );
    }
    if (now >= this.deadline) {
      const missed: string[] = [];
      if (!convergedOk) missed.push(`converged ${pct(convergedShare)} < ${pct(needC!)}`);
      if (!healthyOk) missed.push(`healthy ${pct(healthyShare)} < ${pct(needH!)}`);
      return d('fail', `${figures} after ${this.spec.withinMs} ms: ${missed.join(', ')}`);
    }
    return d('wait', figures);
  }
}

export interface WaitForGateOptions<T> {
  gate: WaveGate;
  /** The wave's written things. */
  things: readonly T[];
  key: (thing: T) => string;
  /** One round of re-reads (within the rate limits): an observation per thing read. */
  check: (things: T[]) => Promise<Array<{ key: string; observation: ThingObservation }>>;
  /** Pause between rounds, ms. */
  pollMs: number;
  /** Resolves after `ms` (or earlier when `signal` aborts). Default: a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  clock?: () => number;
  signal?: AbortSignal;
  onDecision?: (d: GateDecision) => void;
}

/** A timer that an abort ends early. */
export function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Rounds of re-reads until the gate passes or fails: each round re-reads the things not yet
 * settled (a thing counted converged and healthy is not read again), then decides. Returns the
 * last decision; an abort returns the decision at that moment (verdict `wait`).
 */
export async function waitForGate<T>(o: WaitForGateOptions<T>): Promise<GateDecision> {
  const clock = o.clock ?? Date.now;
  const sleep = o.sleep ?? sleepFor;
  for (;;) {
    const pending = o.things.filter((t) => !o.gate.settled(o.key(t)));
    if (pending.length > 0) for (const r of await o.check(pending)) o.gate.observe(r.key, r.observation);
    const decision = o.gate.decide();
    o.onDecision?.(decision);
    if (decision.verdict !== 'wait' || o.signal?.aborted) return decision;
    await sleep(Math.max(0, Math.min(o.pollMs, o.gate.deadline - clock())), o.signal);
    if (o.signal?.aborted) return o.gate.decide();
  }
}
