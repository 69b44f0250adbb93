// --repair-sql: the statements that make the target equal to the source, from the differences
// found. Values are literals (quoted strings the column types parse, decode(…, 'hex') for
// bytes), identifiers are always quoted, and everything runs in one transaction.

import { pgColumn } from "./canonical.ts";
import { pgLiteral, type TablePlan } from "./data-plan.ts";
import { KeyedDiff, type MultisetDiff, type RowImage } from "./data-rows.ts";

export const REPAIR_HEADER = `-- gs-replicate check --data: statements that make the target equal to the source.
-- Review before running; apply with the sink stopped (psql -v ON_ERROR_STOP=1 -f FILE).
SET standard_conforming_strings = on;
SET client_encoding = 'UTF8';
BEGIN;
`;

export const REPAIR_FOOTER = "COMMIT;\n";

function value(plan: TablePlan, r: RowImage, i: number): string {
  return pgLiteral(plan.columns[i]!, r.values[i]!, r.raw[i]);
}

/** NUL cannot be stored in target text: such a row is reported, not repaired. */
function unrepairable(plan: TablePlan, r: RowImage): boolean {
  return plan.columns.some((c, i) => c.kind === "text" && (r.values[i] ?? "").includes("\u0000"));
}

function whereKey(plan: TablePlan, r: RowImage): string {
  return plan.key.map((i) => `${pgColumn(plan.columns[i]!.name)} = ${value(plan, r, i)}`).join(" AND ");
}

/** Equal to every column of the row (IS NULL for NULLs): a row of a table without a key. */
function whereRow(plan: TablePlan, r: RowImage): string {
  return plan.columns.map((c, i) => (r.values[i] === null ? `${pgColumn(c.name)} IS NULL` : `${pgColumn(c.name)} = ${value(plan, r, i)}`)).join(" AND ");
}

function insert(plan: TablePlan, r: RowImage): string {
  return `INSERT INTO ${plan.pgFrom} (${plan.columns.map((c) => pgColumn(c.name)).join(", ")}) VALUES (${plan.columns.map((_, i) => value(plan, r, i)).join(", ")});`;
}

export function repairStatements(plan: TablePlan, diff: KeyedDiff | MultisetDiff): string[] {
  const out: string[] = [`-- ${plan.name}`];
  const skip = (r: RowImage) => {
    out.push(`-- cannot repair a row holding a NUL character in text (the target cannot store it): ${JSON.stringify(r.key.length > 0 ? r.key : r.values)}`);
  };
  if (diff instanceof KeyedDiff) {
    for (const r of diff.extra.values()) out.push(`DELETE FROM ${plan.pgFrom} WHERE ${whereKey(plan, r)};`);
    for (const r of diff.missing.values()) {
      if (unrepairable(plan, r)) skip(r);
      else out.push(insert(plan, r));
    }
    for (const c of diff.changed.values()) {
      if (unrepairable(plan, c.source)) {
        skip(c.source);
        continue;
      }
      const set = c.columns.map((name) => {
        const i = plan.columns.findIndex((x) => x.name === name);
        return `${pgColumn(name)} = ${value(plan, c.source, i)}`;
      });
      out.push(`UPDATE ${plan.pgFrom} SET ${set.join(", ")} WHERE ${whereKey(plan, c.target)};`);
    }
    return out;
  }
  for (const { row, delta } of diff.rows.values()) {
    if (delta < 0) {
      // ctid picks exactly that many of the identical copies.
      out.push(`DELETE FROM ${plan.pgFrom} WHERE ctid IN (SELECT ctid FROM ${plan.pgFrom} WHERE ${whereRow(plan, row)} LIMIT ${-delta});`);
    } else if (unrepairable(plan, row)) skip(row);
    else for (let k = 0; k < delta; k++) out.push(insert(plan, row));
  }
  return out;
}
