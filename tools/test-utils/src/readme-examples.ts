/**
 * Runs the ```js examples of a package README, so that every example in the docs is known to work.
 * A block whose first line is `// name.mjs` (or `// name.cjs`, for CommonJS) is written under that name (so other blocks can import
 * it); the others become `example-N.mjs`. Every file is then run with node, from a scratch folder
 * inside the package (so the package and its dependencies resolve), and must exit with 0.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ReadmeExample {
  file: string;
  code: string;
}

export function readmeExamples(packageDir: string): ReadmeExample[] {
  const text = readFileSync(join(packageDir, "README.md"), "utf8");
  const blocks = [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.map((code, i) => {
    const named = /^\/\/ ([\w.-]+\.[mc]js)\b.*\n/.exec(code);
    return { file: named ? named[1]! : `example-${i}.mjs`, code };
  });
}

/** Writes every example, runs each, and returns their outputs by file name. */
export async function runReadmeExamples(packageDir: string, runIn = packageDir): Promise<Map<string, string>> {
  const dir = join(runIn, ".readme-examples");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const examples = readmeExamples(packageDir);
  for (const e of examples) writeFileSync(join(dir, e.file), e.code);
  const out = new Map<string, string>();
  try {
    for (const e of examples) {
      const { stdout } = await run(process.execPath, [join(dir, e.file)], { cwd: dir, timeout: 60_000 });
      out.set(e.file, stdout);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
