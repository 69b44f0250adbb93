// SchemaHistory: the table definitions in effect at each point of the binlog, for sources
// whose TABLE_MAP does not name columns (MySQL 5.7; MySQL 8 binlog_row_metadata=MINIMAL, the
// default; MariaDB binlog_row_metadata=NO_LOG, the default). Without it rows cannot be decoded
// with the right names, signedness, charsets, ENUM/SET members or key.
//
// Lifecycle: snapshot() reads information_schema at the start position (the caller takes it
// while no DDL runs, then reads the position); apply() follows every DDL item of the stream in
// order; the events layer persists it next to the position (src/events/history.ts: base() and
// everything() for a full snapshot, takeChanges() for what the DDL since the last one touched;
// fromParts() rebuilds it), so a restart continues with the schema of that position, not
// today's. toJSON()/fromJSON() are the single-document form earlier versions wrote.
//
// resolve() is called per TABLE_MAP. TABLE_MAP stays authoritative for everything it carries
// (type codes, sizes, nullability, and MySQL MINIMAL's signedness/charsets); the history adds
// names, signedness, collations, ENUM/SET members and the primary key, after checking that the
// column count and every column's type code and size metadata agree with the declared type.
// Any disagreement means the history is stale, and decoding stops with BINLOG_SCHEMA_MISSING
// rather than produce plausible wrong data.
//
// Generated and invisible columns: both flavours write VIRTUAL and STORED generated columns
// and INVISIBLE columns in TABLE_MAP and row images (checked on MariaDB 10.11; MySQL 8 writes
// all columns except the hidden ones behind functional indexes, which information_schema
// does not list either), so they are counted like any column. A server that differs fails the
// column-count check with a message naming them, never silently.

import { ReplicateError } from "../errors.ts";
import { type Ddl, parseDdl, type TableRef } from "./ddl.ts";
import { alterTable, type ApplyEnv, type CharsetPair, drift, resolveCharset, tableFromCreate, tableLike, type TableDef } from "./ddl-apply.ts";
import { type Query, readCatalog, SYSTEM_DATABASES } from "./ddl-catalog.ts";
import { binlogMismatch, binlogTypeText, Catalog, isNumericType, typeText } from "./ddl-types.ts";
import type { TableMap } from "./events/tablemap.ts";
import { type ColumnInfo, ColumnType, type TableInfo } from "./types.ts";
import { MARIADB_BLOB_COMPRESSED, MARIADB_VARCHAR_COMPRESSED } from "./columns.ts";
import {
  baseToJSON,
  changeToJSON,
  type HistoryBaseJson,
  type HistoryChangeJson,
  schemaFromJSON,
  schemaFromParts,
  type SchemaHistoryJson,
  type SchemaState,
  schemaToJSON,
} from "./ddl-json.ts";

export type { TableDef } from "./ddl-apply.ts";
export type { Query } from "./ddl-catalog.ts";

/** What apply() needs of a DDL item (src/binlog/transactions.ts DdlItem). */
interface DdlLike {
  database: string;
  statement: string;
  sqlMode?: bigint;
  lowerCaseNames?: boolean;
}

interface Merged {
  columns: ColumnInfo[];
  primaryKey: number[];
}

export class SchemaHistory {
  /** Bumped by every apply() that changed a definition: persist when it moved. */
  version = 0;
  private readonly env: ApplyEnv;
  private readonly cache = new WeakMap<TableDef, Map<string, Merged>>();
  /** opaque() results for tables outside the followed databases, bounded. */
  private readonly others = new Map<string, Merged>();
  /** Table and database keys changed since the last takeChanges(). */
  private changedTables = new Set<string>();
  private changedDatabases = new Set<string>();

  private constructor(private readonly state: SchemaState) {
    this.env = { catalog: new Catalog(state.charsets, state.collations), flavour: state.flavour, explicitDefaultsForTimestamp: state.explicitDefaultsForTimestamp };
  }

  /** Reads the definitions of `databases` (empty: every non-system database) from information_schema. */
  static async snapshot(query: Query, databases: string[]): Promise<SchemaHistory> {
    const snap = await readCatalog(query, databases);
    const h = new SchemaHistory({ ...snap, databases: [...databases], databaseDefaults: new Map(), tables: new Map(), unknown: new Map() });
    for (const [db, cs] of snap.databaseDefaults) h.state.databaseDefaults.set(h.dbKey(db), cs);
    for (const t of snap.tables) h.put(h.normalise(t));
    for (const u of snap.unknown) h.state.unknown.set(h.key(u.database, u.table), u);
    h.version = 0;
    h.changedTables.clear();
    h.changedDatabases.clear();
    return h;
  }

  /** The history a base part and the change parts after it describe (src/events/history.ts). */
  static fromParts(parts: readonly unknown[]): SchemaHistory {
    return new SchemaHistory(schemaFromParts(parts));
  }

  static fromJSON(json: unknown): SchemaHistory {
    const { state, version } = schemaFromJSON(json);
    const h = new SchemaHistory(state);
    h.version = version;
    return h;
  }

  toJSON(): SchemaHistoryJson {
    return schemaToJSON(this.state, this.version);
  }

  /** The server facts: the first part of a full snapshot. */
  base(): HistoryBaseJson {
    return baseToJSON(this.state);
  }

  /** Every definition as one change: after base(), a full snapshot. */
  everything(): HistoryChangeJson {
    return changeToJSON(this.state, "all", "all");
  }

  /** Whether a definition changed since the last takeChanges(). */
  get changed(): boolean {
    return this.changedTables.size > 0 || this.changedDatabases.size > 0;
  }

  /** What changed since the last call (the snapshot, the load), as one change; forgets it. */
  takeChanges(): HistoryChangeJson {
    const change = changeToJSON(this.state, this.changedTables, this.changedDatabases);
    this.changedTables = new Set();
    this.changedDatabases = new Set();
    return change;
  }

  /** The current definition of a table, or undefined when it is not followed. */
  table(database: string, table: string): TableDef | undefined {
    return this.state.tables.get(this.key(database, table));
  }

  /** Follows one DDL statement; returns its parsed form. */
  apply(item: DdlLike): Ddl {
    const s = this.state;
    const opts = { database: item.database, flavour: s.flavour, serverVersion: s.serverVersion, lowerCaseNames: item.lowerCaseNames === true };
    const ddl = parseDdl(item.statement, item.sqlMode === undefined ? opts : { ...opts, sqlMode: item.sqlMode });
    switch (ddl.kind) {
      case "create_database":
      case "alter_database": {
        if (!this.follows(ddl.name)) break;
        const k = this.dbKey(ddl.name);
        const current = s.databaseDefaults.get(k);
        if (ddl.kind === "create_database" && current && ddl.ifNotExists && !ddl.orReplace) break;
        if (ddl.kind === "create_database" && ddl.orReplace) this.dropDatabase(ddl.name);
        const base = ddl.kind === "alter_database" ? (current ?? s.server) : s.server;
        s.databaseDefaults.set(k, resolveCharset(this.env, ddl.name, ddl.charset, ddl.collation, base));
        this.changedDatabases.add(k);
        this.version++;
        break;
      }
      case "drop_database":
        this.dropDatabase(ddl.name);
        break;
      case "create_table": {
        if (ddl.temporary || !this.follows(ddl.table.database)) break;
        if (this.table(ddl.table.database, ddl.table.table) && ddl.ifNotExists && !ddl.orReplace) break;
        this.put(this.normalise(tableFromCreate(this.env, ddl, this.databaseDefault(ddl.table.database))));
        break;
      }
      case "create_table_like": {
        if (ddl.temporary || !this.follows(ddl.table.database)) break;
        if (this.table(ddl.table.database, ddl.table.table) && ddl.ifNotExists && !ddl.orReplace) break;
        const source = this.table(ddl.like.database, ddl.like.table);
        if (source) this.put(this.normalise(tableLike(source, ddl.table.database, ddl.table.table)));
        else this.forget(ddl.table, `it was created LIKE ${ddl.like.database}.${ddl.like.table}, whose definition the history does not have`);
        break;
      }
      case "alter_table":
      case "create_index":
      case "drop_index":
        this.alter(ddl);
        break;
      case "rename_table":
        for (const { from, to } of ddl.renames) this.rename(from, to);
        break;
      case "drop_table":
        if (ddl.temporary) break;
        for (const t of ddl.tables) this.remove(t);
        break;
      case "truncate_table":
      case "other":
        break;
      case "unparsed": {
        const affected = ddl.tables === undefined || ddl.tables.some((t) => this.follows(t.database));
        if (affected) {
          const what = ddl.tables?.map((t) => `${t.database}.${t.table}`).join(", ");
          throw new ReplicateError(
            "BINLOG_SCHEMA_MISSING",
            `cannot follow DDL "${ddl.statement.slice(0, 200)}" (${ddl.reason})${what ? ` on ${what}` : ""}: the schema history would no longer match the binlog; take a new schema snapshot after it, or set binlog_row_metadata=FULL on the source`,
            what ? { where: what } : {},
          );
        }
        break;
      }
    }
    return ddl;
  }

  /**
   * The TABLE_MAP completed with this history's definition (see the file comment).
   * Tables outside the followed databases get the TABLE_MAP's own description with character
   * cells as bytes: the decoder decodes every table's rows before the source drops those of
   * other databases, and their bytes must not fail a charset it cannot know. The source must
   * therefore filter to the databases the history follows.
   */
  resolve(map: TableMap): TableInfo {
    const t = map.table;
    if (!this.follows(t.database)) return this.opaque(map);
    const def = this.table(t.database, t.table);
    const where = `${t.database}.${t.table}`;
    if (!def) {
      const why = this.state.unknown.get(this.key(t.database, t.table));
      throw new ReplicateError(
        "BINLOG_SCHEMA_MISSING",
        `no schema known for ${where}: the binlog does not name its columns (binlog_row_metadata below FULL) and the schema history has no definition for it (${why?.reason ?? "it is not in the snapshot's databases, or was created by DDL the history did not see"}); take a new schema snapshot, or set binlog_row_metadata=FULL on the source`,
        { where },
      );
    }
    let perMap = this.cache.get(def);
    if (!perMap) this.cache.set(def, (perMap = new Map()));
    const sig = signature(map);
    let merged = perMap.get(sig);
    if (!merged) {
      merged = this.merge(def, map, where);
      perMap.set(sig, merged);
    }
    return { tableId: t.tableId, database: t.database, table: t.table, columns: merged.columns, primaryKey: merged.primaryKey };
  }

  private merge(def: TableDef, map: TableMap, where: string): Merged {
    const cols = map.table.columns;
    if (cols.length !== def.columns.length) {
      const special = def.columns.filter((c) => c.generated || c.invisible).map((c) => `${c.name} (${c.generated ? "generated" : "invisible"})`);
      throw drift(
        where,
        `the binlog has ${cols.length} columns, the history ${def.columns.length} (${def.columns.map((c) => c.name).join(", ")})${special.length ? `; generated/invisible columns: ${special.join(", ")}` : ""}`,
      );
    }
    const md = map.metadata.missing;
    const columns = cols.map((mc, i): ColumnInfo => {
      const d = def.columns[i]!;
      const cs = d.type.charset;
      const maxlen = cs === undefined || cs === "binary" ? 1 : (this.env.catalog.charset(cs)?.maxlen ?? 1);
      const why = binlogMismatch(d.type, mc, maxlen, d.compressed === true);
      if (why) throw drift(where, `column #${i + 1} ${d.name} is ${typeText(d.type)} in the history but the binlog writes ${binlogTypeText(mc)} (${why})`);
      if (!md.signedness && isNumericType(d.type.name) && mc.unsigned !== d.type.unsigned) {
        throw drift(where, `column #${i + 1} ${d.name} is ${d.type.unsigned ? "UNSIGNED" : "signed"} in the history but not in the binlog`);
      }
      const info: ColumnInfo = { name: d.name, type: mc.type, meta: mc.meta, nullable: mc.nullable, unsigned: md.signedness ? d.type.unsigned : mc.unsigned };
      const collation = mc.collation ?? this.collationId(d.type.charset, d.type.collation, where);
      if (collation !== undefined) info.collation = collation;
      if (d.type.name === "enum") info.enumValues = mc.enumValues ?? d.type.values ?? [];
      if (d.type.name === "set") info.setValues = mc.setValues ?? d.type.values ?? [];
      if (mc.geometryType !== undefined) info.geometryType = mc.geometryType;
      return info;
    });
    const primaryKey = md.primaryKey ? def.primaryKey.map((n) => def.columns.findIndex((c) => c.name.toLowerCase() === n.toLowerCase())) : map.table.primaryKey;
    return { columns, primaryKey };
  }

  private opaque(map: TableMap): TableInfo {
    const t = map.table;
    const sig = `${t.database}\u0000${t.table}\u0000${signature(map)}`;
    let merged = this.others.get(sig);
    if (!merged) {
      if (this.others.size >= 1000) this.others.clear();
      const columns = t.columns.map((c) => (c.collation === undefined && TEXT_CODES.has(c.type) ? { ...c, collation: 63 } : c));
      merged = { columns, primaryKey: t.primaryKey };
      this.others.set(sig, merged);
    }
    return { ...t, columns: merged.columns, primaryKey: merged.primaryKey };
  }

  private collationId(charset: string | undefined, collation: string | undefined, where: string): number | undefined {
    if (charset === "binary") return 63;
    if (collation === undefined) return undefined;
    const co = this.env.catalog.collation(collation);
    if (!co) throw drift(where, `collation ${collation} has no id in the server's collation list`);
    return co.id;
  }

  private alter(ddl: Ddl & { kind: "alter_table" | "create_index" | "drop_index" }): void {
    const ref = ddl.table;
    if (!this.follows(ref.database)) {
      if (ddl.kind !== "alter_table") return;
      const to = renameTarget(ddl);
      if (to && this.follows(to.database)) this.forget(to, `it was moved in from ${ref.database}.${ref.table}, which the history does not follow`);
      return;
    }
    const def = this.table(ref.database, ref.table);
    if (!def) {
      // Nothing to change; if rows of it ever come, resolve() reports why it is unknown.
      if (!this.state.unknown.has(this.key(ref.database, ref.table)) && !(ddl.kind === "alter_table" && ddl.ifExists)) {
        this.forget(ref, `"${ddl.statement.slice(0, 100)}" changed it while the history had no definition of it`);
      }
      const to = ddl.kind === "alter_table" ? renameTarget(ddl) : undefined;
      if (to) this.rename(ref, to);
      return;
    }
    const alter =
      ddl.kind === "alter_table"
        ? ddl
        : {
            kind: "alter_table" as const,
            statement: ddl.statement,
            table: ref,
            ifExists: false,
            online: false,
            ignore: false,
            ops:
              ddl.kind === "create_index"
                ? [
                    ddl.index.kind === "unique"
                      ? { op: "add_unique" as const, index: ddl.index, ifNotExists: ddl.ifNotExists }
                      : { op: "add_index" as const, index: ddl.index, ifNotExists: ddl.ifNotExists },
                  ]
                : [ddl.name.toUpperCase() === "PRIMARY" ? { op: "drop_primary_key" as const } : { op: "drop_index" as const, name: ddl.name, ifExists: ddl.ifExists }],
          };
    const next = alterTable(this.env, def, alter, this.databaseDefault(ref.database));
    const to = ddl.kind === "alter_table" ? renameTarget(ddl) : undefined;
    this.remove(ref);
    if (to) {
      if (this.follows(to.database)) this.put(this.normalise({ ...next, database: to.database, table: to.table }));
    } else this.put(next);
  }

  private rename(from: TableRef, to: TableRef): void {
    const def = this.table(from.database, from.table);
    const unknown = this.state.unknown.get(this.key(from.database, from.table));
    this.remove(from);
    if (!this.follows(to.database)) return;
    if (def) this.put(this.normalise({ ...def, database: to.database, table: to.table }));
    else if (unknown) this.forget(to, unknown.reason);
    // A view (RENAME TABLE renames those too) or a table the history lost: unknown from now on.
    else this.forget(to, `it was renamed from ${from.database}.${from.table}, whose definition the history does not have`);
  }

  private dropDatabase(name: string): void {
    const k = this.dbKey(name);
    for (const t of [...this.state.tables.values(), ...this.state.unknown.values()]) if (this.dbKey(t.database) === k) this.remove(t);
    if (this.state.databaseDefaults.delete(k)) {
      this.changedDatabases.add(k);
      this.version++;
    }
  }

  private put(def: TableDef): void {
    const k = this.key(def.database, def.table);
    this.state.unknown.delete(k);
    this.state.tables.set(k, def);
    this.changedTables.add(k);
    this.version++;
  }

  private remove(ref: TableRef): void {
    const k = this.key(ref.database, ref.table);
    if (this.state.tables.delete(k) || this.state.unknown.delete(k)) {
      this.changedTables.add(k);
      this.version++;
    }
  }

  private forget(ref: TableRef, reason: string): void {
    const k = this.key(ref.database, ref.table);
    this.state.tables.delete(k);
    this.state.unknown.set(k, { database: ref.database, table: ref.table, reason });
    this.changedTables.add(k);
    this.version++;
  }

  private databaseDefault(db: string): CharsetPair {
    return this.state.databaseDefaults.get(this.dbKey(db)) ?? this.state.server;
  }

  private follows(db: string): boolean {
    const d = this.dbKey(db);
    if (this.state.databases.length === 0) return !SYSTEM_DATABASES.has(db.toLowerCase());
    return this.state.databases.some((x) => this.dbKey(x) === d);
  }

  // lower_case_table_names 1 stores names in lower case, 2 compares them so: either way lookups fold case.
  private dbKey(db: string): string {
    return this.state.lowerCaseTableNames > 0 ? db.toLowerCase() : db;
  }
  private key(db: string, table: string): string {
    return `${this.dbKey(db)}\u0000${this.state.lowerCaseTableNames > 0 ? table.toLowerCase() : table}`;
  }
  private normalise(def: TableDef): TableDef {
    return this.state.lowerCaseTableNames === 1 ? { ...def, database: def.database.toLowerCase(), table: def.table.toLowerCase() } : def;
  }
}

/** Type codes whose cells are text when a collation says so (and bytes under 63 "binary"). */
const TEXT_CODES = new Set<number>([
  ColumnType.STRING,
  ColumnType.VARCHAR,
  ColumnType.VAR_STRING,
  ColumnType.BLOB,
  ColumnType.TINY_BLOB,
  ColumnType.MEDIUM_BLOB,
  ColumnType.LONG_BLOB,
  MARIADB_BLOB_COMPRESSED,
  MARIADB_VARCHAR_COMPRESSED,
]);

function renameTarget(ddl: Ddl & { kind: "alter_table" }): TableRef | undefined {
  let to: TableRef | undefined;
  for (const op of ddl.ops) if (op.op === "rename_table") to = op.to;
  return to;
}

/** What of a TABLE_MAP the merged result depends on. */
function signature(map: TableMap): string {
  let s = "";
  for (const c of map.table.columns)
    s += `${c.type}:${c.meta}:${c.nullable ? 1 : 0}:${c.unsigned ? 1 : 0}:${c.collation ?? ""}:${c.enumValues?.length ?? ""}:${c.setValues?.length ?? ""},`;
  const m = map.metadata.missing;
  return `${s}${m.signedness ? 1 : 0}${m.charsets ? 1 : 0}${m.enumSetValues ? 1 : 0}${m.primaryKey ? 1 : 0}:${map.table.primaryKey.join(".")}`;
}
