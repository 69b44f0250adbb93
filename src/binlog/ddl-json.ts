// The schema history's persisted forms: plain JSON with a format number, stored by the events
// layer next to the binlog position so that a restart decodes with the definitions of THAT
// position. Reading checks the shape before trusting it: a corrupt or foreign document must
// fail here with a clear error, not later as misdecoded rows.
//
// Format 1 (written by earlier versions, still read): the whole history in one document.
// Format 2: the history as parts, so that no log record grows with the schema. A "base" part
// holds the server facts; "change" parts put or remove table definitions (and database
// defaults) by key. A history is a base followed by changes, replayed in order: a full
// snapshot is a base plus changes naming every table, a DDL adds a change naming only the
// tables it touched. The entries of one change name distinct keys, so one change may be split
// into pieces (splitChange) that apply in any order.

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

/** Server facts and catalogs, as both formats write them. */
interface FactsJson {
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
}

export interface SchemaHistoryJson extends FactsJson {
  format: typeof SCHEMA_FORMAT;
  version: number;
  /** [key, charset, collation] */
  databaseDefaults: Array<[string, string, string]>;
  tables: TableDef[];
  /** [database, table, reason] */
  unknown: Array<[string, string, string]>;
}

export const PART_FORMAT = 2;

export interface HistoryBaseJson extends FactsJson {
  format: typeof PART_FORMAT;
  part: "base";
}

export interface HistoryChangeJson {
  format: typeof PART_FORMAT;
  part: "change";
  /** Set: [key, charset, collation] */
  databaseDefaults: Array<[string, string, string]>;
  /** Database keys whose default is gone (the database was dropped). */
  droppedDatabases: string[];
  /** Put (replacing whatever the key held). */
  tables: TableDef[];
  /** Put: [database, table, reason] */
  unknown: Array<[string, string, string]>;
  /** Keys, as [database, table], that hold nothing any more. */
  removed: Array<[string, string]>;
}

function factsToJSON(s: SchemaState): FactsJson {
  return {
    flavour: s.flavour,
    serverVersion: s.serverVersion,
    lowerCaseTableNames: s.lowerCaseTableNames,
    explicitDefaultsForTimestamp: s.explicitDefaultsForTimestamp,
    server: s.server,
    databases: s.databases,
    charsets: s.charsets.map((c) => [c.name, c.defaultCollation, c.maxlen]),
    collations: s.collations.map((c) => [c.name, c.id, c.charset]),
  };
}

export function schemaToJSON(s: SchemaState, version: number): SchemaHistoryJson {
  return {
    format: SCHEMA_FORMAT,
    version,
    ...factsToJSON(s),
    databaseDefaults: [...s.databaseDefaults].map(([k, v]) => [k, v.charset, v.collation]),
    tables: [...s.tables.values()],
    unknown: [...s.unknown.values()].map((u) => [u.database, u.table, u.reason]),
  };
}

export function baseToJSON(s: SchemaState): HistoryBaseJson {
  return { format: PART_FORMAT, part: "base", ...factsToJSON(s) };
}

/**
 * The change that brings a history from its previous persisted state to `s`, given the keys
 * touched since ("all": every entry, the body of a full snapshot).
 */
export function changeToJSON(s: SchemaState, tableKeys: Iterable<string> | "all", databaseKeys: Iterable<string> | "all"): HistoryChangeJson {
  const out: HistoryChangeJson = { format: PART_FORMAT, part: "change", databaseDefaults: [], droppedDatabases: [], tables: [], unknown: [], removed: [] };
  for (const k of databaseKeys === "all" ? s.databaseDefaults.keys() : databaseKeys) {
    const v = s.databaseDefaults.get(k);
    if (v) out.databaseDefaults.push([k, v.charset, v.collation]);
    else out.droppedDatabases.push(k);
  }
  for (const k of tableKeys === "all" ? [...s.tables.keys(), ...s.unknown.keys()] : tableKeys) {
    const t = s.tables.get(k);
    const u = s.unknown.get(k);
    if (t) out.tables.push(t);
    else if (u) out.unknown.push([u.database, u.table, u.reason]);
    else out.removed.push(k.split("\u0000") as [string, string]);
  }
  return out;
}

const utf8Bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/**
 * `change` as pieces whose JSON text is at most `maxBytes` bytes each (at least one piece).
 * A single table definition larger than that cannot be stored: BINLOG_SCHEMA_MISSING names it.
 */
export function splitChange(change: HistoryChangeJson, maxBytes: number): HistoryChangeJson[] {
  const empty = (): HistoryChangeJson => ({ format: PART_FORMAT, part: "change", databaseDefaults: [], droppedDatabases: [], tables: [], unknown: [], removed: [] });
  const frame = utf8Bytes(empty());
  const pieces: HistoryChangeJson[] = [];
  let cur = empty();
  let size = frame;
  const add = <K extends "databaseDefaults" | "droppedDatabases" | "tables" | "unknown" | "removed">(key: K, entry: HistoryChangeJson[K][number]) => {
    const n = utf8Bytes(entry) + 1; // and its comma
    if (frame + n > maxBytes) {
      const what = key === "tables" ? (entry as TableDef) : undefined;
      throw new ReplicateError(
        "BINLOG_SCHEMA_MISSING",
        `the definition of ${what ? `table ${what.database}.${what.table}` : `a schema history entry (${key})`} takes ${n} bytes in the schema history, more than the ${maxBytes} one log record may hold (Kafka's default message.max.bytes is about 1 MB): the history cannot keep it; set binlog_row_metadata=FULL on the source, where no history is needed`,
        what ? { where: `${what.database}.${what.table}` } : {},
      );
    }
    if (size + n > maxBytes) {
      pieces.push(cur);
      cur = empty();
      size = frame;
    }
    (cur[key] as unknown[]).push(entry);
    size += n;
  };
  for (const e of change.databaseDefaults) add("databaseDefaults", e);
  for (const e of change.droppedDatabases) add("droppedDatabases", e);
  for (const e of change.removed) add("removed", e);
  for (const e of change.unknown) add("unknown", e);
  for (const e of change.tables) add("tables", e);
  pieces.push(cur);
  return pieces;
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

function parse(json: unknown): Obj {
  const o = typeof json === "string" ? (JSON.parse(json) as unknown) : json;
  if (!isObj(o)) throw bad("not an object");
  return o;
}

/** A state with the facts of `o` and no entries. */
function facts(o: Obj): SchemaState {
  if (o.flavour !== "mysql" && o.flavour !== "mariadb") throw bad("flavour");
  if (!isNum(o.serverVersion) || !isNum(o.lowerCaseTableNames) || typeof o.explicitDefaultsForTimestamp !== "boolean") throw bad("server facts");
  const databases = arr(o, "databases");
  if (!databases.every(isStr)) throw bad("databases");
  return {
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
    databaseDefaults: new Map(),
    tables: new Map(),
    unknown: new Map(),
  };
}

/** Puts the entries of `o` (format 1 document or format 2 change) into `state`. */
function putEntries(state: SchemaState, o: Obj): void {
  const fold = (s: string) => (state.lowerCaseTableNames > 0 ? s.toLowerCase() : s);
  for (const e of arr(o, "databaseDefaults")) {
    const [k, charset, collation] = tuple(e, "sss", "databaseDefaults") as [string, string, string];
    state.databaseDefaults.set(k, { charset, collation });
  }
  for (const t of arr(o, "tables").map(table)) {
    const k = `${fold(t.database)}\u0000${fold(t.table)}`;
    state.unknown.delete(k);
    state.tables.set(k, t);
  }
  for (const e of arr(o, "unknown")) {
    const [database, table, reason] = tuple(e, "sss", "unknown") as [string, string, string];
    const k = `${fold(database)}\u0000${fold(table)}`;
    state.tables.delete(k);
    state.unknown.set(k, { database, table, reason });
  }
}

export function schemaFromJSON(json: unknown): { state: SchemaState; version: number } {
  const o = parse(json);
  if (o.format !== SCHEMA_FORMAT) throw bad(`format ${String(o.format)}, this version reads ${SCHEMA_FORMAT}`);
  if (!isNum(o.version)) throw bad("server facts");
  const state = facts(o);
  putEntries(state, o);
  return { state, version: o.version };
}

/** The state a base part and the change parts after it describe, in order. */
export function schemaFromParts(parts: readonly unknown[]): SchemaState {
  let state: SchemaState | undefined;
  parts.forEach((json, i) => {
    const o = parse(json);
    if (o.format !== PART_FORMAT) throw bad(`part ${i + 1} has format ${String(o.format)}, this version reads ${PART_FORMAT}`);
    if (i === 0) {
      if (o.part !== "base") throw bad(`the first part is a ${String(o.part)}, not the base`);
      state = facts(o);
      return;
    }
    if (o.part !== "change" || !state) throw bad(`part ${i + 1} is a ${String(o.part)}, not a change`);
    const fold = (s: string) => (state!.lowerCaseTableNames > 0 ? s.toLowerCase() : s);
    for (const k of arr(o, "droppedDatabases")) {
      if (!isStr(k)) throw bad("an entry of droppedDatabases");
      state.databaseDefaults.delete(k);
    }
    for (const e of arr(o, "removed")) {
      const [database, table] = tuple(e, "ss", "removed") as [string, string];
      const k = `${fold(database)}\u0000${fold(table)}`;
      state.tables.delete(k);
      state.unknown.delete(k);
    }
    putEntries(state, o);
  });
  if (!state) throw bad("no parts");
  return state;
}
