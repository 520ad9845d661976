import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { currentAuthkey } from "@ipc/core";
import { toAuthkey } from "@ipc/core/internal";

const run = promisify(execFile);

it("each process has a 32-byte authkey its children inherit; setAuthkey replaces it", async () => {
  expect(currentAuthkey().length).toBe(32);
  expect(process.env.IPC_AUTHKEY).toBe(currentAuthkey().toString("hex"));
  const script = `import { currentAuthkey, setAuthkey } from "@ipc/core";
    const inherited = currentAuthkey().toString("hex");
    setAuthkey("secret");
    const { execFileSync } = await import("node:child_process");
    const child = execFileSync(process.execPath, ["--input-type=module", "-e", 'import { currentAuthkey } from "@ipc/core"; console.log(currentAuthkey().toString())'], { encoding: "utf8" }).trim();
    console.log(inherited, currentAuthkey().toString(), process.env.IPC_AUTHKEY, child);`;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: new URL("..", import.meta.url).pathname });
  const [inherited, now, env, child] = stdout.trim().split(" ");
  expect(inherited).toBe(currentAuthkey().toString("hex"));
  expect(now).toBe("secret");
  expect(env).toBe(Buffer.from("secret").toString("hex"));
  // a child inherits a key of any length
  expect(child).toBe("secret");
  expect(toAuthkey(new Uint8Array([1, 2])).equals(Buffer.from([1, 2]))).toBe(true);
  expect(() => toAuthkey(5 as never)).toThrow(TypeError);
});
