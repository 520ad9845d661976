import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { dropMachines, twoMachines } from "@ipc/test-utils/netns";

const file = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));

/** Runs node with `args`, inside network namespace `ns` when given. */
function node(args: string[], opts: { env?: NodeJS.ProcessEnv; ns?: string } = {}): ChildProcessWithoutNullStreams {
  const env = { ...process.env, ...opts.env };
  if (opts.ns) return spawn("ip", ["netns", "exec", opts.ns, process.execPath, ...args], { env, timeout: 60_000 });
  return spawn(process.execPath, args, { env, timeout: 60_000 });
}

function start(name: string, args: string[], env: NodeJS.ProcessEnv = {}, ns?: string): ChildProcessWithoutNullStreams & { out: Promise<string> } {
  const child = node([file(name), ...args], { env, ns });
  let text = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (text += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => process.stderr.write(d));
  const out = once(child, "close").then(() => text);
  return Object.assign(child, { out });
}

/** The server's first line names its address. */
async function address(server: ChildProcessWithoutNullStreams): Promise<string> {
  let text = "";
  for await (const chunk of server.stdout) {
    text += String(chunk);
    const m = /serving jobs on (\S+)\n/.exec(text);
    if (m) return m[1];
  }
  throw new Error("the server ended before it served");
}

/** Server in `serverNs`, workers and clients in `clientNs` (both undefined: this namespace, loopback). */
async function jobQueue(listen: string, serverNs?: string, clientNs?: string): Promise<void> {
  const server = node([file("server.mjs"), listen], { ns: serverNs });
  try {
    const where = await address(server);
    const workers = [start("worker.mjs", [where, "w1"], {}, clientNs), start("worker.mjs", [where, "w2"], {}, clientNs)];
    const intruder = start("client.mjs", [where, "1"], { JOBS_AUTHKEY: "wrong" }, clientNs);
    const [code] = (await once(intruder, "exit")) as [number];
    expect(code).not.toBe(0);
    const client = start("client.mjs", [where, "10"], {}, clientNs);
    expect(await client.out).toBe("1 4 9 16 25 36 49 64 81 100\n");
    const outs = await Promise.all(workers.map((w) => w.out));
    expect(outs.sort()).toEqual([expect.stringMatching(/^w1 did (some|no) jobs\n$/), expect.stringMatching(/^w2 did (some|no) jobs\n$/)]);
  } finally {
    server.kill("SIGTERM");
    await once(server, "close");
  }
}

it("a job queue served on a TCP port: workers and a client started separately share it; a wrong key is refused", async () => {
  await jobQueue("0");
}, 90_000);

const [nsA, nsB] = [`ipcS${process.pid % 100000}`, `ipcC${process.pid % 100000}`];
const netns = twoMachines(nsA, nsB, "10.77.0");
if (netns) process.once("exit", () => dropMachines(nsA, nsB));

it.runIf(netns)("across two network namespaces: the server on 10.77.0.1, workers and the client on 10.77.0.2", async () => {
  try {
    await jobQueue("10.77.0.1:0", nsA, nsB);
  } finally {
    dropMachines(nsA, nsB);
  }
}, 90_000);
