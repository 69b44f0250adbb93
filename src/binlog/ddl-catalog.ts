// Table definitions read from the server's data dictionary (information_schema), in the same
// model DDL parsing produces, for the schema history's initial snapshot. Column types are
// parsed from COLUMN_TYPE with the DDL grammar (it is the server's own rendering, versioned
// comments included, e.g. MariaDB's "varchar(10) /*M!100301 COMPRESSED*/").
// Works on MySQL 5.7/8.x and MariaDB 10.x/11.x: only columns both have are read by name.

import { ReplicateError } from "../errors.ts";
import { parseColumnDefinition, parseDefault } from "./ddl-column.ts";
import { cursorFor, DdlSyntaxError } from "./ddl-lexer.ts";
import type { ColumnDef, DefaultValue, IndexDef, KeyPart } from "./ddl-model.ts";
import { type ApplyEnv, type CharsetPair, effectiveColumn, type TableDef } from "./ddl-apply.ts";
import { Catalog, type CharsetInfo, type CollationInfo, isNumericType } from "./ddl-types.ts";

export type Row = Record<string, unknown>;
/** Runs one SQL query on the source and returns its rows as plain objects. */
export type Query = (sql: string) => Promise<Row[]>;

export const SYSTEM_DATABASES = new Set(["mysql", "information_schema", "performance_schema", "sys"]);

export interface ServerFacts {
  flavour: "mysql" | "mariadb";
  /** As in versioned comments: 80023, 101106. */
  serverVersion: number;
  lowerCaseTableNames: number;
  explicitDefaultsForTimestamp: boolean;
  server: CharsetPair;
}

export interface CatalogSnapshot extends ServerFacts {
  charsets: CharsetInfo[];
  collations: CollationInfo[];
  databaseDefaults: Array<[string, CharsetPair]>;
  tables: TableDef[];
  /** Tables that exist but cannot be followed (system-versioned, sequences), with the reason. */
  unknown: Array<{ database: string; table: string; reason: string }>;
}

const lit = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
const dec = new TextDecoder();

function str(row: Row, k: string): string | null {
  const v = row[k];
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return dec.decode(v);
  return String(v);
}
function need(row: Row, k: string): string {
  const v = str(row, k);
  if (v === null) throw new ReplicateError("SOURCE_SERVER_ERROR", `information_schema returned no ${k}`);
  return v;
}

export async function readCatalog(query: Query, databases: string[]): Promise<CatalogSnapshot> {
  const [vars] = await query(
    "SELECT @@version AS version, @@lower_case_table_names AS lctn, @@character_set_server AS cs, @@collation_server AS co, @@explicit_defaults_for_timestamp AS edft",
  );
  if (!vars) throw new ReplicateError("SOURCE_SERVER_ERROR", "the source returned no server variables");
  const version = need(vars, "version");
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  const facts: ServerFacts = {
    flavour: /mariadb/i.test(version) ? "mariadb" : "mysql",
    serverVersion: m ? Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]) : 0,
    lowerCaseTableNames: Number(need(vars, "lctn")),
    explicitDefaultsForTimestamp: ["1", "ON"].includes(need(vars, "edft").toUpperCase()),
    server: { charset: need(vars, "cs"), collation: need(vars, "co") },
  };
  const charsets = (await query("SELECT CHARACTER_SET_NAME AS name, DEFAULT_COLLATE_NAME AS dflt, MAXLEN AS maxlen FROM information_schema.CHARACTER_SETS")).map(
    (r): CharsetInfo => ({ name: need(r, "name"), defaultCollation: need(r, "dflt"), maxlen: Number(need(r, "maxlen")) }),
  );
  // MariaDB 11.2+: character_set_collations overrides a charset's default collation.
  const overrides = await query("SELECT @@character_set_collations AS v").then(
    (rows) => str(rows[0] ?? {}, "v") ?? "",
    () => "",
  );
  for (const pair of overrides.split(",")) {
    const [cs, co] = pair.split("=").map((x) => x.trim().toLowerCase());
    const info = charsets.find((c) => c.name.toLowerCase() === cs);
    if (info && co) info.defaultCollation = co.startsWith(`${cs}_`) ? co : `${cs}_${co}`;
  }
  const collations = (await query("SELECT COLLATION_NAME AS name, CHARACTER_SET_NAME AS cs, ID AS id FROM information_schema.COLLATIONS"))
    .filter((r) => str(r, "id") !== null && str(r, "cs") !== null)
    .map((r): CollationInfo => ({ name: need(r, "name"), charset: need(r, "cs"), id: Number(need(r, "id")) }));
  const catalog = new Catalog(charsets, collations);
  const env: ApplyEnv = { catalog, flavour: facts.flavour, explicitDefaultsForTimestamp: facts.explicitDefaultsForTimestamp };

  const where = (col: string) => (databases.length === 0 ? `${col} NOT IN (${[...SYSTEM_DATABASES].map(lit).join(",")})` : `${col} IN (${databases.map(lit).join(",")})`);
  const databaseDefaults = (
    await query(`SELECT SCHEMA_NAME AS db, DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE ${where("SCHEMA_NAME")}`)
  ).map((r): [string, CharsetPair] => [need(r, "db"), { charset: need(r, "cs"), collation: need(r, "co") }]);

  const tables = new Map<string, TableDef>();
  const unknown: CatalogSnapshot["unknown"] = [];
  const key = (db: string, t: string) => `${db}\u0000${t}`;
  for (const r of await query(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, TABLE_TYPE AS type, ENGINE AS engine, TABLE_COLLATION AS co, TABLE_COMMENT AS comment FROM information_schema.TABLES WHERE ${where("TABLE_SCHEMA")}`,
  )) {
    const database = need(r, "db");
    const table = need(r, "tbl");
    const type = need(r, "type");
    if (type === "SEQUENCE" || type === "SYSTEM VERSIONED") {
      unknown.push({ database, table, reason: `${type === "SEQUENCE" ? "sequences" : "system-versioned tables"} are not supported` });
      continue;
    }
    if (type !== "BASE TABLE") continue;
    const co = str(r, "co");
    const collation = co === null ? undefined : catalog.collation(co);
    const def: TableDef = {
      database,
      table,
      columns: [],
      primaryKey: [],
      indexes: [],
      charset: collation?.charset ?? facts.server.charset,
      collation: collation?.name ?? facts.server.collation,
    };
    const engine = str(r, "engine");
    if (engine !== null) def.engine = engine;
    const comment = str(r, "comment");
    if (comment) def.comment = comment;
    tables.set(key(database, table), def);
  }

  for (const r of await query(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_TYPE AS ctype, CHARACTER_SET_NAME AS cs, COLLATION_NAME AS co, IS_NULLABLE AS nullable, EXTRA AS extra, COLUMN_DEFAULT AS dflt, GENERATION_EXPRESSION AS gen, COLUMN_COMMENT AS comment FROM information_schema.COLUMNS WHERE ${where("TABLE_SCHEMA")} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
  )) {
    const def = tables.get(key(need(r, "db"), need(r, "tbl")));
    if (!def) continue;
    def.columns.push(columnFromRow(env, r, facts.flavour, `${def.database}.${def.table}`));
  }

  const groups = new Map<string, Row[]>();
  for (const r of await query(`SELECT * FROM information_schema.STATISTICS WHERE ${where("TABLE_SCHEMA")} ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`)) {
    const k = `${key(need(r, "TABLE_SCHEMA"), need(r, "TABLE_NAME"))}\u0000${need(r, "INDEX_NAME")}`;
    const g = groups.get(k) ?? [];
    g.push(r);
    groups.set(k, g);
  }
  for (const rows of groups.values()) {
    const first = rows[0]!;
    const def = tables.get(key(need(first, "TABLE_SCHEMA"), need(first, "TABLE_NAME")));
    if (!def) continue;
    const index = indexFromRows(rows);
    if (index.kind === "primary") def.primaryKey = index.parts.map((p) => ("column" in p ? p.column : ""));
    else def.indexes.push(index);
  }
  return { ...facts, charsets, collations, databaseDefaults, tables: [...tables.values()], unknown };
}

function columnFromRow(env: ApplyEnv, r: Row, flavour: "mysql" | "mariadb", where: string): ColumnDef {
  const name = need(r, "name");
  const ctype = need(r, "ctype");
  let column: ColumnDef;
  try {
    const c = cursorFor(ctype, { flavour });
    column = parseColumnDefinition(c, name).column;
    if (!c.atEnd()) throw c.fail("unexpected text");
  } catch (err) {
    if (!(err instanceof DdlSyntaxError)) throw err;
    throw new ReplicateError("BINLOG_SCHEMA_MISSING", `${where}.${name}: cannot read COLUMN_TYPE "${ctype}" (${err.message})`, { where, cause: err });
  }
  const cs = str(r, "cs");
  const co = str(r, "co");
  if (cs !== null) column.type.charset = cs;
  if (co !== null) column.type.collation = co;
  const extra = str(r, "extra") ?? "";
  column.nullable = need(r, "nullable") === "YES";
  column.autoIncrement = /auto_increment/i.test(extra);
  column.invisible = /\bINVISIBLE\b/i.test(extra);
  const gen = str(r, "gen");
  if (/\bGENERATED\b/i.test(extra) && gen !== null && gen !== "") {
    column.generated = { expression: gen, stored: /STORED|PERSISTENT/i.test(extra) };
  }
  const onUpdate = /on update current_timestamp(?:\((\d)\))?/i.exec(extra);
  if (onUpdate) column.onUpdate = { fsp: Number(onUpdate[1] ?? 0) };
  const comment = str(r, "comment");
  if (comment) column.comment = comment;
  const dflt = defaultFromRow(str(r, "dflt"), extra, column.type.name, flavour);
  if (dflt && !column.generated) column.default = dflt;
  // The table default is irrelevant here: every character column came with its own charset.
  return effectiveColumn(env, where, column, { charset: cs ?? "binary", collation: co ?? "binary" });
}

/** COLUMN_DEFAULT is SQL text on MariaDB 10.2.7+, the bare value on MySQL. */
function defaultFromRow(raw: string | null, extra: string, typeName: string, flavour: "mysql" | "mariadb"): DefaultValue | undefined {
  if (raw === null) return undefined;
  if (flavour === "mariadb" || /^current_timestamp/i.test(raw)) {
    try {
      const c = cursorFor(raw, { flavour });
      const v = parseDefault(c);
      if (c.atEnd()) return v;
    } catch (err) {
      if (!(err instanceof DdlSyntaxError)) throw err;
    }
    return { kind: "expression", text: raw };
  }
  if (/DEFAULT_GENERATED/i.test(extra)) return { kind: "expression", text: raw };
  if (isNumericType(typeName)) return { kind: "number", text: raw };
  if (typeName === "bit" && /^b'[01]*'$/.test(raw)) return { kind: "bit", digits: raw.slice(2, -1) };
  return { kind: "string", value: raw };
}

function indexFromRows(rows: Row[]): IndexDef {
  const first = rows[0]!;
  const name = need(first, "INDEX_NAME");
  const type = str(first, "INDEX_TYPE") ?? "";
  const kind = name === "PRIMARY" ? "primary" : need(first, "NON_UNIQUE") === "0" ? "unique" : type === "FULLTEXT" ? "fulltext" : type === "SPATIAL" ? "spatial" : "index";
  const parts = rows.map((r): KeyPart => {
    const column = str(r, "COLUMN_NAME");
    const part: KeyPart = column === null ? { expression: str(r, "EXPRESSION") ?? "" } : { column };
    const sub = str(r, "SUB_PART");
    if (sub !== null && "column" in part) part.length = Number(sub);
    if (str(r, "COLLATION") === "D") part.descending = true;
    return part;
  });
  const index: IndexDef = { name, kind, parts };
  const comment = str(first, "INDEX_COMMENT");
  if (comment) index.comment = comment;
  if (str(first, "IS_VISIBLE") === "NO" || str(first, "IGNORED") === "YES") index.invisible = true;
  return index;
}
