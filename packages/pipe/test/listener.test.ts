import { describe, expect, it } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { AuthenticationError, ClosedError, EOFError, ProtocolError } from "@ipc/core";
import { frameHeader } from "@ipc/core/internal";
import { Process } from "@ipc/process";
import { Client, Connection, Listener, Pipe } from "@ipc/pipe";
import { rawSession } from "./raw-session.js";

const workers = new URL("./fixtures/workers.mjs", import.meta.url).href;
const peer = fileURLToPath(new URL("./fixtures/net-peer.mjs", import.meta.url));
const families = ["unix", "tcp"] as const;

async function finish(p: Process): Promise<number | null> {
  await p.join({ timeout: 30_000 });
  return p.exitCode;
}

describe.each(families)("Listener and Client (%s)", (family) => {
  it("a client's message reaches the accepted connection, both ways (LIS-02, LIS-07)", async () => {
    const listener = new Listener({ family });
    if (family === "tcp") expect(listener.address).toEqual({ host: "127.0.0.1", port: expect.any(Number) });
    else expect(typeof listener.address).toBe("string");
    expect(listener.lastAccepted).toBe(null);
    const [c, d] = await Promise.all([Client(listener.address), listener.accept()]);
    if (family === "tcp") expect(listener.lastAccepted).toEqual({ host: "127.0.0.1", port: expect.any(Number) });
    else expect(listener.lastAccepted).toBe(null);
    c.send(1729);
    expect(await d.recv({ timeout: 20_000 })).toBe(1729);
    d.sendBytes(new TextEncoder().encode("hello"));
    expect(await c.poll(1000)).toBe(true);
    expect(new TextDecoder().decode(await c.recvBytes())).toBe("hello");
    // sync methods work: the socket lives in the broker thread
    d.send({ sync: true });
    expect(c.recvSync({ timeout: 20_000 })).toEqual({ sync: true });
    c.close();
    await expect(d.recv({ timeout: 20_000 })).rejects.toThrow(EOFError);
    listener.close();
    await expect(listener.accept()).rejects.toThrow(ClosedError);
    listener.close();
  });

  it("a child process's client is accepted (LIS-05) and an early client's message waits for accept (LIS-06)", async () => {
    const listener = new Listener({ family, authkey: "key" });
    const p = new Process({ module: workers, target: "clientSend", args: [listener.address, "hello", "key"], context: "process" });
    p.start();
    expect(await finish(p)).toBe(0);
    // the client connected, sent and closed before accept() was called
    const conn = await listener.accept();
    expect(await conn.recv({ timeout: 20_000 })).toBe("hello");
    listener.close();
  });

  it("a wrong authkey fails on both sides with AuthenticationError, and the listener keeps accepting (LIS-09)", async () => {
    const listener = new Listener({ family, authkey: "right" });
    const accepted = listener.accept().catch((e: unknown) => e);
    await expect(Client(listener.address, { authkey: "wrong" })).rejects.toThrow(AuthenticationError);
    expect(await accepted).toBeInstanceOf(AuthenticationError);
    const [c, d] = await Promise.all([Client(listener.address, { authkey: "right" }), listener.accept()]);
    c.send("fine");
    expect(await d.recv({ timeout: 20_000 })).toBe("fine");
    listener.close();
  });

  it("garbage and oversized frames close that connection with a clear error; the listener keeps accepting", async () => {
    // with an authkey: refused during the handshake
    const guarded = new Listener({ family, authkey: "k" });
    const first = guarded.accept().catch((e: unknown) => e);
    await rawSession(guarded.address, Buffer.from("GET / HTTP/1.1\r\n\r\n"));
    expect(await first).toBeInstanceOf(ProtocolError);
    // without one: the accepted connection reports the protocol error instead of EOF
    const open = new Listener({ family });
    const malformed = Buffer.from([0x80, 0, 0, 1]); // neither a 4-byte length nor the 8-byte escape
    const [, conn] = await Promise.all([rawSession(open.address, malformed), open.accept()]);
    await expect(conn.recv({ timeout: 20_000 })).rejects.toThrow(ProtocolError);
    // a frame cut off by the peer closing: announced 100 bytes, sent 10
    const truncated = Buffer.concat([frameHeader(100), Buffer.alloc(10)]);
    const [, cut] = await Promise.all([rawSession(open.address, truncated, true), open.accept()]);
    await expect(cut.recv({ timeout: 20_000 })).rejects.toThrow(/middle of a frame/);
    const [c, d] = await Promise.all([Client(open.address), open.accept()]);
    c.send("still here");
    expect(await d.recv({ timeout: 20_000 })).toBe("still here");
    const [c2, d2] = await Promise.all([Client(guarded.address, { authkey: "k" }), guarded.accept()]);
    c2.send("also here");
    expect(await d2.recv({ timeout: 20_000 })).toBe("also here");
    guarded.close();
    open.close();
  });

  it("an accepted connection can be handed to a child process (PCK-01)", async () => {
    const listener = new Listener({ family });
    const [c, d] = await Promise.all([Client(listener.address), listener.accept()]);
    const [main, childMain] = Pipe();
    const p = new Process({ module: workers, target: "readAndReply", args: [d, childMain], context: "process" });
    p.start();
    d.close();
    c.send("this connection uses family " + family);
    expect(await main.recv({ timeout: 20_000 })).toBe(`this connection uses family ${family}this connection uses family ${family}`);
    expect(await finish(p)).toBe(0);
    listener.close();
  });
});

describe("Listener addresses", () => {
  it("an empty authkey is a key (LIS-03)", async () => {
    const listener = new Listener({ authkey: new Uint8Array(0) });
    const [c, d] = await Promise.all([Client(listener.address, { authkey: "" }), listener.accept()]);
    c.send(1729);
    expect(await d.recv({ timeout: 20_000 })).toBe(1729);
    listener.close();
  });

  it("Linux abstract socket names work (LIS-04)", async () => {
    const address = `\0ipc-test-${process.pid}-${Date.now()}`;
    const listener = new Listener({ address });
    expect(listener.address).toBe(address);
    const [c, d] = await Promise.all([Client(address), listener.accept()]);
    c.send(1729);
    expect(await d.recv({ timeout: 20_000 })).toBe(1729);
    listener.close();
  });

  it("a second listener on a bound address throws (LIS-01); bad addresses are refused (LIS-08)", () => {
    const unix = new Listener();
    expect(() => new Listener({ address: unix.address })).toThrow(/EADDRINUSE|in use/);
    const tcp = new Listener({ family: "tcp" });
    expect(() => new Listener({ address: tcp.address })).toThrow(/EADDRINUSE|in use/);
    unix.close();
    tcp.close();
    expect(() => new Listener({ address: "\\\\.\\pipe\\test" })).toThrow(RangeError);
    expect(() => new Listener({ address: 42 as never })).toThrow(TypeError);
    expect(() => new Listener({ family: "udp" as never })).toThrow(TypeError);
    expect(() => new Listener({ address: { host: "127.0.0.1", port: 70000 } })).toThrow(RangeError);
    expect(() => new Listener({ family: "tcp", address: "/tmp/x.sock" })).toThrow(TypeError);
  });

  it("Client fails clearly when nobody listens", async () => {
    await expect(Client(`/tmp/ipc-nobody-${process.pid}.sock`)).rejects.toThrow(/ENOENT|ECONNREFUSED/);
    expect(Connection).toBeTypeOf("function");
  });
});

/** Runs a command, resolving with its stdout's first line (or rejecting after 20 s). */
function firstLine(cmd: string, args: string[]): Promise<{ line: string; done: Promise<string> }> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const all: string[] = [];
  const done = new Promise<string>((resolve, reject) => {
    child.on("exit", (code) => (code === 0 ? resolve(all.join("\n")) : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}`))));
  });
  return new Promise((resolve, reject) => {
    lines.on("line", (l) => {
      all.push(l);
      if (all.length === 1) resolve({ line: l, done });
    });
    done.catch(reject);
    setTimeout(() => reject(new Error("no output within 20 s")), 20_000).unref();
  });
}

/** Two network namespaces joined by a veth pair, when this machine allows it. */
function namespaces(): { a: string; b: string; hostA: string; hostB: string; cleanup: () => void } | undefined {
  const a = `ipca${process.pid}`;
  const b = `ipcb${process.pid}`;
  const sh = (...args: string[]) => execFileSync("ip", args, { stdio: "ignore" });
  const cleanup = () => {
    try {
      sh("link", "del", `va${process.pid}`); // still in this namespace if setup stopped early
    } catch {
      // moved into a namespace (deleted with it) or never made
    }
    for (const ns of [a, b]) {
      try {
        sh("netns", "del", ns);
      } catch {
        // not there
      }
    }
  };
  try {
    sh("netns", "add", a);
    sh("netns", "add", b);
    sh("link", "add", `va${process.pid}`, "type", "veth", "peer", "name", `vb${process.pid}`);
    sh("link", "set", `va${process.pid}`, "netns", a);
    sh("link", "set", `vb${process.pid}`, "netns", b);
    sh("-n", a, "addr", "add", "10.231.0.1/24", "dev", `va${process.pid}`);
    sh("-n", b, "addr", "add", "10.231.0.2/24", "dev", `vb${process.pid}`);
    for (const [ns, dev] of [
      [a, `va${process.pid}`],
      [b, `vb${process.pid}`],
    ] as const) {
      sh("-n", ns, "link", "set", dev, "up");
      sh("-n", ns, "link", "set", "lo", "up");
    }
    return { a, b, hostA: "10.231.0.1", hostB: "10.231.0.2", cleanup };
  } catch {
    cleanup();
    return undefined;
  }
}

describe("two machines", () => {
  it("a Listener in one network namespace and a Client in another talk over TCP with an authkey (loopback when namespaces are not available)", async () => {
    const ns = namespaces();
    const node = process.execPath;
    try {
      const listen = ns ? ["ip", ["netns", "exec", ns.a, node, peer, "listen", ns.hostA, "s3cret"]] : [node, [peer, "listen", "127.0.0.1", "s3cret"]];
      const server = await firstLine(listen[0] as string, listen[1] as string[]);
      const { port, host } = JSON.parse(server.line) as { host: string; port: number };
      const connect = ns ? ["ip", ["netns", "exec", ns.b, node, peer, "connect", host, String(port), "s3cret"]] : [node, [peer, "connect", host, String(port), "s3cret"]];
      const client = await firstLine(connect[0] as string, connect[1] as string[]);
      expect(client.line).toBe(`HELLO FROM ${host}`.toUpperCase());
      await client.done;
      await server.done;
    } finally {
      ns?.cleanup();
    }
  });
});
