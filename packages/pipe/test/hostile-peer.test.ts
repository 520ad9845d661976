// What a peer on a socket can make a Listener's process do: receive data, nothing else. No
// module it names is loaded, no memory it names is mapped, and what it floods stays bounded.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { connect as netConnect } from "node:net";
import { AuthenticationError, type HandleDescriptor, Lock, SerializationError, toHandle } from "@ipc/core";
import { frameHeader } from "@ipc/core/internal";
import { Client, Listener, Pipe } from "@ipc/pipe";

const flood = fileURLToPath(new URL("./fixtures/flood.mjs", import.meta.url));
const families = ["unix", "tcp"] as const;

/** A handle of any type and module, as a hostile sender writes it. */
class Forged {
  constructor(
    readonly type: string,
    readonly module: string,
    readonly state: unknown = null,
  ) {}
  [toHandle](): HandleDescriptor {
    return { type: this.type, module: this.module, state: this.state };
  }
}

describe.each(families)("a hostile peer (%s)", (family) => {
  it("cannot make the receiver load a module or revive any handle; the connection keeps carrying data", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ipc-evil-"));
    const marker = join(dir, "ran");
    const evil = join(dir, "upload.png");
    writeFileSync(evil, `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "pwned");`);
    const listener = new Listener({ family, authkey: "k" });
    const [c, d] = await Promise.all([Client(listener.address, { authkey: "k" }), listener.accept()]);
    const [, far] = Pipe();
    const sent = [
      new Forged("evil:Thing", pathToFileURL(evil).href),
      new Forged("@ipc/pipe:Connection", pathToFileURL(evil).href, { end: 0, from: 1, duplex: true, ringSize: 1024 }),
      new Forged("@ipc/core:Lock", "", { native: { path: evil, block: { id: 1, fd: 1, size: 8192, partyOffset: 4096, ownerWords: "all" }, byteOffset: 0, count: 2 } }),
      new Lock(),
      far,
    ];
    for (const value of sent) {
      c.send({ value });
      c.send("after");
      const error = await d.recv({ timeout: 20_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SerializationError);
      expect((error as Error).message).toMatch(/cannot arrive from a network peer/);
      expect(await d.recv({ timeout: 20_000 })).toBe("after");
    }
    expect(existsSync(marker)).toBe(false);
    // handed to a thread, the connection still treats what arrives as a peer's
    c.send(new Lock());
    expect((await d.recv({ timeout: 20_000 }).catch((e: unknown) => e)) as Error).toBeInstanceOf(SerializationError);
    c.close();
    d.close();
    far.close();
    listener.close();
  });

  it("a client without an authkey meeting a listener that has one gets AuthenticationError, on both sides", async () => {
    const listener = new Listener({ family, authkey: "k" });
    const accepted = listener.accept().catch((e: unknown) => e);
    const c = await Client(listener.address);
    await expect(c.recv({ timeout: 20_000 })).rejects.toThrow(AuthenticationError);
    await expect(c.recv({ timeout: 20_000 })).rejects.toThrow(/requires an authkey/);
    c.close();
    expect(await accepted).toBeInstanceOf(AuthenticationError);
    listener.close();
  });

  it("a peer that floods the handshake with frames instead of answering is cut off; the listener keeps accepting", async () => {
    const listener = new Listener({ family, authkey: "k" });
    const accepted = listener.accept().catch((e: unknown) => e);
    // 200 small, well-formed frames that are no answer to the challenge
    const frame = Buffer.concat([frameHeader(1000), Buffer.alloc(1000, 1)]);
    await new Promise<void>((resolve, reject) => {
      const s = netConnect(typeof listener.address === "string" ? { path: listener.address } : listener.address);
      s.on("connect", () => s.write(Buffer.concat(Array.from({ length: 200 }, () => frame))));
      s.on("data", () => {});
      s.on("error", () => resolve());
      s.on("close", () => resolve());
      setTimeout(() => reject(new Error("the listener kept the connection open")), 20_000).unref();
    });
    const error = await accepted;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toMatch(/ProtocolError|AuthenticationError/);
    const [c, d] = await Promise.all([Client(listener.address, { authkey: "k" }), listener.accept()]);
    c.send("served");
    expect(await d.recv({ timeout: 20_000 })).toBe("served");
    c.close();
    d.close();
    listener.close();
  });

  /** Starts the flooder against `address`; resolves with its verdict line. */
  function flooder(address: Listener["address"]) {
    const child = spawn(process.execPath, [flood, JSON.stringify(address), "8", "768"], { stdio: ["ignore", "pipe", "inherit"] });
    const verdict = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`the flooder exited (${code})`)));
      setTimeout(() => reject(new Error("the flooder never stalled nor finished")), 60_000).unref();
    });
    return { child, verdict };
  }

  const MiB = 2 ** 20;
  for (const stage of ["not accepted", "accepted and not read"] as const) {
    it(`a peer flooding a connection ${stage} leaves the receiver's memory bounded, and other clients are served`, async () => {
      const listener = new Listener({ family });
      const before = process.memoryUsage().rss;
      const { child, verdict } = flooder(listener.address);
      try {
        const flooded = stage === "not accepted" ? undefined : await listener.accept();
        const [what, bytes] = (await verdict).split(" ");
        // the receiver stopped reading: the flooder got no further than a bounded amount
        expect(what).toBe("stalled");
        expect(Number(bytes)).toBeLessThan(64 * MiB);
        expect(process.memoryUsage().rss - before).toBeLessThan(160 * MiB);
        // another client is served meanwhile (the flood is first in line to be accepted)
        const next = listener.accept();
        if (!flooded) await next;
        const [c, d] = await Promise.all([Client(listener.address), flooded ? next : listener.accept()]);
        for (let i = 0; i < 20; i++) {
          c.send(i);
          expect(await d.recv({ timeout: 20_000 })).toBe(i);
        }
        c.close();
        flooded?.close();
      } finally {
        child.kill("SIGKILL");
        listener.close();
      }
    });
  }
});
