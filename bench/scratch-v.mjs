import { cases } from "./cases/node-cases.mjs";
const [c, v, reps = 5] = process.argv.slice(2);
const name = Object.keys(cases[c].variants)[Number(v)];
const out = [];
for (let i = 0; i < Number(reps); i++) out.push(Math.round(await cases[c].variants[name]()));
console.log(name, out.join(" "));
process.exit(0);
