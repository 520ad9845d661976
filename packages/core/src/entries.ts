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

/** Starts a worker; a `.ts` entry is loaded through tsx (Node 20 does not apply `--import` to workers). */
export function createWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!isTypeScript(entry)) return new Worker(entry, options);
  const boot = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
