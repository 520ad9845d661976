/**
 * A real `redis-server` for tests: started on a free loopback port in a temporary directory,
 * ready when it says so on stdout, stopped (or restarted on the same port and data) on demand.
 * Nothing depends on a server left running on the machine.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** `requirepass`: clients must give it. */
  password?: string;
  /** Append-only file persistence (`appendfsync always`), so a restart keeps every acknowledged write. */
  persist?: boolean;
}

/** A running test server. */
export interface RedisServer {
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:port` */
  readonly url: string;
  /** Stops the server (SIGTERM, or SIGKILL with `kill: true`) and waits for it to exit. */
  stop(opts?: { kill?: boolean }): Promise<void>;
  /** Starts it again on the same port with the same data directory. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

/** The redis-server binary: `$REDIS_SERVER` or `redis-server` on the PATH. */
export function redisServerBinary(): string {
  const bin = process.env.REDIS_SERVER ?? "redis-server";
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(`redis-server not found (${bin}): install Debian's redis-server package (apt-get install redis-server) or set REDIS_SERVER`);
  }
  return bin;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Servers still running: killed when this process exits, so a test run that fails or hangs leaves none behind. */
const running = new Set<ChildProcess>();
let hooked = false;

function track(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (hooked) return;
  hooked = true;
  process.once("exit", () => {
    for (const c of running) c.kill("SIGKILL");
  });
}

function launch(bin: string, port: number, dir: string, opts: RedisServerOptions): Promise<ChildProcess> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--daemonize", "no", "--loglevel", "notice", "--protected-mode", "no"];
  args.push("--appendonly", opts.persist ? "yes" : "no");
  if (opts.persist) args.push("--appendfsync", "always");
  if (opts.password) args.push("--requirepass", opts.password);
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  track(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not become ready in 15 s:\n${out}`));
    }, 15_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${out}`));
    });
  });
}

/** Starts a redis-server for a test run. */
export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = redisServerBinary();
  const dir = mkdtempSync(join(tmpdir(), "ipc-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(bin, port, dir, opts);
  const stop = async ({ kill = false } = {}): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill(kill ? "SIGKILL" : "SIGTERM");
    });
  };
  return {
    port,
    url: `redis://${opts.password ? `:${encodeURIComponent(opts.password)}@` : ""}127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      child = await launch(bin, port, dir, opts);
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
