// Python's manager seed programs: five processes in turn write i + 100 into a manager dict, then
// a dict and a list with keys of several types. Run: node main.mjs [process|thread]
import { Manager } from "@ipc/manager";
import { isMainProcess, Process } from "@ipc/process";

export async function write(d, i) {
  await d.set(i, i + 100);
}

if (isMainProcess) {
  const context = process.argv[2] ?? "process";
  const m = await Manager({ context });
  try {
    const d = await m.dict();
    for (let i = 0; i < 5; i++) {
      const p = new Process({ module: import.meta.url, target: write, args: [d, i], context });
      p.start();
      await p.join();
    }
    console.log((await d.values()).join(" "));

    const dict = await m.dict();
    const list = await m.list(Array.from({ length: 10 }, (_, i) => i));
    await dict.set(1, "1");
    await dict.set("2", 2);
    await dict.set(0.25, null);
    await list.reverse();
    console.log(JSON.stringify(await dict.items()));
    console.log(JSON.stringify(await list.toArray()));
  } finally {
    await m.shutdown();
  }
}
