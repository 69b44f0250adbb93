// ALTER TABLE grammar: one AlterOp per alter specification, in written order
// (MySQL 8.0 / MariaDB 10.11 "ALTER TABLE Statement"). A specification this parser does not
// understand becomes { op: "unsupported" } with its text, and the rest is still read: the
// schema history then refuses the statement for tracked tables instead of guessing.

import { type Cursor, DdlSyntaxError } from "./ddl-lexer.ts";
import { parseColumnDefinition, parseDefault, parseTableRef, charsetClause, type ParsedColumn } from "./ddl-column.ts";
import { parseIndexOrConstraint, parseTableOptions } from "./ddl-table.ts";
import type { AlterOp, AlterTable, ColumnPosition, TableOptions, TableRef } from "./ddl-model.ts";

interface AlterHead {
  table: TableRef;
  ifExists: boolean;
  online: boolean;
  ignore: boolean;
}

const PARTITION_OPS = ["ANALYZE", "CHECK", "OPTIMIZE", "REBUILD", "REPAIR", "TRUNCATE", "COALESCE", "REORGANIZE", "EXCHANGE", "DISCARD", "IMPORT"];

/** After `ALTER [ONLINE] [IGNORE] TABLE [IF EXISTS] name`. */
export function parseAlterTableBody(c: Cursor, head: AlterHead, statement: string): AlterTable {
  const out: AlterTable = { kind: "alter_table", statement, ...head, ops: [] };
  if (c.eatWord("WAIT")) c.integer();
  else c.eatWord("NOWAIT");
  if (c.atEnd()) return out;
  do {
    if (c.isWord("PARTITION") && c.isWordAt(1, "BY")) {
      out.partitioning = c.restText();
      break;
    }
    const start = c.i;
    try {
      parseSpec(c, out);
      if (!c.atEnd() && !c.isPunct(",")) throw c.fail("unexpected text in the alter specification");
    } catch (err) {
      if (!(err instanceof DdlSyntaxError)) throw err;
      c.i = start;
      c.skipToSeparator();
      if (c.isPunct(")")) throw err; // unbalanced: nothing after it can be trusted
      out.ops.push({ op: "unsupported", text: c.textBetween(start, c.i), reason: err.message });
    }
  } while (c.eatPunct(","));
  if (!c.atEnd()) throw c.fail("unexpected text after the alter specifications");
  return out;
}

function parseSpec(c: Cursor, out: AlterTable): void {
  const ops = out.ops;
  const start = c.i;
  const other = () => {
    c.skipToSeparator();
    ops.push({ op: "other", text: c.textBetween(start, c.i) });
  };
  // Partition maintenance is the statement's only specification (MySQL's grammar), and its
  // partition lists have commas of their own: DROP PARTITION p0, p1.
  const partitionOp = () => {
    c.i = start;
    ops.push({ op: "other", text: c.restText() });
  };
  if (c.eatWord("ADD")) {
    if (c.isWord("PARTITION")) return other();
    if (c.isWord("PERIOD", "SYSTEM")) throw c.fail("system versioning and periods are not supported");
    const explicitColumn = c.eatWord("COLUMN");
    if (!explicitColumn) {
      const def = parseIndexOrConstraint(c);
      if (def?.kind === "index") {
        const { index, ifNotExists } = def;
        if (index.kind === "primary") ops.push({ op: "add_primary_key", index });
        else if (index.kind === "unique") ops.push({ op: "add_unique", index, ifNotExists });
        else ops.push({ op: "add_index", index, ifNotExists });
        return;
      }
      if (def?.kind === "foreign") return void ops.push({ op: "add_foreign_key", foreignKey: def.foreignKey, ifNotExists: def.ifNotExists });
      if (def?.kind === "check") return void ops.push({ op: "add_check", check: def.check });
    }
    const ifNotExists = c.eatWords("IF", "NOT", "EXISTS");
    if (c.eatPunct("(")) {
      do {
        const name = c.ident();
        pushColumn(ops, { op: "add_column", ifNotExists }, parseColumnDefinition(c, name), undefined);
      } while (c.eatPunct(","));
      c.expectPunct(")");
      return;
    }
    const name = c.ident();
    const parsed = parseColumnDefinition(c, name);
    return pushColumn(ops, { op: "add_column", ifNotExists }, parsed, position(c));
  }
  if (c.eatWord("DROP")) {
    if (c.eatWords("PRIMARY", "KEY")) return void ops.push({ op: "drop_primary_key" });
    if (c.eatWord("INDEX", "KEY")) {
      const ifExists = c.eatWords("IF", "EXISTS");
      const name = c.ident();
      return void ops.push(name.toUpperCase() === "PRIMARY" ? { op: "drop_primary_key" } : { op: "drop_index", name, ifExists });
    }
    if (c.eatWords("FOREIGN", "KEY")) {
      const ifExists = c.eatWords("IF", "EXISTS");
      return void ops.push({ op: "drop_foreign_key", name: c.ident(), ifExists });
    }
    if (c.isWord("CHECK", "CONSTRAINT")) {
      const check = c.next().upper === "CHECK";
      const ifExists = c.eatWords("IF", "EXISTS");
      return void ops.push({ op: "drop_constraint", name: c.ident(), ifExists, check });
    }
    if (c.isWord("PARTITION")) return partitionOp();
    if (c.isWord("PERIOD", "SYSTEM")) throw c.fail("system versioning and periods are not supported");
    c.eatWord("COLUMN");
    const ifExists = c.eatWords("IF", "EXISTS");
    const name = c.ident();
    c.eatWord("RESTRICT", "CASCADE");
    return void ops.push({ op: "drop_column", name, ifExists });
  }
  if (c.eatWord("ALTER")) {
    if (c.isWord("INDEX", "KEY", "CHECK", "CONSTRAINT")) return other();
    c.eatWord("COLUMN");
    const name = c.ident();
    if (c.eatWords("SET", "DEFAULT")) return void ops.push({ op: "alter_column_default", name, default: parseDefault(c) });
    if (c.eatWords("DROP", "DEFAULT")) return void ops.push({ op: "alter_column_default", name });
    if (c.eatWord("SET")) return void ops.push({ op: "alter_column_visibility", name, invisible: c.expectWord("VISIBLE", "INVISIBLE") === "INVISIBLE" });
    throw c.fail("expected SET DEFAULT, DROP DEFAULT or SET [IN]VISIBLE");
  }
  if (c.eatWord("CHANGE")) {
    c.eatWord("COLUMN");
    const ifExists = c.eatWords("IF", "EXISTS");
    const oldName = c.ident();
    const name = c.ident();
    const parsed = parseColumnDefinition(c, name);
    return pushColumn(ops, { op: "change_column", oldName, ifExists }, parsed, position(c));
  }
  if (c.eatWord("MODIFY")) {
    c.eatWord("COLUMN");
    const ifExists = c.eatWords("IF", "EXISTS");
    const name = c.ident();
    const parsed = parseColumnDefinition(c, name);
    return pushColumn(ops, { op: "modify_column", ifExists }, parsed, position(c));
  }
  if (c.eatWord("RENAME")) {
    if (c.eatWord("COLUMN")) {
      const from = c.ident();
      c.expectWord("TO");
      return void ops.push({ op: "rename_column", from, to: c.ident() });
    }
    if (c.eatWord("INDEX", "KEY")) {
      const from = c.ident();
      c.expectWord("TO");
      return void ops.push({ op: "rename_index", from, to: c.ident() });
    }
    c.eatWord("TO", "AS");
    return void ops.push({ op: "rename_table", to: parseTableRef(c) });
  }
  if (c.eatWords("CONVERT", "TO")) {
    const target: { charset?: string; collation?: string } = {};
    if (!charsetClause(c, target) || target.charset === undefined) throw c.fail("expected CHARACTER SET");
    charsetClause(c, target);
    const op: AlterOp = { op: "convert_charset", charset: target.charset };
    if (target.collation !== undefined) op.collation = target.collation;
    return void ops.push(op);
  }
  if (c.eatWord("ALGORITHM", "LOCK")) {
    const which = c.tokens[c.i - 1]!.upper;
    c.eatEquals();
    const value = c.next().text.toUpperCase();
    if (which === "ALGORITHM") out.algorithm = value;
    else out.lock = value;
    return;
  }
  if (c.eatWords("ORDER", "BY")) {
    // A column list whose commas are not specification separators.
    for (;;) {
      c.ident();
      c.eatWord("ASC", "DESC");
      const more = c.isPunct(",") && c.peek(1)?.kind !== undefined && isOrderItem(c);
      if (!more) break;
      c.next();
    }
    return void ops.push({ op: "other", text: c.textBetween(start, c.i) });
  }
  if (c.isWord("FORCE", "ENABLE", "DISABLE", "WITH", "WITHOUT", "DISCARD", "IMPORT", "REMOVE", "UPGRADE")) {
    if (c.isWord("WITH", "WITHOUT") && c.isWordAt(1, "SYSTEM")) throw c.fail("system versioning is not supported");
    return other();
  }
  if (c.isWord(...PARTITION_OPS) && c.isWordAt(1, "PARTITION")) return partitionOp();
  const options: TableOptions = { other: [] };
  if (parseTableOptions(c, options, false) > 0) return void ops.push({ op: "table_options", options });
  throw c.fail("unknown alter specification");
}

/** After ORDER BY's comma: `name [ASC|DESC]` followed by ',' or the end. */
function isOrderItem(c: Cursor): boolean {
  const name = c.peek(1);
  if (name?.kind !== "ident" && name?.kind !== "word") return false;
  const k = c.isWordAt(2, "ASC", "DESC") ? 3 : 2;
  const after = c.peek(k);
  return after === undefined || (after.kind === "punct" && (after.text === "," || after.text === ";"));
}

function position(c: Cursor): ColumnPosition | undefined {
  if (c.eatWord("FIRST")) return { first: true };
  if (c.eatWord("AFTER")) return { after: c.ident() };
  return undefined;
}

type ColumnOpHead = { op: "add_column"; ifNotExists: boolean } | { op: "modify_column"; ifExists: boolean } | { op: "change_column"; oldName: string; ifExists: boolean };

/** The column op, then the keys and check written inline on the column, as their own ops. */
function pushColumn(ops: AlterOp[], head: ColumnOpHead, parsed: ParsedColumn, pos: ColumnPosition | undefined): void {
  const { column, keys, check } = parsed;
  ops.push(pos === undefined ? { ...head, column } : { ...head, column, position: pos });
  for (const k of keys) {
    const parts = [{ column: column.name }];
    if (k === "primary") ops.push({ op: "add_primary_key", index: { name: "PRIMARY", kind: "primary", parts } });
    else ops.push({ op: "add_unique", index: { name: column.name, kind: "unique", parts }, ifNotExists: false });
  }
  if (check) ops.push({ op: "add_check", check });
}
