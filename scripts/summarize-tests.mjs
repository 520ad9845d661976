#!/usr/bin/env node
// Sums the vitest JSON reports in a folder and its subfolders (one per extra Node version) and
// prints one line: `N passed, N failed`. Before it, one line per failed test (the report it came
// from, its file and its full name), so that the tail of a CI log says what failed.
// A test file that failed to load counts as one failure (its tests never ran).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const dir = process.argv[2] ?? ".test-results";
let passed = 0;
let failed = 0;
const failures = [];
if (existsSync(dir)) {
  for (const file of readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".json"))) {
    const report = JSON.parse(readFileSync(join(dir, file), "utf8"));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    for (const suite of report.testResults ?? []) {
      const where = `${file}: ${relative(process.cwd(), suite.name ?? "?")}`;
      const results = suite.assertionResults ?? [];
      if (suite.status === "failed" && results.length === 0) {
        failed += 1;
        failures.push(`${where}: did not load: ${firstLine(suite.message)}`);
      }
      for (const test of results) {
        if (test.status === "failed") failures.push(`${where}: ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
      }
    }
  }
}
for (const line of failures) console.log(`FAILED ${line}`);
console.log(`${passed} passed, ${failed} failed`);

function firstLine(text) {
  return String(text ?? "").split("\n")[0].slice(0, 300);
}
