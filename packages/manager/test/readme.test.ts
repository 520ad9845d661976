import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";

it("the README examples run and print what their comments say", async () => {
  const out = await runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)));
  const outputs = [...out.entries()];
  const [first, children, , counter, remote, queue, lifetime] = outputs.map(([, v]) => v);
  expect(first).toBe("[ [ 1, '1' ], [ '2', 2 ], [ 0.25, null ] ]\n[ 3, 2, 1 ]\nKeyError: missing\n");
  expect(children).toBe("[ 100, 101, 102, 103, 104 ]\n");
  expect(counter).toBe("3\n");
  expect(remote).toBe("{ n: 1 }\n");
  expect(queue).toBe("under the lock\n");
  expect(lifetime).toBe("2\n[ 1, 2 ]\n");
}, 120_000);
