import { Process } from "@ipc/process";
import { Pipe } from "@ipc/pipe";
const workers = new URL("./test/fixtures/workers.mjs", import.meta.url).href;
const [reader, writer] = Pipe<number, number>({ duplex: false });
const p = new Process({ module: workers, target: "count", args: [writer, 100000], context: "process" });
p.start();
writer.close();
let n = 0;
try { for await (const x of reader) { if (x !== n) throw new Error(`got ${x} want ${n}`); n++; } } catch (e) { console.log(e); }
console.log("n", n);
await p.join(); console.log(p.exitCode);
