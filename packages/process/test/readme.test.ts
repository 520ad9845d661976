import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";

it("the README examples run and print what their comments say", async () => {
  const out = await runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)));
  expect(out.get("main.mjs")).toMatch(/^hello world! from Process-1\n0\n$/);
  const rest = [...out.entries()].filter(([f]) => f.startsWith("example-")).map(([, v]) => v);
  expect(rest).toEqual(["child got 42\n", "Process-1: 1\nProcess-1: 2\nProcess-1: 3\n"]);
});
