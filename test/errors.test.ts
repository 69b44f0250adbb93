// The error code table (src/error-codes.ts): README in step with it, each code's documented exit
// code the one a ReplicateError with that code gets by default, and codes written into log lines
// by hand (warnings such as JOURNAL_TORN_TAIL, which TypeScript does not see) listed in it.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ERROR_CODES, renderErrorTable, type ErrorCode } from "../src/error-codes.ts";
import { exitCodeFor, ReplicateError } from "../src/errors.ts";

const SRC = join(import.meta.dir, "../src");

describe("error codes", () => {
  test("docs/errors.md's table is this table", () => {
    const section = readFileSync(join(import.meta.dir, "../docs/errors.md"), "utf8");
    const table = section
      .split("\n")
      .filter((l) => l.startsWith("|"))
      .join("\n");
    expect(table).toBe(renderErrorTable());
  });

  test("each code's documented exit code is the one it gets by default", () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      if (info.exit === null) continue;
      expect({ code, exit: exitCodeFor(new ReplicateError(code as ErrorCode, "x")) }).toEqual({ code, exit: info.exit });
    }
  });

  test("codes written into messages by hand are in the table", () => {
    const files = readdirSync(SRC, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    const written = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(join(SRC, f), "utf8").matchAll(/\[([A-Z][A-Z0-9_]{3,}) at /g)) written.add(m[1]!);
    }
    written.delete("CODE"); // describeError's comment
    expect(written.size).toBeGreaterThan(0);
    expect([...written].filter((c) => !(c in ERROR_CODES))).toEqual([]);
  });
});
