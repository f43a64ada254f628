/** Runs `fn` over `items` with at most `concurrency` at once; resolves when all are done. `fn` must not throw. */
export async function forEachConcurrent<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Math.max(1, Math.min(concurrency, items.length));
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}
