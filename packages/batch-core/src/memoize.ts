/**
 * Caches a function's results by its arguments (compared as JSON), e.g. in place of lazy
 * initialization. A rejected promise is not cached, so a failed asynchronous lookup is retried.
 */
export function memoize<A extends unknown[], R>(
  fn: (...args: A) => R,
): ((...args: A) => R) & {
  /** Forgets every cached result. */
  clear(): void;
} {
  const cache = new Map<string, R>();
  const wrapped = (...args: A): R => {
    const key = args.length === 0 ? "" : JSON.stringify(args);
    if (cache.has(key)) return cache.get(key) as R;
    const result = fn(...args);
    cache.set(key, result);
    if (result instanceof Promise) {
      result.catch(() => {
        if (cache.get(key) === result) cache.delete(key);
      });
    }
    return result;
  };
  return Object.assign(wrapped, { clear: () => cache.clear() });
}
