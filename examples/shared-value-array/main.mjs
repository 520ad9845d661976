// Python's sharedctypes seed programs, with @ipc/shared: run `node main.mjs [process|thread]`.
//  1. five children in turn set arr[i] = i in a SharedArray('i', 5), then the parent prints it;
//  2. a child sets a Value('d') to 3.1415927 and negates every element of a SharedArray('i',
//     range(10)); the parent prints both (Python's documentation example).
import { isMainProcess, Process } from "@ipc/process";
import { SharedArray, Value } from "@ipc/shared";

export function setOne(arr, i) {
  arr.set(i, i);
}

export function f(n, a) {
  n.value = 3.1415927;
  for (let i = 0; i < a.length; i++) a.set(i, -a.get(i));
}

async function run(context, target, args) {
  const p = new Process({ module: import.meta.url, target, args, context });
  p.start();
  await p.join();
  if (p.exitCode !== 0) throw new Error(`${target} exited with ${p.exitCode}`);
}

if (isMainProcess) {
  const context = process.argv[2] ?? "process";

  const arr = new SharedArray("i", 5);
  for (let i = 0; i < 5; i++) await run(context, "setOne", [arr, i]);
  console.log(arr.toArray().join(" "));

  const num = new Value("d", 0.0);
  const a = new SharedArray("i", Array.from({ length: 10 }, (_, i) => i));
  await run(context, "f", [num, a]);
  console.log(num.value);
  console.log(a.toArray().join(" "));
}
