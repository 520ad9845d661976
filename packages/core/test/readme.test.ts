import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";

it("the README examples run and print what their comments say", async () => {
  const out = await runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)));
  const [locks, codec, handles] = [...out.values()];
  expect(locks!.split("\n").slice(0, 8)).toEqual(["true", "false", "false", "inside", "1", "true", "1", "all arrived"]);
  expect(codec).toBe("5 true\ntrue value.args[1].onDone: function onDone\n");
  expect(handles).toBe("[ '@ipc/core:Lock' ]\nfalse\n");
});
