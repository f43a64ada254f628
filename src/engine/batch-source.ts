/**
 * Where batches of targets come from. In process, an async iterable of targets cut into
 * batches; a Redis-backed work queue shared by several processes implements the same interface.
 */
import type { TargetItem } from './task-types.js';

export interface BatchSource {
  /** Up to `max` items; `undefined` when the source is exhausted. */
  nextBatch(max: number): Promise<TargetItem[] | undefined>;
  /** Stops reading (e.g. on abort); releases the underlying stream. */
  close(): Promise<void>;
}

export function isBatchSource(v: unknown): v is BatchSource {
  return typeof v === 'object' && v !== null && typeof (v as BatchSource).nextBatch === 'function';
}

/** Cuts an async (or sync) iterable of targets into batches, pulling only what a batch needs. */
export class IterableBatchSource implements BatchSource {
  #it: AsyncIterator<TargetItem> | Iterator<TargetItem>;
  #done = false;

  constructor(source: AsyncIterable<TargetItem> | Iterable<TargetItem>) {
    this.#it =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<TargetItem>)[Symbol.asyncIterator]()
        : (source as Iterable<TargetItem>)[Symbol.iterator]();
  }

  async nextBatch(max: number): Promise<TargetItem[] | undefined> {
    if (this.#done) return undefined;
    const batch: TargetItem[] = [];
    while (batch.length < max) {
      const r = await this.#it.next();
      if (r.done === true) {
        this.#done = true;
        break;
      }
      batch.push(r.value);
    }
    return batch.length > 0 ? batch : undefined;
  }

  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#it.return?.();
  }
}
