#!/usr/bin/env node
// Sums the vitest JSON reports in a folder and its subfolders (one per extra Node version) and
// prints one line: `N passed, N failed`.
// A test file that failed to load counts as one failure (its tests never ran).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? ".test-results";
let passed = 0;
let failed = 0;
if (existsSync(dir)) {
  for (const file of readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".json"))) {
    const report = JSON.parse(readFileSync(join(dir, file), "utf8"));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    for (const suite of report.testResults ?? []) {
      if (suite.status === "failed" && (suite.assertionResults ?? []).length === 0) failed += 1;
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
