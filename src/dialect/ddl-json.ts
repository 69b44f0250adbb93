// MariaDB's JSON is an alias for LONGTEXT with CHECK (json_valid(`c`)), and SHOW CREATE TABLE
// (so mariadb-dump, and tools that replay its output as ALTERs) writes it that way: such a
// column is the JSON column it was created as, and its check is the type, not a constraint to
// record. One rule for CREATE TABLE (ddl-table.ts) and ALTER TABLE ADD/MODIFY/CHANGE
// (ddl-alter.ts), so a column is jsonb on the target however the statement spelled it.

import type { AlterOp, CheckDef, ColumnDef } from "../binlog/ddl-model.ts";
import { sameName } from "./ddl-names.ts";
import type { Translation } from "./ddl-state.ts";

/** `json_valid(`c`)` or `json_valid(c)`: the column's name, backquotes undone. */
const JSON_VALID = /^json_valid\(\s*(?:`((?:[^`]|``)+)`|([A-Za-z0-9_$]+))\s*\)$/i;

interface JsonAliases {
  columns: Set<ColumnDef>;
  checks: Set<CheckDef>;
}

/**
 * The columns among `columns` that are MariaDB's JSON alias and the checks that make them so.
 * Only that exact form: an unnamed, enforced check of a LONGTEXT column of the same statement;
 * a check the application named, or MySQL's (which has a real JSON type), stays a CHECK.
 */
export function mariadbJson(tx: Translation, columns: readonly ColumnDef[], checks: readonly CheckDef[]): JsonAliases {
  const out: JsonAliases = { columns: new Set(), checks: new Set() };
  if (tx.ctx.flavour !== "mariadb") return out;
  for (const check of checks) {
    const m = JSON_VALID.exec(check.expression.trim());
    if (!m || check.name !== undefined || !check.enforced) continue;
    const name = m[1] !== undefined ? m[1].replace(/``/g, "`") : m[2]!;
    const column = columns.find((c) => sameName(c.name, name));
    if (column?.type.name !== "longtext" || column.generated) continue;
    out.columns.add(column);
    out.checks.add(check);
  }
  return out;
}

/** The column as if written JSON (what the alias stands for). */
export function asJson(column: ColumnDef): ColumnDef {
  return { ...column, type: { name: "json", unsigned: false, zerofill: false } };
}

/** An ALTER's ops with the alias undone: its columns JSON, its checks gone (they are the type). */
export function alterOpsWithJson(tx: Translation, ops: readonly AlterOp[]): AlterOp[] {
  const columnOf = (op: AlterOp) => (op.op === "add_column" || op.op === "modify_column" || op.op === "change_column" ? op.column : undefined);
  const json = mariadbJson(
    tx,
    ops.flatMap((op) => columnOf(op) ?? []),
    ops.flatMap((op) => (op.op === "add_check" ? [op.check] : [])),
  );
  if (json.columns.size === 0) return [...ops];
  return ops.flatMap((op): AlterOp[] => {
    if (op.op === "add_check" && json.checks.has(op.check)) return [];
    if ((op.op === "add_column" || op.op === "modify_column" || op.op === "change_column") && json.columns.has(op.column)) return [{ ...op, column: asJson(op.column) }];
    return [op];
  });
}
