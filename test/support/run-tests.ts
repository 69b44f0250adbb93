// Runs `bun test` and prints the closing line CI reads: "N passed, N failed[, N skipped]".
// Counts come from Bun's JUnit report rather than its console summary, whose wording is not
// a stable interface. Exit code: bun's, or 1 when the report shows a failure.

import { mkdirSync, readFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";

const dir = join(import.meta.dir, "../../.tmp");
mkdirSync(dir, { recursive: true });
const report = join(dir, "junit.xml");
rmSync(report, { force: true });

// bunfig.toml cannot set the per-test timeout, so it is given here: server-backed tests take seconds.
const proc = Bun.spawn([process.execPath, "test", "--timeout=60000", "--reporter=junit", `--reporter-outfile=${report}`, ...process.argv.slice(2)], {
  stdio: ["inherit", "inherit", "inherit"],
  env: { ...process.env, FORCE_COLOR: "0" },
});
const code = await proc.exited;

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const xml = readFileSync(report, "utf8");
  // Each <testcase …/> or <testcase …>…</testcase>; a failure or error child marks it failed.
  for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failed++;
    else if (/<skipped\b/.test(body)) skipped++;
    else passed++;
  }
} else {
  failed = 1;
  console.error("no test report was written: the test runner crashed");
}
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(code !== 0 || failed > 0 ? 1 : 0);
