// The source schema `copy` reproduces, read the way the sink would have met it: each table's
// SHOW CREATE TABLE, parsed by the same parser and translated by the same translator
// (src/dialect/ddl.ts), in two steps so that the data loads before indexes and foreign keys:
//   1. the table: columns, defaults, NOT NULL, primary key, AUTO_INCREMENT, comments, CHECKs
//   2. its other indexes (unique ones included), then every table's foreign keys
// Views, triggers, routines and events go through the translator too, which records them in
// gs_replicate.skipped_objects as the sink does (listed by `check` and the copy's report).

import type { BinlogConnection } from "../binlog/connection.ts";
import { parseDdl } from "../binlog/ddl.ts";
import { SYSTEM_DATABASES } from "../binlog/ddl-catalog.ts";
import type { AlterOp, AlterTable, CreateTable, Ddl } from "../binlog/ddl-model.ts";
import type { TableDef } from "../binlog/ddl-apply.ts";
import { ReplicateError } from "../errors.ts";

export interface SourceTable {
  database: string;
  table: string;
  /** SHOW CREATE TABLE without AUTO_INCREMENT=n (which moves with every insert): compared after the copy. */
  definition: string;
  create: CreateTable;
  engine: string;
  /** information_schema's estimate, for chunk planning and progress. */
  rowsEstimate: number;
  bytesEstimate: number;
  /** The schema history's definition (effective types and charsets), for reading values. */
  def: TableDef;
}

export interface SourceObject {
  what: string;
  database: string;
  name: string;
  ddl: Ddl;
}

interface ParseEnv {
  flavour: "mysql" | "mariadb";
  lowerCaseNames: boolean;
}

const AUTO_INCREMENT_OPTION = /\s+AUTO_INCREMENT=\d+/;

/** The databases copied: [source] databases, or every database but the system ones. */
export async function databasesOf(conn: BinlogConnection, wanted: string[]): Promise<string[]> {
  const rows = await conn.query<{ db: string }>("SELECT SCHEMA_NAME AS db FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME");
  const present = rows.map((r) => String(r.db));
  if (wanted.length === 0) return present.filter((d) => !SYSTEM_DATABASES.has(d.toLowerCase()));
  const fold = conn.info.lowerCaseTableNames !== 0 ? (n: string) => n.toLowerCase() : (n: string) => n;
  const missing = wanted.filter((w) => !present.some((p) => fold(p) === fold(w)));
  if (missing.length > 0) {
    throw new ReplicateError("CONFIG_BAD_VALUE", `[source] databases lists ${missing.join(", ")}, which the source does not have: there is nothing to copy from it`, {
      kind: "config",
      where: "source.databases",
    });
  }
  return present.filter((p) => wanted.some((w) => fold(p) === fold(w)));
}

const myIdent = (name: string) => `\`${name.replace(/`/g, "``")}\``;
const myString = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;

/** SHOW CREATE TABLE of one table, AUTO_INCREMENT=n left out. */
export async function showCreateTable(conn: BinlogConnection, database: string, table: string): Promise<string> {
  const [r] = await conn.query<Record<string, string>>(`SHOW CREATE TABLE ${myIdent(database)}.${myIdent(table)}`);
  const text = r?.["Create Table"];
  if (text === undefined) throw new ReplicateError("SOURCE_SERVER_ERROR", `SHOW CREATE TABLE ${database}.${table} returned no definition`, { where: `${database}.${table}` });
  return text.replace(AUTO_INCREMENT_OPTION, "");
}

/** Every base table of `databases`, with its definition, engine and size estimates. */
export async function readTables(conn: BinlogConnection, databases: string[], history: { table(db: string, t: string): TableDef | undefined }): Promise<SourceTable[]> {
  if (databases.length === 0) return [];
  const env = envOf(conn);
  const rows = await conn.query<{ db: string; t: string; engine: string | null; n: number | string | null; bytes: number | string | null }>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, ENGINE AS engine, TABLE_ROWS AS n, DATA_LENGTH AS bytes FROM information_schema.TABLES
      WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN (${databases.map(myString).join(", ")}) ORDER BY TABLE_SCHEMA, TABLE_NAME`,
  );
  const out: SourceTable[] = [];
  for (const r of rows) {
    const database = String(r.db);
    const table = String(r.t);
    const definition = await showCreateTable(conn, database, table);
    const ddl = parseDdl(definition, { database, flavour: env.flavour, lowerCaseNames: env.lowerCaseNames });
    if (ddl.kind !== "create_table") {
      throw new ReplicateError(
        "TARGET_DDL_INCOMPATIBLE",
        `the definition of ${database}.${table} could not be read (${ddl.kind === "unparsed" ? ddl.reason : ddl.kind}): ${definition.slice(0, 300)}`,
        {
          where: `${database}.${table}`,
        },
      );
    }
    const def = history.table(database, table);
    if (!def) throw new ReplicateError("INTERNAL", `the schema snapshot has no definition of ${database}.${table}`, { where: `${database}.${table}` });
    out.push({ database, table, definition, create: ddl, engine: String(r.engine ?? ""), rowsEstimate: Number(r.n ?? 0), bytesEstimate: Number(r.bytes ?? 0), def });
  }
  return out;
}

/** Views, triggers, routines and events of `databases`, parsed, for the translator to record. */
export async function readObjects(conn: BinlogConnection, databases: string[]): Promise<SourceObject[]> {
  if (databases.length === 0) return [];
  const env = envOf(conn);
  const inList = databases.map(myString).join(", ");
  const found: Array<{ what: string; database: string; name: string; show: string; column: string }> = [];
  const add = async (what: string, sql: string, show: (db: string, n: string) => string, column: string) => {
    for (const r of await conn.query<{ db: string; n: string }>(sql)) {
      found.push({ what, database: String(r.db), name: String(r.n), show: show(String(r.db), String(r.n)), column });
    }
  };
  const q = (db: string, n: string) => `${myIdent(db)}.${myIdent(n)}`;
  await add(
    "VIEW",
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (${inList})`,
    (d, n) => `SHOW CREATE VIEW ${q(d, n)}`,
    "Create View",
  );
  await add(
    "TRIGGER",
    `SELECT TRIGGER_SCHEMA AS db, TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (${inList})`,
    (d, n) => `SHOW CREATE TRIGGER ${q(d, n)}`,
    "SQL Original Statement",
  );
  for (const kind of ["PROCEDURE", "FUNCTION"]) {
    await add(
      kind,
      `SELECT ROUTINE_SCHEMA AS db, ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_TYPE = '${kind}' AND ROUTINE_SCHEMA IN (${inList})`,
      (d, n) => `SHOW CREATE ${kind} ${q(d, n)}`,
      `Create ${kind === "PROCEDURE" ? "Procedure" : "Function"}`,
    );
  }
  await add(
    "EVENT",
    `SELECT EVENT_SCHEMA AS db, EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (${inList})`,
    (d, n) => `SHOW CREATE EVENT ${q(d, n)}`,
    "Create Event",
  );
  const out: SourceObject[] = [];
  for (const f of found) {
    let text: string | undefined;
    try {
      const [r] = await conn.query<Record<string, string | null>>(f.show);
      text = r?.[f.column] ?? undefined;
    } catch {
      // SHOW CREATE needs privileges the copy's user may lack; the object is still reported.
    }
    const statement = text ?? `CREATE ${f.what} ${q(f.database, f.name)}`;
    out.push({ what: f.what, database: f.database, name: f.name, ddl: parseDdl(statement, { database: f.database, flavour: env.flavour, lowerCaseNames: env.lowerCaseNames }) });
  }
  return out;
}

function envOf(conn: BinlogConnection): ParseEnv {
  return { flavour: conn.info.flavour, lowerCaseNames: conn.info.lowerCaseTableNames !== 0 };
}

/** Step 1: the table with its primary key but without its other indexes and its foreign keys. */
export function tableOnly(t: SourceTable): CreateTable {
  return { ...t.create, indexes: [], foreignKeys: [], columns: t.create.columns.map(({ references: _, ...c }) => c) };
}

/** Step 2: the table's other indexes as one ALTER TABLE (null when it has none). */
export function indexesOf(t: SourceTable): AlterTable | null {
  const ops: AlterOp[] = t.create.indexes.map((index) =>
    index.kind === "unique" ? { op: "add_unique", index, ifNotExists: false } : { op: "add_index", index, ifNotExists: false },
  );
  return ops.length === 0 ? null : alter(t, ops);
}

/** Step 3: the table's foreign keys as one ALTER TABLE (null when it has none). */
export function foreignKeysOf(t: SourceTable): AlterTable | null {
  const ops: AlterOp[] = t.create.foreignKeys.map((foreignKey) => ({ op: "add_foreign_key", foreignKey, ifNotExists: false }));
  return ops.length === 0 ? null : alter(t, ops);
}

function alter(t: SourceTable, ops: AlterOp[]): AlterTable {
  return { kind: "alter_table", statement: t.definition, table: { database: t.database, table: t.table }, ifExists: false, online: false, ignore: false, ops };
}
