// The configuration reference (docs/configuration.md) as generated from the schema: one table per
// section, key, type, default and meaning. test/config/reference.test.ts keeps the document's
// tables equal to these, so the reference cannot drift from what the loader accepts; print them
// with bun -e 'console.log((await import("./src/config/reference.ts")).renderSectionTable("sink"))'.

import { type KeySpec, type KeyType, SCHEMA } from "./schema.ts";

function typeText(t: KeyType): string {
  switch (t.t) {
    case "string":
      return "string";
    case "bool":
      return "boolean";
    case "strings":
      return "list of strings";
    case "map":
      return "table of strings";
    case "enum":
      return t.values.map((v) => `\`"${v}"\``).join(" \\| ");
    case "int":
      return t.min !== undefined && t.max !== undefined ? `integer ${t.min}–${t.max}` : "integer";
  }
}

function defaultText(k: KeySpec): string {
  if (k.required) return "required";
  if (k.default === undefined) return "—";
  return `\`${JSON.stringify(k.default)}\``;
}

/** The Markdown table of one section of the schema (e.g. "source", "transport.kafka"). */
export function renderSectionTable(section: string): string {
  const spec = SCHEMA[section];
  if (!spec) throw new Error(`no configuration section [${section}]`);
  const rows = Object.entries(spec.keys).map(([key, k]) => `| \`${key}\` | ${typeText(k.type)} | ${defaultText(k)} | ${k.doc.replaceAll("|", "\\|")} |`);
  return ["| key | type | default | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
