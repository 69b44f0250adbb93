// The schema history's persisted form: plain JSON with a format number, stored by the events
// layer next to the binlog position so that a restart decodes with the definitions of THAT
// position. Reading checks the shape before trusting it: a corrupt or foreign document must
// fail here with a clear error, not later as misdecoded rows.

import { ReplicateError } from "../errors.ts";
import type { CharsetPair, TableDef } from "./ddl-apply.ts";
import type { ServerFacts } from "./ddl-catalog.ts";
import type { CharsetInfo, CollationInfo } from "./ddl-types.ts";

export const SCHEMA_FORMAT = 1;

export interface SchemaState extends ServerFacts {
  /** Databases followed; empty = every non-system database. */
  databases: string[];
  charsets: CharsetInfo[];
  collations: CollationInfo[];
  /** Keyed by database name (folded when lower_case_table_names > 0). */
  databaseDefaults: Map<string, CharsetPair>;
  /** Keyed by "database\0table" (folded likewise). */
  tables: Map<string, TableDef>;
  /** Tables known to exist but not followable, with the reason (keyed like tables). */
  unknown: Map<string, { database: string; table: string; reason: string }>;
}

export interface SchemaHistoryJson {
  format: typeof SCHEMA_FORMAT;
  version: number;
  flavour: "mysql" | "mariadb";
  serverVersion: number;
  lowerCaseTableNames: number;
  explicitDefaultsForTimestamp: boolean;
  server: CharsetPair;
  databases: string[];
  /** [name, default collation, maxlen] */
  charsets: Array<[string, string, number]>;
  /** [name, id, charset] */
  collations: Array<[string, number, string]>;
  /** [key, charset, collation] */
  databaseDefaults: Array<[string, string, string]>;
  tables: TableDef[];
  /** [database, table, reason] */
  unknown: Array<[string, string, string]>;
}

export function schemaToJSON(s: SchemaState, version: number): SchemaHistoryJson {
  return {
    format: SCHEMA_FORMAT,
    version,
    flavour: s.flavour,
    serverVersion: s.serverVersion,
    lowerCaseTableNames: s.lowerCaseTableNames,
    explicitDefaultsForTimestamp: s.explicitDefaultsForTimestamp,
    server: s.server,
    databases: s.databases,
    charsets: s.charsets.map((c) => [c.name, c.defaultCollation, c.maxlen]),
    collations: s.collations.map((c) => [c.name, c.id, c.charset]),
    databaseDefaults: [...s.databaseDefaults].map(([k, v]) => [k, v.charset, v.collation]),
    tables: [...s.tables.values()],
    unknown: [...s.unknown.values()].map((u) => [u.database, u.table, u.reason]),
  };
}

function bad(what: string): ReplicateError {
  return new ReplicateError("BINLOG_SCHEMA_MISSING", `the stored schema history is not readable (${what}); take a new schema snapshot`);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function arr(o: Obj, k: string): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) throw bad(`${k} is not a list`);
  return v;
}
function tuple(v: unknown, kinds: string, what: string): unknown[] {
  if (!Array.isArray(v) || v.length !== kinds.length) throw bad(`an entry of ${what}`);
  v.forEach((x, i) => {
    if (kinds[i] === "s" ? !isStr(x) : !isNum(x)) throw bad(`an entry of ${what}`);
  });
  return v;
}
function pair(v: unknown, what: string): CharsetPair {
  if (!isObj(v) || !isStr(v.charset) || !isStr(v.collation)) throw bad(what);
  return { charset: v.charset, collation: v.collation };
}

function table(v: unknown): TableDef {
  if (!isObj(v) || !isStr(v.database) || !isStr(v.table) || !isStr(v.charset) || !isStr(v.collation)) throw bad("a table entry");
  const where = `table ${String(v.database)}.${String(v.table)}`;
  const columns = arr(v, "columns");
  for (const c of columns) {
    if (!isObj(c) || !isStr(c.name) || !isObj(c.type) || !isStr(c.type.name) || typeof c.type.unsigned !== "boolean") throw bad(`a column of ${where}`);
    if (c.type.values !== undefined && !(Array.isArray(c.type.values) && c.type.values.every(isStr))) throw bad(`the values of ${where}.${c.name}`);
  }
  if (!arr(v, "primaryKey").every(isStr)) throw bad(`the primary key of ${where}`);
  for (const ix of arr(v, "indexes")) if (!isObj(ix) || !isStr(ix.kind) || !Array.isArray(ix.parts)) throw bad(`an index of ${where}`);
  // Checked field by field above; the nested optional fields are plain JSON values.
  return v as unknown as TableDef;
}

export function schemaFromJSON(json: unknown): { state: SchemaState; version: number } {
  const o = typeof json === "string" ? (JSON.parse(json) as unknown) : json;
  if (!isObj(o)) throw bad("not an object");
  if (o.format !== SCHEMA_FORMAT) throw bad(`format ${String(o.format)}, this version reads ${SCHEMA_FORMAT}`);
  if (o.flavour !== "mysql" && o.flavour !== "mariadb") throw bad("flavour");
  if (!isNum(o.version) || !isNum(o.serverVersion) || !isNum(o.lowerCaseTableNames) || typeof o.explicitDefaultsForTimestamp !== "boolean") {
    throw bad("server facts");
  }
  const databases = arr(o, "databases");
  if (!databases.every(isStr)) throw bad("databases");
  const state: SchemaState = {
    flavour: o.flavour,
    serverVersion: o.serverVersion,
    lowerCaseTableNames: o.lowerCaseTableNames,
    explicitDefaultsForTimestamp: o.explicitDefaultsForTimestamp,
    server: pair(o.server, "server charset"),
    databases,
    charsets: arr(o, "charsets").map((e) => {
      const [name, defaultCollation, maxlen] = tuple(e, "ssn", "charsets") as [string, string, number];
      return { name, defaultCollation, maxlen };
    }),
    collations: arr(o, "collations").map((e) => {
      const [name, id, charset] = tuple(e, "sns", "collations") as [string, number, string];
      return { name, id, charset };
    }),
    databaseDefaults: new Map(
      arr(o, "databaseDefaults").map((e) => {
        const [k, charset, collation] = tuple(e, "sss", "databaseDefaults") as [string, string, string];
        return [k, { charset, collation }];
      }),
    ),
    tables: new Map(),
    unknown: new Map(),
  };
  const fold = (s: string) => (state.lowerCaseTableNames > 0 ? s.toLowerCase() : s);
  for (const t of arr(o, "tables").map(table)) state.tables.set(`${fold(t.database)}\u0000${fold(t.table)}`, t);
  for (const e of arr(o, "unknown")) {
    const [database, table, reason] = tuple(e, "sss", "unknown") as [string, string, string];
    state.unknown.set(`${fold(database)}\u0000${fold(table)}`, { database, table, reason });
  }
  return { state, version: o.version };
}
