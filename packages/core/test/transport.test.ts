import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { AuthenticationError, deserialize, Event, Lock, serialize } from "@ipc/core";
import { arbitraryAddress, childExecArgv, BrokerServer, connectFramed, frameHeader, listenFramed, type FramedSocket } from "@ipc/core/internal";
import type { Server } from "node:net";

const key = Buffer.from("k".repeat(32));
const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function echoServer(address: string | { host: string; port: number }, authkey = key, maxMessageSize?: number) {
  const rejected: Error[] = [];
  const opened: FramedSocket[] = [];
  const ready = listenFramed(address, {
    authkey,
    maxMessageSize,
    onConnection(conn) {
      opened.push(conn);
      conn.setHandler((f) => conn.send(f));
    },
    onRejected: (e) => rejected.push(e),
  }).then((s: Server) => {
    servers.push(s);
    return s;
  });
  return { ready, rejected, opened };
}

function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (pred() ? resolve() : Date.now() > end ? reject(new Error("condition not met")) : setImmediate(tick));
    tick();
  });
}

describe("framed, authenticated connections", () => {
  it("echoes frames over a Unix socket with the mutual HMAC handshake", async () => {
    const address = arbitraryAddress("t");
    await echoServer(address).ready;
    const c = await connectFramed(address, { authkey: key });
    const got: Buffer[] = [];
    c.setHandler((f) => got.push(f));
    for (let i = 0; i < 100; i++) c.send(serialize({ i }));
    c.send(new Uint8Array(0));
    await waitFor(() => got.length === 101);
    expect(deserialize(got[99]!)).toEqual({ i: 99 });
    expect(got[100]!.length).toBe(0);
    c.close();
  });

  it("works over TCP on 127.0.0.1", async () => {
    const s = echoServer({ host: "127.0.0.1", port: 0 });
    const server = await s.ready;
    const port = (server.address() as { port: number }).port;
    const c = await connectFramed({ host: "127.0.0.1", port }, { authkey: key });
    const got: Buffer[] = [];
    c.setHandler((f) => got.push(f));
    c.send(Buffer.from("hi"));
    await waitFor(() => got.length === 1);
    expect(got[0]!.toString()).toBe("hi");
    c.close();
  });

  it("a wrong authkey fails on both sides with AuthenticationError, and the server keeps accepting", async () => {
    const address = arbitraryAddress("t");
    const s = echoServer(address);
    await s.ready;
    await expect(connectFramed(address, { authkey: Buffer.from("wrong") })).rejects.toThrow(AuthenticationError);
    await waitFor(() => s.rejected.length === 1);
    expect(s.rejected[0]).toBeInstanceOf(AuthenticationError);
    const ok = await connectFramed(address, { authkey: key });
    ok.close();
  });

  it("garbage and oversized frames close that connection only", async () => {
    const address = arbitraryAddress("t");
    const s = echoServer(address, key, 64);
    await s.ready;
    // garbage before authentication: a huge length header
    const raw = connect({ path: address });
    await new Promise((r) => raw.once("connect", r));
    raw.resume();
    raw.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await new Promise((r) => raw.once("close", r));
    await waitFor(() => s.rejected.length === 1);
    // oversized after authentication
    const c = await connectFramed(address, { authkey: key });
    const closed = new Promise<Error | undefined>((r) => c.onClose(r));
    c.socket.write(Buffer.concat([frameHeader(65), Buffer.alloc(65)]));
    await closed;
    await waitFor(() => s.opened.length === 1 && s.opened[0]!.closed);
    // still serving
    const d = await connectFramed(address, { authkey: key });
    const got: Buffer[] = [];
    d.setHandler((f) => got.push(f));
    d.send(Buffer.from("ok"));
    await waitFor(() => got.length === 1);
    d.close();
  });
});

describe("writes of one tick", () => {
  it("small frames of a tick go out together, in order with a large frame and with raw bytes written between them", async () => {
    const address = arbitraryAddress("tick");
    const got: Buffer[] = [];
    let server: FramedSocket | undefined;
    const srv = await listenFramed(address, {
      authkey: key,
      onConnection(conn) {
        server = conn;
        conn.setHandler((f) => got.push(f));
      },
    });
    const c = await connectFramed(address, { authkey: key });
    const writes: number[] = [];
    const write = c.socket.write.bind(c.socket);
    c.socket.write = ((chunk: Uint8Array, ...rest: never[]) => (writes.push(chunk.byteLength), write(chunk, ...rest))) as typeof c.socket.write;
    for (let i = 0; i < 1000; i++) c.send(Buffer.from(String(i)));
    // a large frame: after the thousand before it, before the ones after it
    c.send(Buffer.alloc(100_000, 7));
    c.send(Buffer.from("after large"));
    // bytes framed by the caller (a relay's batch) keep their place too
    c.writeRaw(Buffer.concat([frameHeader(3), Buffer.from("raw")]));
    c.send(Buffer.from("last"));
    // within the tick: the thousand in one write (flushed by the large frame), the large frame's
    // header and bytes, "after large" (flushed by the raw write) and the raw bytes; "last" waits
    const inTick = writes.length;
    await new Promise((r) => setImmediate(r));
    expect(inTick).toBe(5);
    expect(writes.length).toBe(6);
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(1004);
    expect(got.slice(0, 1000).map(String)).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)));
    expect(got[1000]!.length).toBe(100_000);
    expect(got.slice(1001).map(String)).toEqual(["after large", "raw", "last"]);
    c.socket.write = write;
    c.close();
    server?.close();
    srv.close();
  });
});

describe("the first frames after the handshake", () => {
  it("a large frame sent right behind the handshake, then a close, still reaches the server's handler", async () => {
    const address = arbitraryAddress("t");
    const got: number[] = [];
    let closed = false;
    await listenFramed(address, {
      authkey: key,
      onConnection(conn) {
        conn.onClose(() => (closed = true));
        conn.setHandler((f) => {
          got.push(f.length);
          // the first handler hands the connection to another, as a hub does
          conn.setHandler((g) => got.push(g.length));
        });
      },
    }).then((s) => servers.push(s));
    const c = await connectFramed(address, { authkey: key });
    c.send(Buffer.alloc(10));
    c.send(Buffer.alloc(5000)); // larger than the handshake limit
    await c.flushed();
    c.close();
    await waitFor(() => got.length === 2 && closed);
    expect(got).toEqual([10, 5000]);
  });
});

describe("broker", () => {
  it("serves a lock, survives garbage and wrong keys, and releases locks of a departed party", async () => {
    const address = arbitraryAddress("b");
    const broker = new BrokerServer({ address, authkey: key });
    servers.push(broker);
    await broker.listen();
    const lock = new Lock();
    const shared: SharedArrayBuffer[] = [];
    broker.register({ id: 1, bytes: serialize(lock, { target: "thread", shared }), shared });

    const c = await connectFramed(address, { authkey: key });
    const replies: Record<string, unknown>[] = [];
    c.setHandler((f) => replies.push(deserialize(f)));
    const call = (id: number, m: string, args: unknown[] = [], obj = 1) => c.send(serialize({ t: "call", id, obj, m, a: serialize(args) }));
    call(1, "acquire", [{}]);
    await waitFor(() => replies.length === 1);
    expect(deserialize(replies[0]!.v as Uint8Array)).toBe(true);
    expect(lock.locked()).toBe(true);
    call(2, "nope");
    call(3, "locked", [], 99);
    // options that are not an object are refused with a TypeError reply
    call(4, "acquire", [Infinity]);
    await waitFor(() => replies.length === 4);
    const byId = (id: number) => replies.find((r) => r.id === id)!;
    expect(String((byId(2).e as Error).message)).toMatch(/Lock has no remote method nope/);
    expect(String((byId(3).e as Error).message)).toMatch(/no shared object with id 99/);
    expect(byId(4).e).toBeInstanceOf(TypeError);

    // garbage frame from an authenticated peer: that connection closes...
    const bad = await connectFramed(address, { authkey: key });
    const badClosed = new Promise((r) => bad.onClose(r));
    bad.send(Buffer.from([250, 1, 2]));
    await badClosed;
    // ...wrong key is refused...
    await expect(connectFramed(address, { authkey: Buffer.from("nope") })).rejects.toThrow(AuthenticationError);
    // ...and the first party disconnecting releases its lock
    c.close();
    await waitFor(() => !lock.locked());
    expect(await lock.acquire({ timeout: 0 })).toBe(true);
    lock.release();
  });
});

describe("broker bounds", () => {
  it("a connection flooding 20k calls has at most ~256 in progress; the rest wait in its own socket and are all answered", async () => {
    const address = arbitraryAddress("bounds");
    const broker = new BrokerServer({ address, authkey: key });
    servers.push(broker);
    await broker.listen();
    const event = new Event();
    const shared: SharedArrayBuffer[] = [];
    broker.register({ id: 1, bytes: serialize(event, { target: "thread", shared }), shared });
    const c = await connectFramed(address, { authkey: key });
    let answered = 0;
    c.setHandler(() => answered++);
    const N = 20_000;
    const args = serialize([{}]);
    for (let id = 1; id <= N; id++) c.send(serialize({ t: "call", id, obj: 1, m: "wait", a: args }));
    // the broker reads until 256 calls are in progress (plus the rest of the chunk it was decoding)
    await waitFor(() => broker.calls >= 256);
    const sample = broker.calls;
    await new Promise((r) => setImmediate(r));
    expect(broker.calls).toBe(sample);
    expect(broker.calls).toBeLessThan(256 + 4096);
    expect(answered).toBe(0);
    // another connection is served meanwhile
    const d = await connectFramed(address, { authkey: key });
    const replies: unknown[] = [];
    d.setHandler((f) => replies.push(deserialize(f)));
    d.send(serialize({ t: "call", id: 1, obj: 1, m: "isSet", a: serialize([]) }));
    await waitFor(() => replies.length === 1);
    event.set();
    await waitFor(() => answered === N, 20_000);
    expect(broker.calls).toBe(0);
    c.close();
    d.close();
  });
});

describe("broker sweep", () => {
  it("forgets the objects that report themselves finished, and only those", async () => {
    const address = arbitraryAddress("sweep");
    const broker = new BrokerServer({ address, authkey: key });
    servers.push(broker);
    await broker.listen();
    const shared: SharedArrayBuffer[] = [];
    broker.register({ id: 1, bytes: serialize(new Lock(), { target: "thread", shared }), shared });
    expect(broker.size).toBe(1);
    expect(broker.sweep()).toBe(0); // a lock is never finished
    expect(broker.size).toBe(1);
  });
});

describe("nothing left behind", () => {
  // a process whose broker runs (a Lock handed to another process without the addon), then waits
  const script = `import { Lock, serialize } from "@ipc/core"; serialize(new Lock()); console.log("ready"); setInterval(() => {}, 1 << 30);`;
  for (const signal of ["SIGTERM", "SIGINT", "SIGKILL"] as const) {
    it(`a process ended by ${signal} leaves no broker socket file (Linux: an abstract socket)`, async () => {
      // socket files already there (a process of an old run whose pid the child may reuse) do not count
      const before = new Set(readdirSync(tmpdir()));
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, IPC_NATIVE: "0" }, stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once("line", () => resolve());
        child.once("exit", (code) => reject(new Error(`exited early (${code})`)));
      });
      const pid = child.pid!;
      // the broker listens (in the abstract namespace on Linux, in the temporary directory elsewhere)
      const listening = () => readFileSync("/proc/net/unix", "utf8").includes(`@ipc-broker-${pid}-`);
      const deadline = Date.now() + 10_000;
      while (!listening() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(listening()).toBe(true);
      const exited = once(child, "exit");
      child.kill(signal);
      await exited;
      expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`ipc-broker-${pid}-`) && !before.has(f))).toEqual([]);
      expect(listening()).toBe(false);
    });
  }
});

describe("children of a script given on the command line", () => {
  it("childExecArgv drops the flags of a script given with -e/-p", () => {
    expect(childExecArgv(["--input-type=module", "-e", "x()", "--max-old-space-size=64", "--eval", "y", "-p", "z", "--print=w", "--input-type", "commonjs", "--inspect"])).toEqual([
      "--max-old-space-size=64",
      "--inspect",
    ]);
    expect(childExecArgv([])).toEqual([]);
  });
});
