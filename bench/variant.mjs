// Runs one variant of one bench case several times and prints each result (no CPython side), for
// quick A/B comparisons while working on a case:
//   node bench/variant.mjs <case> <variant index> [repeats]    e.g. node bench/variant.mjs pipe_1m 0 5
// The full side-by-side run is `pnpm bench` (run.mjs).
import { cases } from "./cases/node-cases.mjs";

const [name, index = "0", repeats = "5"] = process.argv.slice(2);
const c = cases[name];
if (!c) {
  console.error(`unknown case ${name}; cases: ${Object.keys(cases).join(", ")}`);
  process.exit(2);
}
const variant = Object.keys(c.variants)[Number(index)];
const out = [];
for (let i = 0; i < Number(repeats); i++) out.push(Math.round(await c.variants[variant]()));
console.log(variant, out.join(" "));
process.exit(0);
