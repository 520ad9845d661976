import { describe, expect, it, vi } from "vitest";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { AuthenticationError, ClosedError, currentAuthkey, InvalidStateError, IpcError, serialize, SerializationError, toHandle, type HandleDescriptor } from "@ipc/core";
import { connectFramed, toAuthkey } from "@ipc/core/internal";
import { Process } from "@ipc/process";
import { Pipe } from "@ipc/pipe";
import { BaseManager, DictProxy, ListProxy, Manager, SyncManager } from "@ipc/manager";

const targets = new URL("./fixtures/targets.mjs", import.meta.url).href;
const counterModule = new URL("./fixtures/counter-manager.mjs", import.meta.url).href;
const contexts = ["thread", "process"] as const;

describe.each(contexts)("Manager with its server in the %s context", (context) => {
  it("dict and list as the seed program: keys keep their type (65 and '65'), 0.25 is a key", async () => {
    await using m = await Manager({ context });
    const d = await m.dict<unknown, unknown>();
    const l = await m.list<number>([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await d.set(1, "1");
    await d.set("2", 2);
    await d.set(0.25, null);
    await d.set(65, "number");
    await d.set("65", "string");
    await l.reverse();
    expect(await d.get(1)).toBe("1");
    expect(await d.get("1")).toBeUndefined();
    expect(await d.get("missing", "fallback")).toBe("fallback");
    expect(await d.get(0.25)).toBeNull();
    expect(await d.get(65)).toBe("number");
    expect(await d.get("65")).toBe("string");
    expect(await d.keys()).toEqual([1, "2", 0.25, 65, "65"]);
    expect(await d.size()).toBe(5);
    expect(await l.toArray()).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(await l.slice(0, 3)).toEqual([9, 8, 7]);
    expect(await l.length()).toBe(10);
    const copy = await d.copy();
    expect(copy).toBeInstanceOf(Map);
    await d.clear();
    expect(copy.size).toBe(5); // a copy is plain data
    expect(await d.size()).toBe(0);
  });

  it("every dict and list method, and Python's errors as RangeError (KeyError, IndexError, ValueError)", async () => {
    await using m = await Manager({ context });
    const d = await m.dict<string, number>({ a: 1 });
    await d.update({ b: 2, c: 3 });
    expect(await d.items()).toEqual([["a", 1], ["b", 2], ["c", 3]]);
    expect(await d.values()).toEqual([1, 2, 3]);
    expect(await d.has("b")).toBe(true);
    expect(await d.pop("b")).toBe(2);
    expect(await d.pop("b", 0)).toBe(0);
    await expect(d.pop("b")).rejects.toThrow(/KeyError/);
    await expect(d.delete("zz")).rejects.toThrow(RangeError);
    expect(await d.setdefault("x", 9)).toBe(9);
    expect(await d.setdefault("x", 10)).toBe(9);
    expect(await d.popitem()).toEqual(["x", 9]);
    const l = await m.list<number>();
    await l.append(3);
    await l.extend([1, 2, 1]);
    await l.insert(0, 7);
    expect(await l.toArray()).toEqual([7, 3, 1, 2, 1]);
    expect(await l.index(2)).toBe(3);
    expect(await l.count(1)).toBe(2);
    await l.remove(1);
    expect(await l.pop()).toBe(1);
    await l.set(-1, 5);
    await l.sort();
    expect(await l.toArray()).toEqual([3, 5, 7]);
    await l.sort({ reverse: true });
    expect(await l.get(0)).toBe(7);
    await expect(l.get(10)).rejects.toThrow(/IndexError/);
    await expect(l.remove(99)).rejects.toThrow(/ValueError/);
    const ns = await m.Namespace({ x: 1 });
    await ns.set("y", "two");
    expect(await ns.get("y")).toBe("two");
    expect(await ns.toObject()).toEqual({ x: 1, y: "two" });
    await expect(ns.get("nope")).rejects.toThrow(/AttributeError/);
    // attributes as properties, as Python's ns.x
    expect(await ns.x).toBe(1);
    ns.z = { deep: [1, 2] };
    expect(await ns.z).toEqual({ deep: [1, 2] });
    expect(await ns.has("z")).toBe(true);
    delete ns.z;
    expect(await ns.has("z")).toBe(false);
    await expect(ns.missing as Promise<unknown>).rejects.toThrow(/AttributeError/);
    expect(() => (ns.bad = () => 1)).toThrow(SerializationError); // at once, as a pickling error
    expect(await ns.toObject()).toEqual({ x: 1, y: "two" });
    expect(typeof ns.get).toBe("function"); // the proxy's own names stay its methods
    // a child assigns and returns at once: its write is not lost when it exits
    const p = new Process({ module: targets, target: "setAttribute", args: [ns, "fromChild", context], context });
    p.start();
    await p.join({ timeout: 30_000 });
    expect(p.exitCode).toBe(0);
    expect(await ns.fromChild).toBe(context);
    // a method that is not exposed is refused
    await expect(d.callMethod("map")).rejects.toThrow(/not exposed/);
    await expect(m.create("nosuchtype")).rejects.toThrow(/no type "nosuchtype"/);
  });

  it("five children in turn write i + 100 into one dict (the seed program); a nested proxy is a live reference", async () => {
    await using m = await Manager({ context });
    const d = await m.dict<number, number>();
    for (let i = 0; i < 5; i++) {
      const p = new Process({ module: targets, target: "writeIPlus100", args: [d, i], context: i % 2 ? "thread" : "process" });
      p.start();
      await p.join({ timeout: 30_000 });
      expect(p.exitCode).toBe(0);
    }
    expect((await d.values()).sort()).toEqual([100, 101, 102, 103, 104]);
    // a list stored in a dict: whoever gets it gets the list itself, in any context
    const holder = await m.dict<string, unknown>();
    const l = await m.list<string>();
    await holder.set("l", l);
    const again = (await holder.get("l")) as ListProxy<string>;
    expect(again).toBeInstanceOf(ListProxy);
    await again.append("from here");
    const p = new Process({ module: targets, target: "appendThroughNested", args: [holder, "from a child"], context });
    p.start();
    await p.join({ timeout: 30_000 });
    expect(p.exitCode).toBe(0);
    expect(await l.toArray()).toEqual(["from here", "from a child"]);
  }, 120_000);

  it("a registered type with exposed methods; errors thrown in the server keep their name and message", async () => {
    const { CounterManager } = (await import(counterModule)) as { CounterManager: typeof BaseManager };
    const m = new CounterManager({ context });
    await m.start({ module: counterModule });
    type Counter = { incr(k?: number): number; value(): number; fail(): never; secret(): string };
    const c = await m.create<Counter>("Counter", 5);
    expect(await c.incr()).toBe(6);
    expect(await c.incr(4)).toBe(10);
    expect(await c.value()).toBe(10);
    const err = await c.fail().catch((e: unknown) => e);
    expect((err as Error).name).toBe("RangeError");
    expect((err as Error).message).toBe("counter says no");
    await expect(c.secret()).rejects.toThrow(/not exposed/);
    await m.shutdown();
    await expect(c.value()).rejects.toThrow(ClosedError);
    await expect(m.create("Counter")).rejects.toThrow(InvalidStateError);
  });
});

describe.each(contexts)("object lifetime: references counted per client (%s children)", (context) => {
  /** Waits (at most 10 s) until the server holds `n` objects: a closed connection is noticed asynchronously. */
  async function until(m: SyncManager, n: number): Promise<void> {
    await vi.waitFor(async () => expect(await m.numberOfObjects()).toBe(n), { timeout: 10_000, interval: 20 });
  }

  it("dropReference() deletes an object nobody else refers to; its calls then fail; `using` drops it too", async () => {
    await using m = await Manager({ context });
    const kept = await m.dict();
    const d = await m.dict();
    expect(await m.numberOfObjects()).toBe(2);
    d.dropReference();
    d.dropReference(); // idempotent
    expect(await m.numberOfObjects()).toBe(1); // in order: the drop went out before this call
    await expect(d.get("x")).rejects.toThrow(ClosedError);
    {
      using l = await m.list([1, 2]);
      expect(await l.length()).toBe(2);
      expect(await m.numberOfObjects()).toBe(2);
    }
    expect(await m.numberOfObjects()).toBe(1);
    expect(await kept.size()).toBe(0);
  });

  it("a proxy stored in a container keeps its object alive; read back, it is the same live object", async () => {
    await using m = await Manager({ context });
    const holder = await m.dict<string, unknown>();
    const inner = await m.list<number>([1]);
    await holder.set("inner", inner);
    inner.dropReference();
    const again = (await holder.get("inner")) as ListProxy<number>;
    await again.append(2);
    expect(await again.toArray()).toEqual([1, 2]);
    expect(await m.numberOfObjects()).toBe(2);
  });

  it("a child that created objects and exited gives back every reference it held", async () => {
    await using m = await Manager({ context: "thread" });
    const [rx, tx] = Pipe({ duplex: false });
    const p = new Process({ module: targets, target: "createAndKeep", args: [m.address, 20, tx], context });
    p.start();
    expect(await rx.recv({ timeout: 20_000 })).toBe(20);
    await p.join({ timeout: 20_000 });
    await until(m, 0);
  });

  it("proxies collected as garbage give their references back: a loop creating dicts does not grow the server", async () => {
    await using m = await Manager({ context: "thread" });
    const [rx, tx] = Pipe({ duplex: false });
    const p = new Process({ module: targets, target: "createAndDrop", args: [m.address, 300, tx], context });
    p.start();
    // a few may still be referenced by the last turns of the loop; 300 would be a leak
    expect(await rx.recv({ timeout: 30_000 })).toBeLessThan(30);
    await p.join({ timeout: 20_000 });
    await until(m, 0);
  });

  it("a proxy handed to a child keeps its object alive after the parent dropped its own reference", async () => {
    await using m = await Manager({ context: "thread" });
    const d = await m.dict<string, string>();
    const [rx, tx] = Pipe({ duplex: false });
    const p = new Process({ module: targets, target: "writeInto", args: [d, tx], context });
    p.start();
    d.dropReference();
    expect(await rx.recv({ timeout: 20_000 })).toBe("child");
    await p.join({ timeout: 20_000 });
    // the parent's connection still pins what it handed out; closing it gives that back
    expect(await m.numberOfObjects()).toBe(1);
  });

  it("a child that receives a proxy and never calls it still ends by itself", async () => {
    await using m = await Manager({ context: "thread" });
    const d = await m.dict();
    const p = new Process({ module: targets, target: "receiveOnly", args: [d], context });
    p.start();
    await p.join({ timeout: 20_000 });
    expect(p.exitCode).toBe(0);
  });

  it("a client cannot give back references it does not hold", async () => {
    await using m = await Manager({ context: "thread" });
    const d = await m.dict();
    const conn = await connectFramed(m.address, { authkey: toAuthkey(currentAuthkey()) });
    try {
      conn.send(serialize({ t: "decref", id: 0, refs: [[d.ref.id, 5]] }));
      conn.send(serialize({ t: "decref", id: 0, refs: "nonsense" }));
    } finally {
      conn.close();
    }
    await until(m, 1);
    expect(await d.size()).toBe(0);
  });
});

describe("remote managers", () => {
  it("a server on TCP with an authkey serves clients that connect(); a wrong key is refused and the server keeps serving", async () => {
    const server = new SyncManager({ address: { host: "127.0.0.1", port: 0 }, authkey: "sesame" });
    let serving!: Promise<void>;
    const address = await new Promise<{ host: string; port: number }>((onReady) => {
      serving = server.serveForever({ onReady: (a) => onReady(a as { host: string; port: number }) });
    });
    expect(server.address).toEqual(address);
    expect(address.port).toBeGreaterThan(0);
    const client = new SyncManager({ address, authkey: "sesame" });
    await client.connect();
    const q = await client.list<string>();
    await q.append("job 1");
    const intruder = new SyncManager({ address, authkey: "wrong" });
    await intruder.connect();
    await expect(intruder.dict()).rejects.toThrow(AuthenticationError);
    expect(await q.toArray()).toEqual(["job 1"]);
    await server.shutdown();
    await serving;
  });

  it("a malformed request, or one carrying a handle that names a module, closes only that connection; nothing is loaded; the server keeps serving", async () => {
    const server = new SyncManager({ address: { host: "127.0.0.1", port: 0 }, authkey: "k2" });
    let serving!: Promise<void>;
    const address = await new Promise<{ host: string; port: number }>((onReady) => {
      serving = server.serveForever({ onReady: (a) => onReady(a as { host: string; port: number }) });
    });
    const raw = await connectFramed(address, { authkey: toAuthkey("k2") });
    const closed = new Promise<Error | undefined>((r) => raw.onClose(r));
    raw.send(Buffer.from([250, 1, 2, 3])); // not a codec value
    await closed;
    const odd = await connectFramed(address, { authkey: toAuthkey("k2") });
    const replies: unknown[] = [];
    odd.setHandler((f) => replies.push(f));
    odd.send(serialize({ t: "create", id: 1, typeid: "dict", args: [] }));
    odd.send(serialize({ t: "call", id: 2, obj: 1, m: "constructor", args: [] })); // not exposed: an error reply
    // a handle naming a module that would leave a marker if it ever ran: refused, nothing loaded
    const dir = mkdtempSync(join(tmpdir(), "ipc-evil-"));
    const marker = join(dir, "ran");
    writeFileSync(join(dir, "evil.png"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "pwned");`);
    const forged = new (class Forged {
      [toHandle](): HandleDescriptor {
        return { type: "test:Evil", module: pathToFileURL(join(dir, "evil.png")).href, state: null };
      }
    })();
    const evil = await connectFramed(address, { authkey: toAuthkey("k2") });
    const evilClosed = new Promise((r) => evil.onClose(r));
    evil.send(serialize({ t: "create", id: 3, typeid: "dict", args: [forged] }));
    await evilClosed;
    expect(existsSync(marker)).toBe(false);
    const client = new SyncManager({ address, authkey: "k2" });
    await client.connect();
    const d = await client.dict();
    await d.set("still", "serving");
    expect(await d.get("still")).toBe("serving");
    odd.close();
    await server.shutdown();
    await serving;
  });

  it("manager lifecycle errors: use before start, start twice, bad options", async () => {
    const m = new SyncManager();
    await expect(m.dict()).rejects.toThrow(InvalidStateError);
    expect(() => new SyncManager(null as never)).toThrow(TypeError);
    expect(() => BaseManager.register("", () => ({}))).toThrow(TypeError);
    expect(() => BaseManager.register("x", 1 as never)).toThrow(TypeError);
    await m.start();
    await expect(m.start()).rejects.toThrow(InvalidStateError);
    const d = await m.dict();
    expect(d).toBeInstanceOf(DictProxy);
    expect(String(d)).toMatch(/DictProxy dict/);
    await m.shutdown();
    await m.shutdown(); // idempotent
    expect(IpcError.isIpcError(new AuthenticationError())).toBe(true);
  });
});
