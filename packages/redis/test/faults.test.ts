import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisServer } from "@ipc/test-utils/redis-server";
import { startCutProxy, type CutProxy } from "@ipc/test-utils/cut-proxy";
import { AuthenticationError, Dict, JoinableQueue, Lock, Pool, Queue, RedisConnectionError, Semaphore } from "@ipc/redis";
import { fresh, startChild, url, failure } from "./helpers.js";

describe("connection errors are named and clear", () => {
  let guarded: RedisServer;
  beforeAll(async () => {
    guarded = await startRedis({ password: "s3cret" });
  });
  afterAll(async () => {
    await guarded.dispose();
  });

  it("a refused connection: RedisConnectionError naming the address", async () => {
    const q = new Queue({ connection: "redis://127.0.0.1:1", name: "x" });
    const e = await failure(q.put(1));
    expect(e).toBeInstanceOf(RedisConnectionError);
    expect(e.message).toMatch(/Could not connect to Redis at redis:\/\/127\.0\.0\.1:1.*ECONNREFUSED/);
    await q.close();
  });

  it("not a Redis URL: RedisConnectionError at construction", () => {
    expect(() => new Queue({ connection: "http://127.0.0.1:6379", name: "x" })).toThrow(RedisConnectionError);
    expect(() => new Lock({ connection: "not a url", name: "x" })).toThrow(/Not a Redis URL/);
    expect(() => new Dict({ connection: 42 as never, name: "x" })).toThrow(TypeError);
  });

  it("a wrong password, or none: AuthenticationError, and the password is not in the message", async () => {
    const wrong = guarded.url.replace("s3cret", "guess");
    for (const conn of [wrong, `redis://127.0.0.1:${guarded.port}`]) {
      const d = new Dict({ connection: conn, name: "x" });
      const e = await failure(d.size());
      expect(e).toBeInstanceOf(AuthenticationError);
      expect(e.message).not.toContain("guess");
      await d.close();
    }
    const ok = new Dict({ connection: guarded.url, name: "x" });
    expect(await ok.size()).toBe(0);
    await ok.close();
  });
});

describe("Redis restarted mid-run", () => {
  it("clients reconnect; with persistence on, no acknowledged item is lost", async () => {
    const server = await startRedis({ persist: true });
    try {
      const name = fresh("q");
      const producer = new Queue<number>({ connection: server.url, name });
      const consumer = new Queue<number>({ connection: server.url, name });
      for (let i = 0; i < 100; i++) await producer.put(i);
      const seen: number[] = [];
      for (let i = 0; i < 40; i++) seen.push(await consumer.get({ timeout: 5000 }));
      await server.restart();
      // puts and gets after the restart go through the reconnected clients
      for (let i = 100; i < 150; i++) await producer.put(i);
      for (;;) {
        const v = await consumer.get({ timeout: 500 }).catch(() => undefined);
        if (v === undefined) break;
        seen.push(v);
      }
      expect(new Set(seen).size).toBe(150);
      expect(seen.slice(0, 150).sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
      await Promise.all([producer.close(), consumer.close()]);
    } finally {
      await server.dispose();
    }
  });

  it("a get blocked across the restart gets the item put after it", async () => {
    const server = await startRedis({ persist: true });
    try {
      const name = fresh("q");
      const a = new Queue<string>({ connection: server.url, name });
      const b = new Queue<string>({ connection: server.url, name });
      await b.qsize();
      const got = a.get({ timeout: 20_000 });
      await server.restart();
      await b.put("after");
      expect(await got).toBe("after");
      await Promise.all([a.close(), b.close()]);
    } finally {
      await server.dispose();
    }
  });

  it("a pool's map completes across a restart", async () => {
    const server = await startRedis({ persist: true });
    try {
      const p = new Pool({ connection: server.url, name: fresh("pool"), module: new URL("./fixtures/tasks.mjs", import.meta.url), processes: 2, leaseMs: 2000 });
      expect(await p.map("square", [1, 2, 3])).toEqual([1, 4, 9]);
      const running = p.map("later", Array.from({ length: 20 }, (_, i) => i), { chunkSize: 1 });
      await server.restart();
      expect(await running).toEqual(Array.from({ length: 20 }, (_, i) => i));
      await p.terminate();
    } finally {
      await server.dispose();
    }
  });
});

describe("a reply lost with its connection: the command ran, the client sends it again", () => {
  let proxy: CutProxy;
  let via: string;
  beforeAll(async () => {
    proxy = await startCutProxy(Number(new URL(url()).port));
    via = `redis://127.0.0.1:${proxy.port}`;
  });
  afterAll(async () => {
    await proxy.close();
  });

  it("JoinableQueue.taskDone counts the task once", async () => {
    const q = new JoinableQueue<number>({ connection: via, name: fresh("jq"), visibilityTimeout: 60_000 });
    for (const i of [1, 2, 3]) await q.put(i);
    expect(await q.get({ timeout: 5000 })).toBe(1);
    await q.taskDone(); // its script is loaded: the cut below drops the script's own reply
    expect(await q.get({ timeout: 5000 })).toBe(2);
    const cut = proxy.cutReplyTo("done:");
    await q.taskDone();
    await cut;
    expect(await q.unfinishedTasks()).toBe(1);
    expect(await q.get({ timeout: 5000 })).toBe(3);
    await q.taskDone();
    await q.join({ timeout: 5000 });
    await expect(q.taskDone()).rejects.toThrow(/too many times/);
    await q.close();
  });

  it("Semaphore.release gives the permit back once and does not throw", async () => {
    const s = new Semaphore({ connection: via, name: fresh("s"), value: 2, leaseMs: 60_000 });
    expect(await s.acquire({ timeout: 5000 })).toBe(true);
    await s.release();
    expect(await s.acquire({ timeout: 5000 })).toBe(true);
    expect(await s.acquire({ timeout: 5000 })).toBe(true);
    const cut = proxy.cutReplyTo("released:");
    await s.release();
    await cut;
    expect([s.heldByMe, await s.getValue()]).toEqual([1, 1]);
    await s.release();
    expect(await s.getValue()).toBe(2);
    await s.close();
  });

  it("Semaphore.acquire takes the permit once and knows it holds it", async () => {
    const name = fresh("s");
    const s = new Semaphore({ connection: via, name, value: 1, leaseMs: 60_000 });
    expect(await s.getValue()).toBe(1); // connected, scripts aside
    expect(await s.acquire({ timeout: 5000 })).toBe(true);
    await s.release();
    const cut = proxy.cutReplyTo(`{${name}}:holders`);
    expect(await s.acquire({ timeout: 5000 })).toBe(true);
    await cut;
    expect([s.heldByMe, await s.getValue()]).toEqual([1, 0]);
    await s.release();
    expect(await s.getValue()).toBe(1);
    await s.close();
  });
});

describe("consumers killed mid-stream", () => {
  it("3 consumers, 2 of them SIGKILLed while 300 items stream: every item is delivered", async () => {
    const name = fresh("q");
    const visibilityTimeout = 500;
    const q = new Queue<{ i: number }>({ connection: url(), name, visibilityTimeout });
    const kids = [0, 1, 2].map(() => startChild("consume", { url: url(), name, visibilityTimeout }));
    // one item at a time until each of the first two consumers has one (Redis hands single items
    // to blocked consumers in turn, so this ends within a few items once all three wait): then
    // kill them, each while items keep streaming
    await Promise.all(kids.map((k) => k.waitFor(/^ready$/)));
    let next = 0;
    const putOne = async (): Promise<void> => {
      const i = next++;
      await q.put({ i, from: 0 } as never);
      await Promise.any(kids.map((k) => k.waitFor(new RegExp(`^item \\{"i":${i},`))));
    };
    const hasOne = (k: number): boolean => kids[k]!.lines.some((l) => l.startsWith("item "));
    while (!(hasOne(0) && hasOne(1)) && next < 200) await putOne();
    expect([hasOne(0), hasOne(1)]).toEqual([true, true]);
    const burst = async (n: number): Promise<void> => {
      for (const end = Math.min(300, next + n); next < end; ) await q.put({ i: next++, from: 0 } as never);
    };
    const streaming = burst(50);
    kids[0]!.proc.kill("SIGKILL");
    await streaming;
    const more = burst(300);
    kids[1]!.proc.kill("SIGKILL");
    await more;
    await Promise.all([kids[0]!.exited(), kids[1]!.exited()]);
    // the survivor drains, and gets back what the dead held once their leases run out
    const seen = new Set<number>();
    const collect = (): void => {
      for (const k of kids) for (const l of k.lines.filter((x) => x.startsWith("item "))) seen.add((JSON.parse(l.slice(5)) as { i: number }).i);
    };
    await kids[2]!.waitUntil(() => {
      collect();
      return seen.size === 300;
    });
    collect();
    expect(seen.size).toBe(300);
    await q.shutdown();
    expect(await kids[2]!.exited()).toBe(0);
    await q.close();
  });
});
