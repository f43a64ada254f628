/**
 * A bounded hand-over between two runs of a pipeline: the producer's `push` waits while
 * `capacity` values are queued (backpressure reaches the producer's reads), the consumer
 * iterates. `close()` ends the iteration after the queued values; `fail(err)` ends it with
 * the error; a consumer that stops early makes every later `push` resolve at once (dropped).
 */
export class AsyncChannel<T> implements AsyncIterable<T> {
  readonly #capacity: number;
  readonly #queue: T[] = [];
  #closed = false;
  #error: unknown;
  #abandoned = false;
  #wakeConsumer: (() => void) | undefined;
  readonly #wakeProducers: Array<() => void> = [];

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Queues a value, waiting while the channel is full. */
  async push(value: T): Promise<void> {
    while (this.#queue.length >= this.#capacity && !this.#abandoned)
      await new Promise<void>((r) => this.#wakeProducers.push(r));
    if (this.#abandoned || this.#closed) return;
    this.#queue.push(value);
    this.#wake();
  }

  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /** The consumer is gone: queued values are dropped and every waiting or later `push` returns at once. */
  abandon(): void {
    this.#abandoned = true;
    this.#queue.length = 0;
    this.#release();
    this.close();
  }

  fail(err: unknown): void {
    this.#error ??= err ?? new Error('channel failed');
    this.close();
  }

  #wake(): void {
    const w = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    w?.();
  }

  #release(): void {
    for (const w of this.#wakeProducers.splice(0)) w();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        if (this.#queue.length > 0) {
          const v = this.#queue.shift() as T;
          this.#release();
          yield v;
          continue;
        }
        if (this.#error !== undefined) throw this.#error;
        if (this.#closed) return;
        await new Promise<void>((r) => {
          this.#wakeConsumer = r;
        });
      }
    } finally {
      this.#abandoned = true;
      this.#queue.length = 0;
      this.#release();
    }
  }
}
