import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";

it.runIf(process.platform === "linux" && process.env.IPC_NATIVE !== "0")("the README examples run and print what their comments say", async () => {
  const out = await runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)));
  expect([...out.values()]).toEqual(["42\nchild exited with 0\n"]);
});
