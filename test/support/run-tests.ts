// Runs `bun test` and prints the closing line CI reads: "N passed, N failed[, N skipped]".
// Counts come from Bun's JUnit report rather than its console summary, whose wording is not
// a stable interface. Exit code: bun's, or 1 when the report shows a failure.
// A developer run narrowed by GSR_TARGETS says loudly, just above that line, which target was not tested.

import { mkdirSync, readFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";

const dir = join(import.meta.dir, "../../.tmp");
mkdirSync(dir, { recursive: true });
const report = join(dir, "junit.xml");
rmSync(report, { force: true });

// `--fast` (make test-fast): only the files that start no server and run no binary, for the
// edit-test loop (decoders, events, config, dialect translation, scheduler: seconds). Chosen by
// what each file calls, so a new test file lands on the right side without a list to keep.
const SERVER_USE =
  /\b(getMariadb|getTarget|getPostgres|getOpenGauss|getKafka|getRealKafka|startMariadb|startPostgres|runCli|spawnCli|sourceConfigFor|currentPosition)\(|\[BINARY\b|node_modules\/\.bin\/(knip|prettier)|bin\("(knip|prettier)"\)|support\/kafka-real\.ts|support\/mariadb-tools\.ts/;
function fastFiles(): string[] {
  const root = join(import.meta.dir, "..");
  const files = [...new Bun.Glob("**/*.test.ts").scanSync({ cwd: root })].sort();
  return files.filter((f) => !SERVER_USE.test(readFileSync(join(root, f), "utf8"))).map((f) => join("test", f));
}
const args = process.argv.slice(2);
const fast = args[0] === "--fast";
const files = fast ? fastFiles() : args;
if (fast) console.log(`fast subset: ${files.length} test files that start no server`);

// bunfig.toml cannot set the per-test timeout, so it is given here: server-backed tests take seconds.
const proc = Bun.spawn([process.execPath, "test", "--timeout=60000", "--reporter=junit", `--reporter-outfile=${report}`, ...files], {
  stdio: ["inherit", "inherit", "inherit"],
  env: { ...process.env, FORCE_COLOR: "0" },
});
const code = await proc.exited;

/** The dialects GSR_TARGETS leaves out, as test/support/servers.ts's TARGETS reads it (ignored under CI). */
function untestedDialects(): string[] {
  const want = process.env.GSR_TARGETS;
  if (!want) return [];
  if (process.env.CI) {
    console.log(`note: GSR_TARGETS=${want} was ignored because CI is set: every target dialect ran`);
    return [];
  }
  const names = { opengauss: "openGauss", postgresql: "PostgreSQL" } as const;
  return (Object.keys(names) as Array<keyof typeof names>).filter((d) => !want.split(",").includes(d)).map((d) => names[d]);
}

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
const untested = untestedDialects();
if (untested.length) {
  // Just above the count, which stays the last line (CI reads it); CI never narrows the targets.
  const banner = "!".repeat(100);
  console.log(
    `${banner}\n!!! ${untested.join(" and ")} NOT TESTED: GSR_TARGETS=${process.env.GSR_TARGETS} narrowed the target suites; the product's target is openGauss\n${banner}`,
  );
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(code !== 0 || failed > 0 ? 1 : 0);
