// `make docs`: rewrites the tables of the user's guide that are generated from the code (the
// configuration reference, the error codes, the type mapping), in place; the tests
// (test/config/reference.test.ts, test/errors.test.ts, test/dialect/types.test.ts) fail until
// the documents equal what this writes.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderSectionTable } from "../src/config/reference.ts";
import { SCHEMA } from "../src/config/schema.ts";
import { renderErrorTable } from "../src/error-codes.ts";
import { renderTypeTable } from "../src/dialect/types.ts";

const docs = join(import.meta.dir, "../docs");

/** Replaces the first table after line `after` (or the only table when null) with `table`. */
function replaceTable(lines: string[], after: number, table: string): void {
  const from = lines.findIndex((l, i) => i > after && l.startsWith("|"));
  if (from < 0) throw new Error(`no table after line ${after + 1}`);
  let to = from;
  while (to < lines.length && lines[to]!.startsWith("|")) to++;
  lines.splice(from, to - from, ...table.split("\n"));
}

function rewrite(file: string, edit: (lines: string[]) => void): void {
  const path = join(docs, file);
  const lines = readFileSync(path, "utf8").split("\n");
  edit(lines);
  writeFileSync(path, lines.join("\n"));
}

rewrite("configuration.md", (lines) => {
  for (const section of Object.keys(SCHEMA)) {
    const at = lines.indexOf(`## \`[${section}]\``);
    if (at < 0) throw new Error(`docs/configuration.md has no heading for [${section}]: add "## \`[${section}]\`", a line of text and a table`);
    replaceTable(lines, at, renderSectionTable(section));
  }
});
rewrite("errors.md", (lines) => replaceTable(lines, 0, renderErrorTable()));
rewrite("types.md", (lines) => replaceTable(lines, 0, renderTypeTable()));
console.log("docs/configuration.md, docs/errors.md, docs/types.md: generated tables rewritten");
