import { describe, expect, it } from "vitest";
import { connect as netConnect } from "node:net";
import { MessageTooLargeError, ProtocolError, serialize } from "@ipc/core";
import { Process } from "@ipc/process";
import { Client, Listener, Pipe } from "@ipc/pipe";
import { rawSession } from "./raw-session.js";

const workers = new URL("./fixtures/workers.mjs", import.meta.url).href;
const contexts = ["thread", "process"] as const;
const families = ["unix", "tcp"] as const;
const MiB = 2 ** 20;
/** Larger than the 256 MiB per-frame limit the process transport used to have. */
const LARGE = 300 * MiB;

function pattern(n: number): Uint8Array {
  const big = new Uint8Array(n);
  for (let i = 0; i < n; i += 4099) big[i] = (i / 4099) & 0xff;
  return big;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

describe.each(contexts)("messages of any size (%s)", (context) => {
  it("a 300 MiB message passes to a child and back intact", async () => {
    const [a, b] = Pipe();
    const p = new Process({ module: workers, target: "echoBytes", args: [b], context });
    p.start();
    b.close();
    const big = pattern(LARGE);
    a.sendBytes(big);
    a.sendBytes(new Uint8Array(0));
    expect(same(await a.recvBytes({ timeout: 60_000 }), big)).toBe(true);
    expect((await a.recvBytes({ timeout: 60_000 })).byteLength).toBe(0);
    await p.join({ timeout: 60_000 });
    expect(p.exitCode).toBe(0);
  }, 120_000);

  it("maxMessageSize travels with a handed end: the child's sends past it throw MessageTooLargeError and the connection stays usable", async () => {
    const limit = 64 * 1024;
    const [a, b] = Pipe({ maxMessageSize: limit });
    const p = new Process({ module: workers, target: "sendTooLarge", args: [b, limit], context });
    p.start();
    expect(await a.recv({ timeout: 20_000 })).toEqual({ refused: Array(4).fill("MessageTooLargeError"), limit });
    expect((await a.recvBytes({ timeout: 20_000 })).byteLength).toBe(limit);
    await p.join({ timeout: 30_000 });
    expect(p.exitCode).toBe(0);
  }, 60_000);
});

describe("maxMessageSize on a Pipe", () => {
  it("every send form refuses a larger message before sending anything; the pipe stays usable", async () => {
    const [a, b] = Pipe({ maxMessageSize: 1000 });
    expect(a.maxMessageSize).toBe(1000);
    expect(Pipe()[0].maxMessageSize).toBe(Infinity);
    expect(() => a.sendBytes(new Uint8Array(1001))).toThrow(MessageTooLargeError);
    expect(() => a.sendBytes(new Uint8Array(1001))).toThrow(/1001 bytes exceeds this connection's maxMessageSize of 1000 bytes/);
    expect(() => a.sendBytesSync(new Uint8Array(2000), 0, 1001)).toThrow(MessageTooLargeError);
    // for values, the serialized size counts
    expect(() => a.send(new Uint8Array(1000))).toThrow(MessageTooLargeError);
    expect(() => a.sendSync("x".repeat(1000))).toThrow(MessageTooLargeError);
    expect(await b.poll(0)).toBe(false);
    a.sendBytes(new Uint8Array(2000), 1000); // 1000 bytes: fits
    a.send("fits");
    expect((await b.recvBytes()).byteLength).toBe(1000);
    expect(await b.recv()).toBe("fits");
    const err = (() => {
      try {
        a.sendBytes(new Uint8Array(1001));
      } catch (e) {
        return e as MessageTooLargeError;
      }
    })();
    expect(err?.name).toBe("MessageTooLargeError");
    expect(err?.code).toBe("ERR_IPC_MESSAGE_TOO_LARGE");
  });

  it("bad values are refused with clear errors", () => {
    expect(() => Pipe({ maxMessageSize: 0 })).toThrow(RangeError);
    expect(() => Pipe({ maxMessageSize: 2 ** 32 })).toThrow(RangeError);
    expect(() => Pipe({ maxMessageSize: 1.5 })).toThrow(/maxMessageSize/);
    expect(() => Pipe({ maxMessageSize: "1" as never })).toThrow(TypeError);
    expect(() => new Listener({ maxMessageSize: -1 })).toThrow(RangeError);
  });
});

describe.each(families)("messages of any size over Listener and Client (%s)", (family) => {
  it("a 300 MiB message passes both ways", async () => {
    const listener = new Listener({ family, authkey: "k" });
    const [c, d] = await Promise.all([Client(listener.address, { authkey: "k" }), listener.accept()]);
    const big = pattern(LARGE);
    c.sendBytes(big);
    const got = await d.recvBytes({ timeout: 60_000 });
    expect(same(got, big)).toBe(true);
    d.sendBytes(got);
    expect(same(await c.recvBytes({ timeout: 60_000 }), big)).toBe(true);
    c.close();
    d.close();
    listener.close();
  }, 120_000);

  it("maxMessageSize: both sides refuse to send more; a peer that sends more anyway is cut off and the listener keeps serving", async () => {
    const limit = 4096;
    const listener = new Listener({ family, maxMessageSize: limit });
    const [c, d] = await Promise.all([Client(listener.address, { maxMessageSize: limit }), listener.accept()]);
    expect([c.maxMessageSize, d.maxMessageSize]).toEqual([limit, limit]);
    expect(() => c.sendBytes(new Uint8Array(limit + 1))).toThrow(MessageTooLargeError);
    expect(() => d.sendBytes(new Uint8Array(limit + 1))).toThrow(MessageTooLargeError);
    c.sendBytes(new Uint8Array(limit));
    expect((await d.recvBytes({ timeout: 20_000 })).byteLength).toBe(limit);
    // a raw peer ignores the limit: the frame's header alone ends its connection
    const header = Buffer.alloc(4);
    header.writeUInt32BE(limit + 1);
    const [, cut] = await Promise.all([rawSession(listener.address, header), listener.accept()]);
    await expect(cut.recv({ timeout: 20_000 })).rejects.toThrow(ProtocolError);
    c.send("still served");
    expect(await d.recv({ timeout: 20_000 })).toBe("still served");
    c.close();
    d.close();
    listener.close();
  }, 60_000);

  it("reads Python's long frame header (0xFFFFFFFF, then an 8-byte length)", async () => {
    const listener = new Listener({ family });
    const payload = Buffer.from(serialize("long form"));
    const header = Buffer.alloc(12);
    header.writeUInt32BE(0xffffffff, 0);
    header.writeBigUInt64BE(BigInt(payload.byteLength), 4);
    const s = netConnect(typeof listener.address === "string" ? { path: listener.address } : listener.address);
    s.on("error", () => {});
    s.write(Buffer.concat([header, payload]));
    const conn = await listener.accept();
    expect(await conn.recv({ timeout: 20_000 })).toBe("long form");
    s.destroy();
    conn.close();
    listener.close();
  });
});
