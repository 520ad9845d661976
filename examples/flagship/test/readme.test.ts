import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";

it("the taste in the root README runs (from here, where @ipc/core, @ipc/process and @ipc/queue resolve)", async () => {
  const out = await runReadmeExamples(fileURLToPath(new URL("../../..", import.meta.url)), fileURLToPath(new URL("..", import.meta.url)));
  const lines = out.get("example-0.mjs")!.trim().split("\n");
  expect(lines.slice(0, 4).sort()).toEqual([0, 1, 2, 3].map((i) => `worker ${i} has the lock`));
  expect(lines[4]).toBe("[ 0, 0, 0, 0 ]");
  // using it in a project: the same program as an ES module and as CommonJS
  expect(out.get("main.mjs")).toBe("{ job: 1 }\n");
  expect(out.get("main.cjs")).toBe("{ job: 1 }\n");
});
