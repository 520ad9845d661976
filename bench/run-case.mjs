// Runs one bench case in a process of its own and reports its runs to run.mjs: each variant once
// to warm up, then `repeats` times. One process per case, so that no case runs in the memory, the
// heap or the kept regions the cases before it left behind (in one long process, a 1 MiB queue
// ran at a third of its own speed after the pipe cases).
// Usage (run.mjs does this): node bench/run-case.mjs <case> <repeats>
import { cases, memoryNotes, pools } from "./cases/node-cases.mjs";
import { RESULT } from "./result-line.mjs";

const [name, repeatsArg = "5"] = process.argv.slice(2);
const c = cases[name];
if (!c) {
  console.error(`unknown case ${name}`);
  process.exit(2);
}
const variants = [];
for (const [label, fn] of Object.entries(c.variants)) {
  await fn(); // warm-up
  const runs = [];
  for (let i = 0; i < Number(repeatsArg); i++) runs.push(await fn());
  variants.push({ label, runs });
}
// warm pools are kept between the runs of a case: end them
const { ipcPool, piscina } = pools?.() ?? {};
await ipcPool?.terminate();
await piscina?.destroy();
// on a line of its own: children of the cases share this stdout
console.log(`\n${RESULT}${JSON.stringify({ variants, memoryNotes })}`);
process.exit(0);
