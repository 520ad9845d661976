/** Python's default chunk size for `map`: ceil(len / (4 × workers)). */
export function defaultChunkSize(length: number, workers: number): number {
  if (length === 0) return 0;
  const per = workers * 4;
  return Math.floor(length / per) + (length % per ? 1 : 0);
}

/** Splits `items` into chunks of `size`. */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Collects a sync or async iterable into an array. */
export async function collect<T>(iterable: Iterable<T> | AsyncIterable<T>): Promise<T[]> {
  if (Array.isArray(iterable)) return iterable as T[];
  const out: T[] = [];
  for await (const v of iterable as AsyncIterable<T>) out.push(v);
  return out;
}
