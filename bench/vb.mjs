import { Value } from "@ipc/shared";
const n = 5_000_000;
const v = new Value("i", 0);
for (let r = 0; r < 2; r++) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) v.withLockSync((c) => { c.value += 1; });
  console.log(((n / (performance.now() - t0)) * 1000 / 1e6).toFixed(2), "M/s");
}
