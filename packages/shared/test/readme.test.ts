import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";

it("the README examples run and print what their comments say", async () => {
  const out = await runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)));
  const [basic, children] = [...out.values()];
  expect(basic).toBe("1\n1099511627777n\n[ 0.5, 1.5 ] 9 3\nhello\n{ count: 1n, mean: 0.5, flags: 3 }\n1.25\n");
  expect(children).toBe("285 [\n   0,  1,  4,  9, 16,\n  25, 36, 49, 64, 81\n]\n");
});
