import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dropMachines, twoMachines } from "@ipc/test-utils/netns";
import { redisServerBinary, startRedis, type RedisServer } from "@ipc/test-utils/redis-server";

const file = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));

function start(args: string[], ns?: string): ChildProcessWithoutNullStreams & { out: Promise<string> } {
  const cmd = ns ? "ip" : process.execPath;
  const argv = ns ? ["netns", "exec", ns, process.execPath, ...args] : args;
  const child = spawn(cmd, argv, { timeout: 60_000 });
  let text = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (text += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => process.stderr.write(d));
  return Object.assign(child, { out: once(child, "close").then(() => text) });
}

async function jobQueue(url: string, ns?: string): Promise<void> {
  const workers = ["w1", "w2"].map((w) => start([file("worker.mjs"), url, w], ns));
  const producer = start([file("producer.mjs"), url, "100"], ns);
  expect(await producer.out).toBe("100 jobs done, 395 words, 100 counts stored\n");
  const outs = await Promise.all(workers.map((w) => w.out));
  expect(outs.sort()).toEqual([expect.stringMatching(/^w1 did (some|no) jobs\n$/), expect.stringMatching(/^w2 did (some|no) jobs\n$/)]);
}

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.dispose();
});

it("a producer and two workers, each its own process, share the queue and the dict", async () => {
  await jobQueue(server.url);
}, 90_000);

const [nsA, nsB] = [`ipcR${process.pid % 100000}`, `ipcW${process.pid % 100000}`];
const netns = twoMachines(nsA, nsB, "10.78.0");
if (netns) process.once("exit", () => dropMachines(nsA, nsB));

it.runIf(netns)("across two network namespaces: Redis on 10.78.0.1, the producer and workers on 10.78.0.2", async () => {
  const redis = spawn("ip", ["netns", "exec", nsA, redisServerBinary(), "--port", "6379", "--bind", "10.78.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"]);
  try {
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const t = setTimeout(() => reject(new Error(`redis-server not ready: ${out}`)), 15_000);
      redis.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Ready to accept connections")) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    await jobQueue("redis://10.78.0.1:6379", nsB);
  } finally {
    redis.kill();
    await once(redis, "exit");
    dropMachines(nsA, nsB);
  }
}, 90_000);
