import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { expect, it } from "vitest";
import {
  allowHandleModule,
  deserialize,
  type HandleDescriptor,
  type Handleable,
  IpcError,
  Lock,
  nativeAvailable,
  registerHandleType,
  serialize,
  SerializationError,
  toHandle,
} from "@ipc/core";
// @ts-expect-error untyped fixture
import { Thing } from "./fixtures/thing.mjs";

/** A handle of any type and module the sender chooses, as a hostile sender would write it. */
class Forged {
  constructor(
    readonly type: string,
    readonly module: string | undefined,
    readonly state: unknown = null,
  ) {}
  [toHandle](): HandleDescriptor {
    return { type: this.type, module: this.module, state: this.state };
  }
}

/** A module that, if it ever ran, would leave `marker` behind. */
function evilModule(): { url: string; marker: string } {
  const dir = mkdtempSync(join(tmpdir(), "ipc-evil-"));
  const marker = join(dir, "ran");
  const file = join(dir, "evil.png");
  writeFileSync(file, `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "pwned");`);
  return { url: pathToFileURL(file).href, marker };
}

it("a handle whose module this thread never imported is refused, with no side effect, until the program allows that module", async () => {
  const shared: SharedArrayBuffer[] = [];
  const bytes = serialize({ thing: new Thing("hi") }, { target: "thread", shared });
  const allow = new URL("./fixtures/thing.mjs", import.meta.url).href;
  const w = new Worker(new URL("./fixtures/revive-unimported.mjs", import.meta.url), { workerData: { bytes, shared, allow } });
  const reply = await new Promise((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
  expect(reply).toEqual({
    before: `SerializationError: cannot revive a handle of type "test:Thing": it is not registered in this thread (import its module here, or allow it with allowHandleModule())`,
    loadedBefore: 0,
    after: "HI!",
  });
});

it("an unknown handle type without a module is a SerializationError naming the type", () => {
  // Tag.Handle, type "zz", module "", state null
  const bytes = new Uint8Array([20, 2, 122, 122, 0, 1]);
  expect(() => deserialize(bytes)).toThrow(SerializationError);
  expect(() => deserialize(bytes)).toThrow(/cannot revive a handle of type "zz"/);
});

it("a module a sender names is never loaded: any file, or a path outside @ipc's own package for an @ipc type", () => {
  const { url, marker } = evilModule();
  for (const type of ["evil:Thing", "@ipc/queue:Queue", "@ipc/core:Lock-nope", "@ipc/nope:X"]) {
    const bytes = serialize(new Forged(type, url));
    // an @ipc type that the receiver's own copy of the package registers may revive, from that
    // copy: then the forged state is refused; anything else is refused by its type
    expect(() => deserialize(bytes)).toThrow(SerializationError);
    expect(() => deserialize(bytes)).toThrow(new RegExp(`cannot revive a handle of type "${type}"|bad ${type} handle`));
  }
  expect(existsSync(marker)).toBe(false);
});

it("an allowed module that fails to load or does not register the type is a SerializationError", () => {
  const missing = pathToFileURL(join(tmpdir(), "ipc-no-such-module.mjs")).href;
  allowHandleModule(missing);
  expect(() => deserialize(serialize(new Forged("test:Thang", missing)))).toThrow(`cannot load ${missing} to revive a handle`);
  const thing = new URL("./fixtures/thing.mjs", import.meta.url).href;
  allowHandleModule(new URL(thing));
  expect(() => deserialize(serialize(new Forged("test:Thang", thing)))).toThrow(`cannot revive a handle of type "test:Thang": ${thing} did not register it`);
  expect(() => allowHandleModule(5 as never)).toThrow(TypeError);
});

it("bytes from a network peer revive no handle, not even a registered type, unless it is registered for peers", () => {
  const bytes = serialize({ thing: new Thing("x") });
  expect((deserialize(bytes) as { thing: { shout(): string } }).thing.shout()).toBe("X!");
  expect(() => deserialize(bytes, { peer: true })).toThrow(`a handle of type "test:Thing" cannot arrive from a network peer (only data does)`);
  registerHandleType("test:PeerSafe", (state: { n: number }) => ({ n: state.n + 1 }), { fromPeers: true });
  expect(deserialize(serialize(new Forged("test:PeerSafe", undefined, { n: 1 })), { peer: true })).toEqual({ n: 2 });
  // plain data and registered classes still arrive
  expect(deserialize(serialize({ a: [1, "b", new Map([[1, 2]])] }), { peer: true })).toEqual({ a: [1, "b", new Map([[1, 2]])] });
  expect(() => registerHandleType("", () => 1)).toThrow(TypeError);
  expect(() => registerHandleType("x", 1 as never)).toThrow(TypeError);
});

it("a forged lock handle naming an ordinary file maps nothing and writes nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "ipc-forge-"));
  const file = join(dir, "victim.txt");
  const content = "x".repeat(8192);
  writeFileSync(file, content);
  const fd = openSync(file, "r+");
  try {
    const block = { id: 1, fd, size: 8192, partyOffset: 4096, ownerWords: "all" };
    for (const path of [file, `/proc/${process.pid}/fd/${fd}`, `/proc/${process.pid}/fd/${fd}/../${fd}`]) {
      const forged = new Forged("@ipc/core:Lock", undefined, { native: { path, block, byteOffset: 0, count: 2 } });
      let error: unknown;
      try {
        const lock = deserialize(serialize(forged)) as Lock;
        lock.acquireSync();
        lock.release();
      } catch (e) {
        error = e;
      }
      // SerializationError for a path that is no process's descriptor or memory the addon did not
      // make; without the addon, the IpcError that it cannot map memory of another process
      expect(IpcError.isIpcError(error)).toBe(true);
      expect((error as Error).message).toMatch(/must be a descriptor of a process|is not @ipc shared memory|@ipc\/native is not loaded/);
    }
  } finally {
    closeSync(fd);
  }
  expect(readFileSync(file, "utf8")).toBe(content);
});

it.runIf(nativeAvailable())("a handle naming a block its home released (another block at that path now) is refused, never mapped as the wrong memory", () => {
  const lock = new Lock();
  const d = (lock as unknown as Handleable)[toHandle]({ target: "process" }) as HandleDescriptor;
  const native = (d.state as { native: { block: { stamp: number } } }).native;
  // the same path and size, another block's stamp: what a late handle meets once the descriptor number was re-used
  const stale = { ...(d.state as object), native: { ...native, block: { ...native.block, stamp: (native.block.stamp % 1000) + 1 + native.block.stamp } } };
  expect(() => deserialize(serialize(new Forged(d.type, undefined, stale)))).toThrow(/shared memory of this handle is gone/);
  const same = deserialize(serialize(new Forged(d.type, undefined, d.state))) as Lock;
  same.acquireSync();
  expect(lock.acquireSync({ timeout: 0 })).toBe(false);
  same.release();
  expect(lock.acquireSync({ timeout: 0 })).toBe(true);
  lock.release();
});

it("input nested deeper than the stack allows is a SerializationError both ways", () => {
  let deep: unknown[] = [];
  for (let i = 0; i < 200_000; i++) deep = [deep];
  expect(() => serialize(deep)).toThrow(SerializationError);
  expect(() => serialize(deep)).toThrow(/nested too deeply/);
  // 200k Tag.Array headers of length 1, then an empty array
  const n = 200_000;
  const nested = serialize([[]]);
  const header = nested.subarray(0, (nested.length - 1) / 2);
  const bytes = new Uint8Array(n * header.length + nested.length - header.length);
  for (let i = 0; i < n; i++) bytes.set(header, i * header.length);
  bytes.set(nested.subarray(header.length), n * header.length);
  expect(() => deserialize(bytes)).toThrow(/nested too deeply to decode/);
  expect(deserialize(serialize([[1]]))).toEqual([[1]]);
});

it("serialize's handleModules collects the type and module of every handle met, once each", () => {
  const handleModules = new Map<string, string>();
  const a = new Thing("a");
  serialize({ list: [a, new Thing("b"), a], nested: { deep: [new Thing("c")] } }, { handleModules });
  expect([...handleModules]).toEqual([["test:Thing", new URL("./fixtures/thing.mjs", import.meta.url).href]]);
  // a value without handles adds nothing; without the option nothing is collected
  const empty = new Map<string, string>();
  serialize({ n: 1, s: "x" }, { handleModules: empty });
  expect(empty.size).toBe(0);
  expect(() => serialize({ t: new Thing("d") })).not.toThrow();
});

it("a reviver may deserialize and serialize while the outer value is being decoded; back-references of both stay their own", () => {
  const inner = serialize({ shared: [1, 2], again: null as unknown });
  registerHandleType("test:Nested", (state: { bytes: Uint8Array }) => {
    const v = deserialize<{ shared: number[] }>(state.bytes);
    serialize({ during: v }); // the encoder is free to use too
    return v;
  });
  const outerShared = { o: 1 };
  const bytes = serialize({ a: outerShared, h: new Forged("test:Nested", undefined, { bytes: inner }), b: outerShared });
  const out = deserialize<{ a: object; h: { shared: number[] }; b: object }>(bytes);
  expect(out.h).toEqual({ shared: [1, 2], again: null });
  expect(out.b).toBe(out.a);
  expect(out.a).toEqual({ o: 1 });
});
