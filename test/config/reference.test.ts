// docs/configuration.md is the reference of every key the loader accepts: under each section's
// heading, the table generated from src/config/schema.ts (src/config/reference.ts), so a key
// added, removed or changed in the schema fails here until the document says the same.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderSectionTable } from "../../src/config/reference.ts";
import { SCHEMA } from "../../src/config/schema.ts";

const doc = readFileSync(join(import.meta.dir, "../../docs/configuration.md"), "utf8").split("\n");

describe("docs/configuration.md", () => {
  test.each(Object.keys(SCHEMA))("[%s]: its table is the one generated from the schema", (section) => {
    const at = doc.indexOf(`## \`[${section}]\``);
    expect(at).toBeGreaterThan(0);
    const from = doc.findIndex((l, i) => i > at && l.startsWith("|"));
    const to = doc.findIndex((l, i) => i > from && !l.startsWith("|"));
    expect(doc.slice(from, to).join("\n")).toBe(renderSectionTable(section));
  });

  test("every key of the schema appears in it", () => {
    const text = doc.join("\n");
    for (const spec of Object.values(SCHEMA)) for (const key of Object.keys(spec.keys)) expect(text).toContain(`| \`${key}\` |`);
  });
});
