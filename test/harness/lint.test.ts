// `make lint` as part of `make test` (CI runs make test): the tree is formatted (prettier,
// .prettierrc.json) and has no unused files, exports or dependencies (knip, knip.json). The
// import direction is test/harness/import-direction.test.ts. `make format` fixes the first.
import { expect, test } from "bun:test";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const bin = (name: string) => join(root, "node_modules/.bin", name);

function run(args: string[]): { code: number | null; out: string } {
  const r = Bun.spawnSync(args, { cwd: root, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
  return { code: r.exitCode, out: `${r.stdout.toString()}${r.stderr.toString()}`.trim() };
}

test("prettier --check: the tree is formatted (make format fixes it)", () => {
  const r = run([bin("prettier"), "--check", "--log-level", "warn", "src/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"]);
  expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: "" });
}, 120_000);

test("knip: no unused file, export, type or dependency", () => {
  const r = run([bin("knip"), "--no-progress", "--reporter", "compact"]);
  expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: "" });
}, 180_000);
