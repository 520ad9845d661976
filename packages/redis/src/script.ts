/** A Lua script run by its SHA1, sent in full only when the server does not have it yet. */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** One argument of a script: keys and arguments travel as strings or bytes. */
export type ScriptArg = string | Buffer | number;

/**
 * A server-side script: every compound operation of @ipc/redis is one script, so it is atomic
 * (Redis runs one script at a time) and costs one round trip.
 */
export class Script {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }

  /** Runs the script; replies keep strings as Buffers (values are codec bytes). */
  async run(client: Redis, keys: readonly string[], args: readonly ScriptArg[] = []): Promise<unknown> {
    try {
      return await client.callBuffer("EVALSHA", this.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith("NOSCRIPT")) throw e;
      return client.callBuffer("EVAL", this.lua, keys.length, ...keys, ...args);
    }
  }
}
