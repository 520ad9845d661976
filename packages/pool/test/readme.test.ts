import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";

it("the README examples run and print what their comments say", async () => {
  const out = await runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)));
  const n = 100_000;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += i * i;
  expect(out.get("main.mjs")).toBe(`[ 1, 4, 9 ]\n5\n[ 3, 7 ]\nTimeoutError\n200 true\n${sum}\n`);
});
