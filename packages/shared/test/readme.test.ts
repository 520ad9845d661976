import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { nativeAvailable } from "@ipc/core";
import { runReadmeExamples } from "@ipc/test-utils/readme-examples";

// the SharedMemory example needs the addon: run with it (the package's first test pass)
it.runIf(nativeAvailable())("the README examples run and print what their comments say", async () => {
  const out = await runReadmeExamples(fileURLToPath(new URL("..", import.meta.url)));
  const [basic, children, shm] = [...out.values()];
  expect(basic).toBe("1\n1099511627777n\n[ 0.5, 1.5 ] 9 3\nhello\n{ count: 1n, mean: 0.5, flags: 3 }\n1.25\n");
  expect(children).toBe("285 [\n   0,  1,  4,  9, 16,\n  25, 36, 49, 64, 81\n]\n");
  expect(shm).toBe("42 512\n");
});
