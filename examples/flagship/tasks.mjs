// The flagship's task: index one slice of the corpus (count every word in it). The same function
// runs in the @ipc Pool, in piscina and in hand-written postMessage workers.
import { closeSync, openSync, readSync } from "node:fs";

let stats;

/** Pool initializer: the SharedStruct every worker adds its progress to (live statistics). */
export function useStats(s) {
  stats = s;
}

/**
 * Counts the words of `[path, start, end)`, extended to word boundaries: a slice owns the words
 * that start inside it. Returns the slice's vocabulary as two arrays, words and counts.
 */
export function indexSlice([path, start, end]) {
  // from one byte before the slice (to see whether a word is cut at its start) to a little past
  // its end (to finish its last word)
  const base = start > 0 ? start - 1 : 0;
  const fd = openSync(path, "r");
  const buf = Buffer.allocUnsafe(end - base + 64);
  const n = readSync(fd, buf, 0, buf.length, base);
  closeSync(fd);
  let i = start - base;
  // a word running across the start belongs to the previous slice
  if (start > 0 && buf[0] !== 32 && buf[0] !== 10) while (i < n && buf[i] !== 32 && buf[i] !== 10) i++;
  const counts = new Map();
  let total = 0;
  const limit = end - base;
  while (i < n) {
    while (i < n && (buf[i] === 32 || buf[i] === 10)) i++;
    if (i >= limit || i >= n) break;
    const s = i;
    while (i < n && buf[i] !== 32 && buf[i] !== 10) i++;
    const w = buf.latin1Slice(s, i);
    counts.set(w, (counts.get(w) ?? 0) + 1);
    total++;
  }
  stats?.withLockSync((st) => {
    st.bytesDone += end - start;
    st.wordCount += total;
    st.slicesDone += 1;
  });
  return { start, words: [...counts.keys()], counts: Uint32Array.from(counts.values()), total, bytes: end - start };
}

export default indexSlice;

/** The writer: takes each slice's summary from the queue and writes one line per slice. */
export async function writer(queue, file) {
  const { createWriteStream } = await import("node:fs");
  const out = createWriteStream(file);
  for await (const line of queue) out.write(`${JSON.stringify(line)}\n`);
  await new Promise((resolve) => out.end(resolve));
}
