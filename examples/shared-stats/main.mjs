// Workers in threads and child processes fold numbers into live statistics kept in a SharedStruct,
// while the parent shows them as they change. Run: node main.mjs
import { isMainProcess, Process } from "@ipc/process";
import { SharedStruct } from "@ipc/shared";

/** Folds the numbers `from` … `to - 1` (squared) into `stats`, a batch at a time under its lock. */
export function fold(stats, from, to) {
  for (let start = from; start < to; start += 1000) {
    let count = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = start; i < Math.min(start + 1000, to); i++) {
      const x = i * i;
      count++;
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    stats.withLockSync((s) => {
      s.count += BigInt(count);
      s.sum += sum;
      s.min = s.count === BigInt(count) ? min : Math.min(s.min, min);
      s.max = Math.max(s.max, max);
    });
  }
}

if (isMainProcess) {
  const stats = new SharedStruct({ count: "q", sum: "d", min: "d", max: "d" });
  const n = 200_000; // every partial sum stays below 2^53: exact in any order
  const parts = 4;
  const workers = Array.from({ length: parts }, (_, k) =>
    new Process({ module: import.meta.url, target: fold, args: [stats, (k * n) / parts, ((k + 1) * n) / parts], context: k % 2 ? "process" : "thread" }),
  );
  for (const w of workers) w.start();
  // live view (on stderr): a snapshot under the lock, as the workers go
  const timer = setInterval(() => {
    const s = stats.toObject();
    process.stderr.write(`\r${s.count} numbers folded, mean so far ${s.count ? (s.sum / Number(s.count)).toExponential(3) : "-"}`);
  }, 50);
  for (const w of workers) await w.join();
  clearInterval(timer);
  const s = stats.toObject();
  process.stderr.write("\n");
  console.log(`count ${s.count}, min ${s.min}, max ${s.max}, sum ${s.sum}`);
}
