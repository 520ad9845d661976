import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";
import { url } from "./helpers.js";

it("the README examples run and print what the README says", async () => {
  process.env.REDIS_URL = url();
  const out = await runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)));
  expect(out.get("queue.mjs")).toBe("1 { id: 1, op: 'add' }\ntrue\n");
  expect(out.get("pool.mjs")).toBe("[ 1, 4, 9, 16 ]\n144\n");
  expect(out.get("locks.mjs")).toBe("false\nran under the lock\ntrue true false 0\ntrue\n");
  expect(out.get("manager.mjs")).toBe("[ [ 'a', 1 ], [ 'b', 2 ] ] [ 1, 2, 3 ] true\n");
  expect(out.get("data.mjs")).toBe("[ [ 1, '1' ], [ '2', 2 ], [ 0.25, null ] ]\n[ 'c', 'b', 'a' ] 3\n");
});
