// The flagship's corpus: text of Zipf-distributed words, generated from a fixed seed (the same
// bytes on every machine) and cached in the OS temp folder, with the slices the runs share.
import { closeSync, existsSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The vocabulary: 20,000 made-up words from syllables, the same on every run. */
export function vocabulary() {
  const syl = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "an", "el", "or", "un", "is", "et", "ba", "di", "fu", "go", "hy"];
  const words = [];
  for (let i = 0; words.length < 20_000; i++) {
    let w = "";
    let n = i;
    do {
      w += syl[n % syl.length];
      n = Math.floor(n / syl.length);
    } while (n > 0);
    words.push(w);
  }
  return words;
}

/** Writes (once) and returns the path of a corpus of `mb` MiB. */
export function corpus(mb) {
  const path = join(tmpdir(), `ipc-flagship-corpus-${mb}mb.txt`);
  const bytes = mb * 1024 * 1024;
  if (existsSync(path) && statSync(path).size === bytes) return path;
  const words = vocabulary();
  // Zipf: word k is drawn with weight 1 / (k + 1); a cumulative table and a binary search
  const cum = new Float64Array(words.length);
  let total = 0;
  for (let k = 0; k < words.length; k++) cum[k] = total += 1 / (k + 1);
  let x = 0x9e3779b9;
  const random = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 4294967296);
  const tmp = `${path}.${process.pid}`;
  const fd = openSync(tmp, "w");
  const block = Buffer.alloc(1 << 20);
  let written = 0;
  while (written < bytes) {
    let pos = 0;
    let perLine = 0;
    const room = Math.min(block.length, bytes - written);
    while (pos < room) {
      const r = random() * total;
      let lo = 0;
      let hi = cum.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cum[mid] < r) lo = mid + 1;
        else hi = mid;
      }
      const w = words[lo];
      if (pos + w.length + 1 > room) {
        block.fill(32, pos, room);
        pos = room;
        break;
      }
      pos += block.latin1Write(w, pos);
      block[pos++] = ++perLine % 12 === 0 ? 10 : 32;
    }
    writeSync(fd, block, 0, room);
    written += room;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return path;
}

/** `count` slices [path, start, end) of about equal size; a task extends each to word boundaries. */
export function slices(path, count) {
  const size = statSync(path).size;
  const step = Math.ceil(size / count);
  return Array.from({ length: count }, (_, i) => [path, i * step, Math.min(size, (i + 1) * step)]);
}
