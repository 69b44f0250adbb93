// Preflight of the captured schema: what the source, the AVRO events and the sink can carry.
// The table definitions come from the same information_schema reader the schema history uses
// (src/binlog/ddl-catalog.ts), so a column this check accepts is one `source` can decode.

import type { BinlogConnection } from "../binlog/connection.ts";
import { type CatalogSnapshot, readCatalog, SYSTEM_DATABASES } from "../binlog/ddl-catalog.ts";
import type { TableDef } from "../binlog/ddl-apply.ts";
import { charsetOf } from "../binlog/charsets.ts";
import { typeText } from "../binlog/ddl-types.ts";
import type { SourceConfig } from "../config/types.ts";
import { fitName, foreignKeyName, MAX_IDENTIFIER_BYTES } from "../dialect/ddl-names.ts";
import { targetSchema } from "../dialect/identifiers.ts";
import { mapType, type TargetDialect } from "../dialect/types.ts";
import { AVRO_NAME } from "../config/schema.ts";
import { readSourceForeignKeys, type SourceForeignKey } from "./foreign-keys.ts";
import { type CheckResult, errorText, fail, notRun, ok, warn } from "./report.ts";

/** Engines whose tables keep no rows of their own: replaying their row events makes no sense. */
const NO_ROWS_ENGINES = new Set(["BLACKHOLE", "FEDERATED", "CONNECT", "SPIDER", "MRG_MYISAM", "MERGE", "SEQUENCE"]);

interface SchemaCheck {
  results: CheckResult[];
  catalog?: CatalogSnapshot;
  /** MariaDB JSON columns ("db.table.column"): LONGTEXT with a json_valid() CHECK to information_schema. */
  jsonColumns: Set<string>;
  /** The captured tables' foreign keys, when they could be read (compared with the target's). */
  foreignKeys?: SourceForeignKey[];
}

const IDS = ["schema.databases", "schema.identifiers", "schema.long_names", "schema.keys", "schema.types", "schema.features"];

export async function checkSchema(conn: BinlogConnection | undefined, cfg: SourceConfig, dialect: TargetDialect, mapping: Record<string, string> = {}): Promise<SchemaCheck> {
  const jsonColumns = new Set<string>();
  if (!conn) return { results: IDS.map((id) => notRun(id, "the source could not be reached", "fix source.connection first")), jsonColumns };
  let catalog: CatalogSnapshot;
  let partitioned: Set<string>;
  let present: string[];
  try {
    catalog = await readCatalog((sql) => conn.query(sql), cfg.databases);
    const list = cfg.databases.length > 0 ? cfg.databases.map(lit).join(",") : undefined;
    partitioned = new Set(
      (
        await conn.query<{ db: string; tbl: string }>(
          `SELECT DISTINCT TABLE_SCHEMA AS db, TABLE_NAME AS tbl FROM information_schema.PARTITIONS WHERE PARTITION_NAME IS NOT NULL AND ${list ? `TABLE_SCHEMA IN (${list})` : `TABLE_SCHEMA NOT IN (${[...SYSTEM_DATABASES].map(lit).join(",")})`}`,
        )
      ).map((r) => `${r.db}.${r.tbl}`),
    );
    present = (await conn.query<{ db: string }>("SELECT SCHEMA_NAME AS db FROM information_schema.SCHEMATA")).map((r) => r.db);
  } catch (err) {
    return { results: IDS.map((id) => notRun(id, `cannot read information_schema: ${errorText(err)}`, "grant the source user SELECT on the captured databases")), jsonColumns };
  }
  const results: CheckResult[] = [];
  const missing = cfg.databases.filter((d) => !present.includes(d));
  const dbs = cfg.databases.length > 0 ? cfg.databases.filter((d) => present.includes(d)) : present.filter((d) => !SYSTEM_DATABASES.has(d));
  if (missing.length > 0) results.push(fail("schema.databases", `[source] databases lists ${missing.join(", ")}, which the source does not have`, "correct [source] databases"));
  else results.push(ok("schema.databases", `${catalog.tables.length} table(s) in ${dbs.length} database(s): ${dbs.join(", ") || "(none)"}`));
  results.push(...sharedSchemas(catalog.tables, mapping));

  let foreignKeys: SourceForeignKey[] | undefined;
  try {
    foreignKeys = await readSourceForeignKeys(conn, dbs);
  } catch (err) {
    results.push(notRun("schema.long_names", `cannot read the foreign keys: ${errorText(err)}`, "grant the source user SELECT on the captured databases"));
  }
  results.push(...identifiers(catalog.tables, dbs));
  if (foreignKeys) results.push(...longNames(catalog.tables, foreignKeys, dialect));
  results.push(...keys(catalog.tables));
  results.push(...types(catalog, dialect));
  results.push(...features(catalog, partitioned, dialect));
  if (conn.info.flavour === "mariadb") for (const c of await mariadbJsonColumns(conn)) jsonColumns.add(c);
  return foreignKeys ? { results, catalog, jsonColumns, foreignKeys } : { results, catalog, jsonColumns };
}

/** MariaDB's JSON type is an alias: LONGTEXT plus CHECK (json_valid(`c`)). */
async function mariadbJsonColumns(conn: BinlogConnection): Promise<string[]> {
  try {
    const rows = await conn.query<{ db: string; tbl: string; cc: string }>(
      "SELECT CONSTRAINT_SCHEMA AS db, TABLE_NAME AS tbl, CHECK_CLAUSE AS cc FROM information_schema.CHECK_CONSTRAINTS WHERE CHECK_CLAUSE LIKE 'json\\_valid(%'",
    );
    return rows.flatMap((r) => {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(r.cc).trim());
      return m ? [`${r.db}.${r.tbl}.${m[1]!.replace(/``/g, "`")}`] : [];
    });
  } catch {
    return [];
  }
}

const lit = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
const name = (t: TableDef) => `${t.database}.${t.table}`;
const RULE = "[A-Za-z_][A-Za-z0-9_]*";

function identifiers(tables: readonly TableDef[], dbs: readonly string[]): CheckResult[] {
  const out: CheckResult[] = [];
  const fix = "rename it on the source before migrating (AVRO schema and field names allow letters, digits and _ only), or leave it out of [source] databases";
  for (const d of dbs) if (!AVRO_NAME.test(d)) out.push(fail("schema.identifiers", `database name "${d}" breaks the AVRO naming rule ${RULE}`, fix, d));
  let columns = 0;
  for (const t of tables) {
    if (!AVRO_NAME.test(t.table)) out.push(fail("schema.identifiers", `table name "${t.table}" breaks the AVRO naming rule ${RULE}`, fix, name(t)));
    for (const c of t.columns) {
      columns++;
      if (!AVRO_NAME.test(c.name)) out.push(fail("schema.identifiers", `column name "${c.name}" breaks the AVRO naming rule ${RULE}`, fix, `${name(t)}.${c.name}`));
    }
  }
  if (out.length === 0) out.push(ok("schema.identifiers", `every name of ${tables.length} table(s) and ${columns} column(s) fits ${RULE}`));
  return out;
}

/**
 * Names over the target's 63 bytes are shortened with a hash suffix (fitName,
 * src/dialect/identifiers.ts), the same way by every path of the sink and by this check: table
 * and column names (the rows name them as the source does), and the names the translator
 * derives from them for indexes, keys, checks and sequences. Each table's shortenings are
 * listed so the mapping is known; only two source tables or columns that would share one
 * target name fail.
 */
function longNames(tables: readonly TableDef[], foreignKeys: readonly SourceForeignKey[], dialect: TargetDialect): CheckResult[] {
  const out: CheckResult[] = [];
  let shortened = 0;
  const owners = new Map<string, string>();
  for (const t of tables) {
    const table = fitName(t.table);
    const key = `${t.database}.${table}`;
    const other = owners.get(key);
    if (other !== undefined)
      out.push(
        fail(
          "schema.long_names",
          `tables "${other}" and "${t.table}" would both be "${table}" on the target, and their rows would merge`,
          "rename one of them on the source before migrating",
          name(t),
        ),
      );
    owners.set(key, t.table);
    const given: Array<[string, string]> = [["table", t.table], ...t.columns.map((c): [string, string] => ["column", c.name])];
    // [what, name from source names, target name when not fitName(name)]
    const derived: Array<[string, string, string?]> = [
      ...(t.primaryKey.length > 0 ? [["primary key", `${table}_pkey`] as [string, string]] : []),
      ...t.indexes.filter((i) => i.kind !== "fulltext" && i.name !== undefined).map((i): [string, string] => [`index ${i.name}`, `${table}_${i.name}`]),
      ...foreignKeys
        .filter((k) => k.database === t.database && k.table === t.table)
        .map((k): [string, string, string] => [`foreign key ${k.name}`, k.name, foreignKeyName(k.table, k.name)]),
      ...t.columns.filter((c) => c.type.name === "enum" || c.type.name === "set").map((c): [string, string] => [`the CHECK of ${c.name}`, `${fitName(c.name)}_values`]),
      ...t.columns
        .filter((c) => c.autoIncrement && (dialect === "opengauss" || (c.type.name === "bigint" && c.type.unsigned)))
        .map((c): [string, string] => [`the sequence of ${c.name}`, `${table}_${fitName(c.name)}_seq`]),
    ];
    const targets = new Map<string, string>();
    for (const c of t.columns) {
      const seen = targets.get(fitName(c.name));
      if (seen !== undefined)
        out.push(
          fail(
            "schema.long_names",
            `columns "${seen}" and "${c.name}" would both be "${fitName(c.name)}" on the target`,
            "rename one of them on the source before migrating",
            name(t),
          ),
        );
      targets.set(fitName(c.name), c.name);
    }
    const long = [...given, ...derived].map(([what, n, target]) => [what, n, target ?? fitName(n)]).filter(([, n, target]) => target !== n);
    if (long.length === 0) continue;
    shortened += long.length;
    out.push(
      ok(
        "schema.long_names",
        `shortened on the target (over ${MAX_IDENTIFIER_BYTES} bytes): ${long.map(([what, n, target]) => `${what} "${n}" is "${target}"`).join("; ")}`,
        name(t),
      ),
    );
  }
  if (out.length === 0) out.push(ok("schema.long_names", `every name fits the target's ${MAX_IDENTIFIER_BYTES} bytes; none is shortened`));
  else if (shortened > 0 && !out.some((r) => r.status === "fail"))
    out.unshift(ok("schema.long_names", `${shortened} name(s) shortened with a hash suffix, the same way on every run (listed per table)`));
  return out;
}

function keys(tables: readonly TableDef[]): CheckResult[] {
  const out: CheckResult[] = [];
  for (const t of tables) {
    if (t.primaryKey.length > 0 || t.indexes.some((i) => i.kind === "unique")) continue;
    out.push(
      warn(
        "schema.keys",
        "no primary or unique key: the sink serialises this table's transactions, matches UPDATE/DELETE on every column, and check --data compares it as a whole",
        "add a primary key on the source if the application allows it",
        name(t),
      ),
    );
  }
  if (out.length === 0) out.push(ok("schema.keys", `all ${tables.length} table(s) have a primary or unique key`));
  return out;
}

function types(catalog: CatalogSnapshot, dialect: TargetDialect): CheckResult[] {
  const out: CheckResult[] = [];
  const ids = new Map(catalog.collations.map((c) => [c.name.toLowerCase(), c.id]));
  for (const t of catalog.tables) {
    for (const c of t.columns) {
      const where = `${name(t)}.${c.name}`;
      const { mapped, row } = mapType(c.type, dialect);
      if (!mapped) {
        out.push(
          fail(
            "schema.types",
            `${typeText(c.type)} has no ${dialect} type: ${row?.note ?? "not in the type mapping"}`,
            "change the column type on the source, or leave the table out of the migration",
            where,
          ),
        );
        continue;
      }
      const collation = c.type.collation?.toLowerCase();
      if (collation && c.type.charset !== "binary") {
        const id = ids.get(collation);
        if (id === undefined || charsetOf(id) === undefined) {
          out.push(
            fail(
              "schema.types",
              `character set ${c.type.charset ?? "?"} (collation ${collation}) cannot be decoded by the source`,
              "convert the column to utf8mb4 (ALTER TABLE … CONVERT TO CHARACTER SET utf8mb4)",
              where,
            ),
          );
        }
      }
    }
  }
  for (const u of catalog.unknown)
    out.push(fail("schema.types", `${u.reason}`, "leave the table out of the migration (it cannot be followed through the binlog)", `${u.database}.${u.table}`));
  if (out.length === 0) out.push(ok("schema.types", `every column type maps to ${dialect} (docs/types.md) and every character set decodes`));
  return out;
}

function features(catalog: CatalogSnapshot, partitioned: ReadonlySet<string>, dialect: TargetDialect): CheckResult[] {
  const out: CheckResult[] = [];
  for (const t of catalog.tables) {
    const n = name(t);
    const engine = (t.engine ?? "").toUpperCase();
    if (NO_ROWS_ENGINES.has(engine))
      out.push(
        fail(
          "schema.features",
          `ENGINE=${engine} keeps no rows of its own; the sink refuses such tables`,
          "leave the table out of the migration, or migrate the table it points to",
          n,
        ),
      );
    if (partitioned.has(n)) {
      out.push(
        warn(
          "schema.features",
          `partitioned: ${dialect === "opengauss" ? "RANGE or LIST on one NOT NULL integer column makes an openGauss partitioned table with the same partitions, which follows ADD/DROP/TRUNCATE/REORGANIZE PARTITION; other partitioning makes" : "the sink creates"} a plain table, which holds the same rows, and records the partitioning (target.skipped_objects); ADD/REORGANIZE PARTITION change no rows, DROP/TRUNCATE PARTITION (logged without the rows they delete) are applied as a DELETE of the partition's rows on RANGE/LIST of an integer column, and stop the sink otherwise, as EXCHANGE PARTITION does`,
          'if the target should be partitioned, recreate the table partitioned at cutover; after a stop, delete the same rows on the target, then sink --skip-ddl (with [sink] untranslatable = "stop", PARTITION BY itself stops the sink)',
          n,
        ),
      );
    }
    for (const ix of t.indexes) {
      if (ix.kind === "spatial") {
        out.push(
          warn(
            "schema.features",
            `SPATIAL index ${ix.name ?? ""}: geometries are stored as bytes (no PostGIS assumed), so the sink creates the table without the index and records it (target.skipped_objects)`,
            'at cutover, index the column as the target allows (a GiST index once PostGIS is there); with [sink] untranslatable = "stop", the statement stops the sink instead',
            n,
          ),
        );
      }
    }
    const generated = t.columns.filter((c) => c.generated).map((c) => c.name);
    if (generated.length > 0)
      out.push(
        warn(
          "schema.features",
          `generated column(s) ${generated.join(", ")} become plain columns filled with the source's values`,
          "recreate the expressions on the target at cutover if the application needs them",
          n,
        ),
      );
  }
  if (out.length === 0) out.push(ok("schema.features", "no partitioned tables, SPATIAL indexes, generated columns or row-less engines"));
  return out;
}

/**
 * Databases mapped onto one target schema ([target] schema_mapping) must not have a table of the
 * same target name: the sink would put both tables' rows into one.
 */
function sharedSchemas(tables: ReadonlyArray<{ database: string; table: string }>, mapping: Record<string, string>): CheckResult[] {
  const owner = new Map<string, string>();
  const clashes: string[] = [];
  const sorted = [...tables].sort((x, y) => (x.database < y.database ? -1 : x.database > y.database ? 1 : 0));
  for (const t of sorted) {
    const key = `${targetSchema(t.database, mapping)}.${fitName(t.table)}`;
    const first = owner.get(key);
    if (first === undefined) owner.set(key, t.database);
    else if (first !== t.database) clashes.push(`${first}.${t.table} and ${t.database}.${t.table} both map to ${key}`);
  }
  if (clashes.length === 0) return [];
  return [
    fail(
      "schema.databases",
      `[target] schema_mapping maps several databases onto one schema, and their tables collide: ${clashes.slice(0, 5).join("; ")}${clashes.length > 5 ? ` (and ${clashes.length - 5} more)` : ""}`,
      "map each of those databases to a schema of its own (their rows would be merged into one table)",
    ),
  ];
}
