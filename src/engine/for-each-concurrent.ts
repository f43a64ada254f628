import pLimit from 'p-limit';

/**
 * Runs `fn` over `items` with at most `concurrency` at once; resolves when all are done.
 * `fn` must not throw (per-item failures are data). Plain concurrency is p-limit's job; a
 * worker batch holds at most a few hundred items, so one queued closure per item is cheap.
 */
export async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const limit = pLimit(Math.max(1, concurrency));
  await Promise.all(items.map((item, i) => limit(() => fn(item, i))));
}
