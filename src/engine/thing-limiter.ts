/**
 * The per-thing limit, enforced in the worker that handles the thing (a thing is in one batch at
 * a time, so one worker sees all its requests): at most `rps` request starts in any 1 s window and
 * at most `inFlight` requests in flight. Clock and timers are injectable for tests.
 */
export interface ThingLimiterOptions {
  /** Starts per second per thing; 0 = unlimited. */
  rps: number;
  /** In flight per thing; 0 = unlimited. */
  inFlight: number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
}

interface ThingState {
  inFlight: number;
  /** Start times of the last `rps` starts, oldest first. */
  starts: number[];
  waiters: Array<() => void>;
  timer: boolean;
}

const WINDOW_MS = 1000;

export class ThingLimiter {
  #rps: number;
  /** The window `#rps` starts fit in: 1 s, longer for a fractional rate (0.5/s: 1 start per 2 s). */
  #windowMs = WINDOW_MS;
  #inFlight: number;
  #now: () => number;
  #setTimer: (fn: () => void, ms: number) => unknown;
  #things = new Map<string, ThingState>();
  #sweepCountdown = 1024;

  constructor(options: ThingLimiterOptions) {
    this.#rps = options.rps > 0 ? Math.max(1, Math.floor(options.rps)) : 0;
    if (this.#rps > 0) this.#windowMs = (WINDOW_MS * this.#rps) / options.rps;
    this.#inFlight = options.inFlight > 0 ? Math.floor(options.inFlight) : 0;
    this.#now = options.now ?? Date.now;
    this.#setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
  }

  get enabled(): boolean {
    return this.#rps > 0 || this.#inFlight > 0;
  }

  /** Resolves when the thing may start one more request. Returns undefined when it may start now. */
  acquire(thing: string): Promise<void> | undefined {
    if (!this.enabled) return undefined;
    if (--this.#sweepCountdown <= 0) this.#sweep();
    let s = this.#things.get(thing);
    if (s === undefined) {
      s = { inFlight: 0, starts: [], waiters: [], timer: false };
      this.#things.set(thing, s);
    }
    if (s.waiters.length === 0 && this.#canStart(s)) {
      this.#start(s);
      return undefined;
    }
    return new Promise<void>((resolve) => {
      s.waiters.push(resolve);
      this.#pump(thing, s);
    });
  }

  release(thing: string): void {
    if (!this.enabled) return;
    const s = this.#things.get(thing);
    if (s === undefined) return;
    if (s.inFlight > 0) s.inFlight -= 1;
    this.#pump(thing, s);
  }

  /** Things tracked (for tests and stats). */
  get size(): number {
    return this.#things.size;
  }

  #canStart(s: ThingState): boolean {
    if (this.#inFlight > 0 && s.inFlight >= this.#inFlight) return false;
    if (this.#rps > 0 && s.starts.length >= this.#rps && this.#now() - (s.starts[0] as number) < this.#windowMs)
      return false;
    return true;
  }

  #start(s: ThingState): void {
    s.inFlight += 1;
    if (this.#rps > 0) {
      s.starts.push(this.#now());
      if (s.starts.length > this.#rps) s.starts.shift();
    }
  }

  #pump(thing: string, s: ThingState): void {
    while (s.waiters.length > 0 && this.#canStart(s)) {
      this.#start(s);
      (s.waiters.shift() as () => void)();
    }
    // Blocked by the rate (not by in-flight): wake when the oldest start leaves the window.
    if (s.waiters.length > 0 && !s.timer && !(this.#inFlight > 0 && s.inFlight >= this.#inFlight)) {
      s.timer = true;
      const wait = Math.max(1, (s.starts[0] as number) + this.#windowMs - this.#now());
      this.#setTimer(() => {
        s.timer = false;
        this.#pump(thing, s);
      }, wait);
    }
  }

  /** Forgets idle things whose last start left the window. */
  #sweep(): void {
    this.#sweepCountdown = 1024;
    const now = this.#now();
    for (const [thing, s] of this.#things) {
      if (
        s.inFlight === 0 &&
        s.waiters.length === 0 &&
        !s.timer &&
        (s.starts.length === 0 || now - (s.starts[s.starts.length - 1] as number) >= this.#windowMs)
      ) {
        this.#things.delete(thing);
      }
    }
  }
}
