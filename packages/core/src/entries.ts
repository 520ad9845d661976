/**
 * Locating the files this package starts as workers: `./name.ts` next to the sources, `./name.js`
 * in `dist/` (this file is bundled into `dist/index.*`, so paths are relative to the package root
 * of sources or build).
 */
import { Worker, type WorkerOptions } from "node:worker_threads";
import { fileURLToPath } from "node:url";

const TS_FILE = /\.[cm]?tsx?$/;

/** URL of an entry file, relative to the directory of `base` (default: this package's root). */
export function entryUrl(name: string, base: string = import.meta.url): URL {
  return new URL(`./${name}${TS_FILE.test(fileURLToPath(base)) ? ".ts" : ".js"}`, base);
}

/** True for a TypeScript source path or URL. */
export function isTypeScript(file: string | URL): boolean {
  return TS_FILE.test(typeof file === "string" ? file : file.pathname);
}

/** Flags of a script given on the command line, which a worker or a forked file must not get, with whether they take a value. */
const SCRIPT_FLAGS = new Map([
  ["--input-type", true],
  ["-e", true],
  ["--eval", true],
  ["-p", true],
  ["--print", true],
]);

/**
 * `execArgv` for a worker or a forked child: this process's flags without those that belong to a
 * script given on the command line (`node --input-type=module -e "..."`): Node refuses
 * `--input-type` for a file, and the child must not run the parent's script.
 */
export function childExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith("--") ? a.split("=", 1)[0] : a;
    const takesValue = SCRIPT_FLAGS.get(name);
    if (takesValue === undefined) out.push(a);
    else if (takesValue && !a.includes("=")) i++;
  }
  return out;
}

/** Starts a worker; a `.ts` entry is loaded through tsx (Node 20 does not apply `--import` to workers). */
export function createWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (options.execArgv === undefined) {
    // inherited as they are (Node accepts the parent's own V8 flags then), unless a script flag must go
    const argv = childExecArgv();
    if (argv.length !== process.execArgv.length) options = { ...options, execArgv: argv };
  }
  if (!isTypeScript(entry)) return newWorker(entry, options);
  const boot = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return newWorker(boot, { ...options, eval: true });
}

/**
 * `new Worker`, leaving out the flags a worker refuses when given explicitly (V8 and per-process
 * flags such as `--expose-gc` or `--max-old-space-size`: a worker shares them with its process).
 */
function newWorker(entry: URL | string, options: WorkerOptions): Worker {
  try {
    return new Worker(entry, options);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== "ERR_WORKER_INVALID_EXEC_ARGV" || !options.execArgv) throw e;
    const refused = new Set(err.message.slice(err.message.lastIndexOf(": ") + 2).split(/,\s*/));
    const execArgv = options.execArgv.filter((a) => !refused.has(String(a)) && !refused.has(String(a).split("=", 1)[0]));
    if (execArgv.length === options.execArgv.length) throw e;
    return new Worker(entry, { ...options, execArgv });
  }
}
