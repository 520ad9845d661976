// Runs the sender and the receiver as two separate programs, as two terminals would.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const here = (f) => new URL(f, import.meta.url).pathname;
const exited = (child) => new Promise((resolve) => child.once("exit", resolve));
const sender = spawn(process.execPath, [here("./sender.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
const senderExited = exited(sender);
const lines = createInterface({ input: sender.stdout });
for await (const line of lines) {
  console.log(`sender:   ${line}`);
  const port = /listening on port (\d+)/.exec(line)?.[1];
  if (!port) continue;
  const receiver = spawn(process.execPath, [here("./receiver.mjs"), port], { stdio: ["ignore", "pipe", "inherit"] });
  const receiverExited = exited(receiver);
  for await (const l of createInterface({ input: receiver.stdout })) console.log(`receiver: ${l}`);
  await receiverExited;
}
await senderExited;
