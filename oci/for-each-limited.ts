/**
 * Runs `fn` over `items`, at most `n` at a time. After a failure no item is started, and the failure
 * is thrown once the running ones have ended, so that nothing is still writing when the caller
 * handles it.
 */
export async function forEachLimited<T>(items: readonly T[], n: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      await fn(items[i]!, i).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(n, items.length) }, lane));
  const failure = lanes.find((l) => l.status === 'rejected');
  if (failure) throw failure.reason;
}
