import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisServer } from "@ipc/test-utils/redis-server";
import { AuthenticationError, Dict, Lock, Pool, Queue, RedisConnectionError } from "@ipc/redis";
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

describe("consumers killed mid-stream", () => {
  it("3 consumers, 2 of them SIGKILLed while 300 items stream: every item is delivered", async () => {
    const name = fresh("q");
    const visibilityTimeout = 500;
    const q = new Queue<{ i: number }>({ connection: url(), name, visibilityTimeout });
    const kids = [0, 1, 2].map(() => startChild("consume", { url: url(), name, visibilityTimeout }));
    const put = (async () => {
      for (let i = 0; i < 300; i++) await q.put({ i, from: 0 } as never);
    })();
    // kill two consumers once each has taken something
    await kids[0]!.waitFor(/^item /);
    kids[0]!.proc.kill("SIGKILL");
    await kids[1]!.waitFor(/^item /);
    kids[1]!.proc.kill("SIGKILL");
    await put;
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
