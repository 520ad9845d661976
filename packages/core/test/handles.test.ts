import { Worker } from "node:worker_threads";
import { expect, it } from "vitest";
import { deserialize, serialize, SerializationError } from "@ipc/core";
// @ts-expect-error untyped fixture
import { Thing } from "./fixtures/thing.mjs";

it("a handle revives where its module was never imported (the module URL travels with it)", async () => {
  const shared: SharedArrayBuffer[] = [];
  const bytes = serialize({ thing: new Thing("hi") }, { target: "thread", shared });
  const w = new Worker(new URL("./fixtures/revive-unimported.mjs", import.meta.url), { workerData: { bytes, shared } });
  const reply = await new Promise((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
  expect(reply).toBe("HI!");
});

it("an unknown handle type without a module is a SerializationError", () => {
  // Tag.Handle, type "zz", module "", state null
  const bytes = new Uint8Array([20, 2, 122, 122, 0, 1]);
  expect(() => deserialize(bytes)).toThrow(SerializationError);
  expect(() => deserialize(bytes)).toThrow(/unknown handle type "zz"/);
});

it("a handle whose module cannot be loaded is a SerializationError", () => {
  const bytes = serialize({ thing: new Thing("x") });
  const bad = Buffer.from(bytes).toString("latin1").replace(/thing\.mjs/, "thong.mjs");
  // the type is registered here, so force a type name nobody registered
  const renamed = Buffer.from(bad.replace("test:Thing", "test:Thang"), "latin1");
  expect(() => deserialize(renamed)).toThrow(/cannot load/);
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
