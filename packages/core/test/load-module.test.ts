import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { serialize } from "@ipc/core";
// @ts-expect-error untyped fixture
import { Stamp } from "./fixtures/stamp-tla.mjs";

function serializeStamp(label: string): Uint8Array {
  return serialize(new Stamp(label));
}

// run in a plain Node process against the build: vitest's own module runner would stand between
// `import()` and Node's loader (its modules are separate instances from Node's `require` cache)
const dir = mkdtempSync(join(tmpdir(), "ipc-load-module-"));
function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return pathToFileURL(join(dir, name)).href;
}
/** Runs `body` with `loadModule` from the ES build and from the CommonJS build; both must agree. */
function run(body: string): unknown {
  const names = "loadModule, loadHandleModules, deserialize, allowHandleModule";
  const esm = `import { ${names} } from "@ipc/core/internal"; const out = {}; ${body}; console.log(JSON.stringify(out));`;
  const cjs = `const { ${names} } = require("@ipc/core/internal"); (async () => { const out = {}; ${body}; console.log(JSON.stringify(out)); })();`;
  const results = [esm, cjs].map((script, k) =>
    JSON.parse(execFileSync(process.execPath, [`--input-type=${k ? "commonjs" : "module"}`, "-e", script], { cwd: process.cwd(), encoding: "utf8" })),
  );
  expect(results[1]).toEqual(results[0]);
  return results[0];
}

describe("loadModule", () => {
  it("gives an ES module's namespace, the very exports import() gives", () => {
    const url = file("esm.mjs", "export const x = 1; export default function f() { return 2; }");
    expect(run(`const ns = await loadModule(${JSON.stringify(url)}); const i = await import(${JSON.stringify(url)});
      out.x = ns.x; out.f = ns.default(); out.same = ns.default === i.default; out.tag = ns[Symbol.toStringTag];`)).toEqual({ x: 1, f: 2, same: true, tag: "Module" });
  });

  it("loads a module with top-level await through import()", () => {
    const url = file("tla.mjs", "await Promise.resolve(); export const y = 42;");
    expect(run(`out.y = (await loadModule(${JSON.stringify(url)})).y;`)).toEqual({ y: 42 });
  });

  it("gives a CommonJS module's exports with default, evaluated once, also when imported after", () => {
    const url = file("cjs.cjs", "globalThis.loads = (globalThis.loads || 0) + 1; exports.z = 3;");
    expect(run(`const ns = await loadModule(${JSON.stringify(url)}); const i = await import(${JSON.stringify(url)});
      out.z = ns.z; out.dz = ns.default.z; out.same = i.default === ns.default; out.loads = globalThis.loads;`)).toEqual({ z: 3, dz: 3, same: true, loads: 1 });
  });

  it("throws what the module throws, evaluating it once", () => {
    const url = file("throws.mjs", "globalThis.loads = (globalThis.loads || 0) + 1; throw new RangeError('boom');");
    expect(run(`try { await loadModule(${JSON.stringify(url)}); } catch (e) { out.name = e.name; out.message = e.message; } out.loads = globalThis.loads;`)).toEqual({
      name: "RangeError",
      message: "boom",
      loads: 1,
    });
  });

  it("rejects a missing file and loads other URLs with import()", () => {
    const missing = pathToFileURL(join(dir, "missing.mjs")).href;
    expect(run(`try { await loadModule(${JSON.stringify(missing)}); } catch (e) { out.code = e.code; } out.d = (await loadModule("data:text/javascript,export const d = 4;")).d;`)).toEqual({
      code: "ERR_MODULE_NOT_FOUND",
      d: 4,
    });
  });
});

describe("loadHandleModules", () => {
  // a handle of a type whose module has top-level await, serialized here; the child never imported it
  const stamp = pathToFileURL(join(__dirname, "fixtures", "stamp-tla.mjs")).href;
  const bytes = (label: string) => `Buffer.from(${JSON.stringify(Buffer.from(serializeStamp(label)).toString("base64"))}, "base64")`;

  it("imports the modules of handle types not registered yet, so deserialize revives them", () => {
    expect(run(`await loadHandleModules([["test:Stamp", ${JSON.stringify(stamp)}]]); out.shout = deserialize(${bytes("hi")}).shout();`)).toEqual({ shout: "HI!" });
  });

  it("is needed for such a module: reviving it without loading it first cannot require() it, even where allowed", () => {
    expect(run(`try { deserialize(${bytes("x")}); } catch (e) { out.refused = e.name + ": " + e.message; }
      allowHandleModule(${JSON.stringify(stamp)});
      try { deserialize(${bytes("x")}); } catch (e) { out.name = e.name; out.message = e.message; out.cause = e.cause?.code; }`)).toEqual({
      refused: `SerializationError: cannot revive a handle of type "test:Stamp": it is not registered in this thread (import its module here, or allow it with allowHandleModule())`,
      name: "SerializationError",
      message: `cannot load ${stamp} to revive a handle`,
      cause: "ERR_REQUIRE_ASYNC_MODULE",
    });
  });

  it("skips registered types and fails with a SerializationError naming a module that cannot load", () => {
    const missing = pathToFileURL(join(dir, "gone.mjs")).href;
    expect(run(`await loadHandleModules([["test:Stamp", ${JSON.stringify(stamp)}]]); await loadHandleModules([["test:Stamp", ${JSON.stringify(missing)}]]); out.skipped = true;
      try { await loadHandleModules([["test:Gone", ${JSON.stringify(missing)}]]); } catch (e) { out.name = e.name; out.message = e.message; out.cause = e.cause?.code; }`)).toEqual({
      skipped: true,
      name: "SerializationError",
      message: `cannot load ${missing} to revive a handle`,
      cause: "ERR_MODULE_NOT_FOUND",
    });
  });
});
