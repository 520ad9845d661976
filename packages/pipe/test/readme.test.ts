import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";

it("the README examples run and print what their comments say", async () => {
  const out = await runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)));
  const [basic, children, listener] = [...out.values()];
  expect(basic).toBe(
    "[ 1, 2.25, null ]\nhello world\nfalse false\n8 Int32Array(5) [ 42, 1729, 0, 0, 0 ]\n1\nready?\nEOFError\n",
  );
  expect(children).toBe("HELLO FROM THE THREAD CONTEXT\nHELLO FROM THE PROCESS CONTEXT\n");
  expect(listener).toBe("{ hello: 'server' }\nAuthenticationError\n");
});
