/**
 * The rate of a progress counter over about the last five seconds, for progress lines and ETAs:
 * `push(now, done)` records a sample and returns items per second since the oldest sample kept.
 */
export class RecentRate {
  #samples: Array<[number, number]> = [];
  push(now: number, done: number): number {
    this.#samples.push([now, done]);
    while (this.#samples.length > 2 && now - this.#samples[0]![0] > 5000) this.#samples.shift();
    const [t0, d0] = this.#samples[0]!;
    return now > t0 ? ((done - d0) / (now - t0)) * 1000 : 0;
  }
}
