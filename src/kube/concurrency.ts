// Bounded concurrency for independent API calls (e.g. creating a workload's
// children): at most `limit` in flight; every item is attempted even when some
// fail, and the first failure is thrown once all have settled, so one bad item
// neither hides the others' results nor leaves calls running after a reconcile.
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (firstError) throw firstError.err;
}
