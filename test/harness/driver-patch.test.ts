// The driver the tests run is the driver that ships (issue 15 item 2): patches/ is applied to
// node_modules on install, the build only checks it. Here, in the test process itself: the
// postgres.js module this process resolves is the patched one, and every patch is applied.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const root = join(import.meta.dir, "../..");

test("the postgres.js this process loads carries every line the patch adds", () => {
  const entry = Bun.resolveSync("postgres", root);
  const connection = readFileSync(join(dirname(entry), "connection.js"), "utf8");
  const patch = readFileSync(join(root, "patches/postgres+3.4.9.patch"), "utf8");
  const added = patch
    .split("\n")
    .filter((l) => l.startsWith("+") && !l.startsWith("+++"))
    .map((l) => l.slice(1));
  expect(added.length).toBeGreaterThan(0);
  for (const line of added) expect(connection).toContain(line);
  const removed = patch
    .split("\n")
    .filter((l) => l.startsWith("-") && !l.startsWith("---"))
    .map((l) => l.slice(1));
  for (const line of removed) expect(connection).not.toContain(line);
});

test("scripts/patch-deps.sh --verify finds every patch in patches/ applied", () => {
  expect(readdirSync(join(root, "patches")).filter((f) => f.endsWith(".patch")).length).toBeGreaterThan(0);
  const r = Bun.spawnSync([join(root, "scripts/patch-deps.sh"), "--verify"], { cwd: root, stderr: "pipe" });
  expect({ code: r.exitCode, stderr: r.stderr.toString() }).toEqual({ code: 0, stderr: "" });
});
