import { afterEach, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { Process } from "@ipc/process";
import { Dict, Event, JoinableQueue, List, Lock, Queue, Semaphore, SimpleQueue } from "@ipc/redis";
import { deserialize, serialize } from "@ipc/core";
import { fresh, url } from "./helpers.js";

const targets = new URL("./fixtures/targets.mjs", import.meta.url).href;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

describe("@ipc/redis objects handed to a child", () => {
  for (const context of ["thread", "process"] as const) {
    it(`Queue, Lock, Dict, List, Event and Semaphore reach a ${context} child as working objects`, async () => {
      const n = fresh("h");
      const q = new Queue<number>({ connection: url(), name: `${n}-q` });
      const lock = new Lock({ connection: url(), name: `${n}-l` });
      const dict = new Dict({ connection: url(), name: `${n}-d` });
      const list = new List({ connection: url(), name: `${n}-li` });
      const ev = new Event({ connection: url(), name: `${n}-e` });
      const sem = new Semaphore({ connection: url(), name: `${n}-s`, value: 3 });
      open.push(q, lock, dict, list, ev, sem);
      await q.put(21);
      const p = new Process({ module: targets, target: "useAll", args: [q, lock, dict, list, ev, sem], context });
      p.start();
      await p.join({ timeout: 30_000 });
      expect(p.exitCode).toBe(0);
      expect(await dict.get("child")).toBe(42);
      expect(await list.toArray()).toEqual(["from child"]);
      expect(await ev.isSet()).toBe(true);
    });
  }

  it("a handle keeps the class and options, including a client given as the connection", async () => {
    const client = new Redis(url());
    try {
      for (const x of [
        new JoinableQueue({ connection: url(), name: fresh(), maxSize: 3 }),
        new SimpleQueue({ connection: { url: url() }, name: fresh() }),
        new Lock({ connection: client, name: fresh(), leaseMs: 500 }),
      ]) {
        open.push(x);
        const back = deserialize<typeof x>(serialize(x));
        open.push(back);
        expect(back.constructor).toBe(x.constructor);
        expect(back.name).toBe(x.name);
      }
    } finally {
      client.disconnect();
    }
  });

  it("a handle from a network peer is refused: it names a server and credentials", () => {
    const q = new Queue({ connection: url(), name: fresh() });
    open.push(q);
    expect(() => deserialize(serialize(q), { peer: true })).toThrow(/@ipc\/redis:Queue/);
  });
});
