// MySQL/MariaDB DDL (the change model of src/binlog/ddl.ts) → target statements.
//
//   const catalog = await readTargetCatalog(sql, ddl, schemaMapping);   // the target now
//   const { statements, skipped } = translateDdl(ddl, { dialect, schemaMapping, gtid, position, catalog, flavour });
//   run `statements` in order in one transaction; log each `skipped` part with its reason.
//
// Three outcomes per part of a statement:
//   - translated exactly (identifiers always quoted, types from types.ts);
//   - skipped with a reason, when the part cannot change replicated data: grants,
//     untranslatable defaults, column order…; objects the application may need at cutover
//     (views, triggers, routines, events, CHECK, FULLTEXT/SPATIAL/functional indexes) are
//     also recorded, or refused under [sink] untranslatable = "stop" (ddl-objects.ts);
//   - refused with TARGET_DDL_INCOMPATIBLE when the target would hold different data or a
//     different shape than the source (unknown types, unparsed statements, partition DDL
//     that deletes rows the sink cannot name exactly, …): the message names the statement and the
//     part, and says to apply an equivalent change by hand and resume with --skip-ddl.
// Nothing is dropped silently.

import type { Ddl } from "../binlog/ddl-model.ts";
import { alterTable, applyOp, renameTable } from "./ddl-alter.ts";
import { createTable, createTableLike } from "./ddl-table.ts";
import { dropReferences, settlePending, truncateReferenced } from "./ddl-foreign.ts";
import { codeObjectDdl, forgetTable } from "./ddl-objects.ts";
import { type DdlContext, type DdlTranslation, Translation } from "./ddl-state.ts";
import { fitName, MAX_IDENTIFIER_BYTES, quoteIdent } from "./identifiers.ts";
import { givenNames, targetNames } from "./ddl-target-names.ts";

export type { DdlContext, DdlTranslation } from "./ddl-state.ts";
export { type SkippedObject, type SkippedKind, type UntranslatablePolicy } from "./ddl-skipped.ts";
export { readTargetCatalog, TargetCatalog, type ForeignKeyRef } from "./ddl-catalog.ts";

/** Schemas a replicated DROP DATABASE never drops: the target's own and this tool's. */
const PROTECTED_SCHEMA = /^(public|information_schema|gs_replicate|gs_replicate_guard|pg_.*|dbe_.*|sys|snapshot|blockchain|cstore|db4ai|sqladvisor|pkg_service|pkg_util)$/i;

const OTHER_REASONS: Array<[RegExp, string]> = [
  [/VIEW/, "views are not replicated (their rows are the tables'); their SQL is MySQL's: recreate them on the target by hand"],
  [/GRANT|REVOKE|USER|ROLE/, "accounts and privileges are the target's own: set them up there"],
  [/TRIGGER/, "triggers are not replicated: the rows a trigger changed on the source are in the log already; recreate it on the target only at cutover"],
  [/PROCEDURE|FUNCTION|EVENT|PACKAGE|AGGREGATE/, "routines and events are MySQL SQL and are not replicated: rewrite them for the target"],
];

export function translateDdl(written: Ddl, ctx: DdlContext): DdlTranslation {
  const ddl = targetNames(written);
  const tx = new Translation(ddl, ctx);
  for (const g of givenNames(written)) {
    const target = fitName(g.name);
    tx.given.set(target, g.name);
    if (target !== g.name)
      tx.note(
        `${g.what} ${g.source} is "${target}" on the target: "${g.name}" is longer than the target's ${MAX_IDENTIFIER_BYTES}-byte limit for names (listed by gs-replicate check as schema.long_names)`,
      );
  }
  switch (ddl.kind) {
    case "create_database": {
      const schema = tx.schemaName(ddl.name);
      const q = tx.ident(schema, "schema");
      if (tx.catalog.hasSchema(schema) && !ddl.orReplace) {
        tx.skip(`CREATE DATABASE ${ddl.name}`, `schema ${schema} exists on the target`);
        break;
      }
      if (ddl.orReplace && tx.catalog.hasSchema(schema)) tx.emit(dropSchema(tx, ddl.name));
      tx.emit(`CREATE SCHEMA ${q}`);
      tx.catalog.addSchema(schema);
      break;
    }
    case "drop_database": {
      const schema = tx.schemaName(ddl.name);
      if (!tx.catalog.hasSchema(schema)) {
        tx.skip(`DROP DATABASE ${ddl.name}`, `schema ${schema} does not exist on the target: nothing to drop`);
        break;
      }
      // MySQL keeps other databases' keys into it dangling under FOREIGN_KEY_CHECKS=0: they
      // wait for their table again (DROP SCHEMA … CASCADE would drop them for good).
      const parents = [...new Set(tx.catalog.referencing.filter((k) => k.refSchema === schema).map((k) => k.refTable))];
      dropReferences(
        tx,
        parents.map((name) => ({ schema, name })),
      );
      tx.emit(dropSchema(tx, ddl.name));
      tx.catalog.dropSchema(schema);
      tx.catalog.pending = tx.catalog.pending.filter((k) => k.schema !== schema);
      // MySQL drops the database's views, routines, events and triggers with it.
      tx.catalog.objects = tx.catalog.objects.filter((o) => o.schema !== schema);
      break;
    }
    case "alter_database":
      tx.skip(`ALTER DATABASE ${ddl.name}`, "character set and collation defaults have no target equivalent: text is stored in the target's encoding");
      break;
    case "create_table":
      createTable(tx, ddl);
      break;
    case "create_table_like":
      createTableLike(tx, ddl);
      break;
    case "alter_table":
      alterTable(tx, ddl);
      break;
    case "rename_table":
      for (const r of ddl.renames) renameTable(tx, r.from, r.to, ddl.ifExists);
      break;
    case "drop_table": {
      if (ddl.temporary) {
        tx.skip(`DROP TEMPORARY TABLE`, "temporary tables are not replicated");
        break;
      }
      const names = ddl.tables.map((t) => tx.qualified(t));
      const dropped = ddl.tables.flatMap((t) => tx.current(t) ?? []);
      dropReferences(tx, dropped);
      tx.emit(`DROP TABLE IF EXISTS ${names.join(", ")}`);
      for (const t of dropped) {
        tx.catalog.remove(t.schema, t.name);
        forgetTable(tx, t.schema, t.name);
      }
      break;
    }
    case "truncate_table":
      truncateReferenced(tx, tx.existing(ddl.table));
      break;
    case "create_index": {
      const t = tx.current(ddl.table);
      if (!t) tx.existing(ddl.table);
      const op = ddl.index.kind === "unique" ? "add_unique" : "add_index";
      applyOp(tx, ddl.table, { op, index: ddl.index, ifNotExists: ddl.ifNotExists });
      break;
    }
    case "drop_index":
      if (!tx.current(ddl.table)) {
        tx.skip(`DROP INDEX ${ddl.name} ON ${ddl.table.table}`, "the table does not exist on the target: nothing to drop");
        break;
      }
      applyOp(tx, ddl.table, ddl.name.toUpperCase() === "PRIMARY" ? { op: "drop_primary_key" } : { op: "drop_index", name: ddl.name, ifExists: ddl.ifExists });
      break;
    case "other": {
      if (ddl.object) {
        codeObjectDdl(tx, ddl, ddl.object);
        break;
      }
      const reason = OTHER_REASONS.find(([re]) => re.test(ddl.what))?.[1] ?? "it changes no table's columns, keys or rows, so it has no target statement";
      tx.skip(ddl.what, reason);
      break;
    }
    case "unparsed":
      tx.refuse("the statement", `it was not understood (${ddl.reason}), so the target cannot follow it safely`);
  }
  settlePending(tx);
  return { statements: tx.statements, skipped: tx.skipped, notes: tx.notes, catalog: tx.catalog };
}

/** DROP DATABASE: the mapped schema, exactly, with what is in it, as MySQL drops the database's tables. */
function dropSchema(tx: Translation, database: string): string {
  const schema = tx.schemaName(database);
  if (PROTECTED_SCHEMA.test(schema))
    tx.refuse(`DROP DATABASE ${database}`, `it maps to schema ${schema}, which is not dropped automatically; drop the tables of ${database} by hand`);
  return `DROP SCHEMA ${quoteIdent(schema)} CASCADE`;
}
