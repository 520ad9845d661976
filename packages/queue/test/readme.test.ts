import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";

it("the README examples run and print what their comments say", async () => {
  const out = await runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)));
  const [basic, children, joinable] = [...out.values()];
  expect(basic).toBe(
    "2 true\nFullError\n{ id: 1, op: 'add' }\nsync put: blocks this thread while the queue is full\nEmptyError\nlast\n",
  );
  expect(children).toBe("[ 1, 4, 9, 16, 25, 36 ]\n");
  expect(joinable).toBe("all done\n");
});
