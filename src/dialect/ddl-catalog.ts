// The target's current shape of the tables a DDL statement touches: what the translator needs
// to reproduce a MySQL change exactly. MySQL's ALTER TABLE … MODIFY restates a column whole, and
// the SQL that reproduces it depends on what the column is now (its type, whether it is an
// identity, in the primary key, has a CHECK), which the statement does not say; likewise the
// existing index names (MySQL's automatic names, renames) and whether the table has rows (a
// NOT NULL column added to a non-empty table is filled with MySQL's implicit default).
//
// readTargetCatalog reads it once per statement, before translation; translateDdl works on a
// copy and updates it op by op, so ops later in one statement see the earlier ones.
// The queries use only catalog columns openGauss shares with PostgreSQL (no attidentity:
// an identity column is one with an owned sequence and no default expression).

import type postgres from "postgres";
import type { Ddl, TableRef } from "../binlog/ddl-model.ts";
import { targetSchema } from "./identifiers.ts";
import { fitName, sameName } from "./ddl-names.ts";
import { targetNames } from "./ddl-target-names.ts";
import type { SkippedObject } from "./ddl-skipped.ts";
import type { PartitionDef, Partitioning } from "./ddl-partitions.ts";

export interface TargetColumn {
  name: string;
  /** format_type() spelling, e.g. "character varying(20)". */
  type: string;
  notNull: boolean;
  /** The default expression as the target prints it; null when none. */
  default: string | null;
  /** PostgreSQL GENERATED … AS IDENTITY. */
  identity: boolean;
  /** The owned sequence (identity or nextval default), as a qualified, quoted name. */
  sequence: string | null;
  comment: string | null;
}

export interface IndexPart {
  /** The key as SQL: a quoted column, or an expression. */
  sql: string;
  /** The column, for a plain column key. */
  column?: string;
  /** Columns an expression key reads, when known. */
  refs?: string[];
  descending: boolean;
}

export interface TargetIndex {
  name: string;
  primary: boolean;
  unique: boolean;
  /** Backs a PRIMARY KEY/UNIQUE constraint (dropped with ALTER TABLE … DROP CONSTRAINT). */
  constraint: boolean;
  method: string;
  parts: IndexPart[];
  /** Every column the index reads (key columns and those in expressions). */
  columns: string[];
  partial: boolean;
  comment: string | null;
}

export interface TargetConstraint {
  name: string;
  /** pg_constraint.contype: p, u, f, c, x. */
  kind: string;
  columns: string[];
  /** pg_get_constraintdef(), e.g. "CHECK (…)"; absent for constraints the translator made in this statement. */
  definition?: string;
}

/**
 * A foreign key in target names: one the target has (TargetCatalog.referencing) or one waiting
 * for its referenced table (TargetCatalog.pending, kept in the sink's checkpoint).
 */
export interface ForeignKeyRef {
  schema: string;
  table: string;
  name: string;
  columns: string[];
  refSchema: string;
  /** The referenced table and columns; for a pending key, as the statement wrote them. */
  refTable: string;
  refColumns: string[];
  /** CASCADE, SET NULL, SET DEFAULT or RESTRICT; absent for NO ACTION. */
  onDelete?: string;
  onUpdate?: string;
}

export interface TargetTable {
  schema: string;
  name: string;
  columns: TargetColumn[];
  indexes: TargetIndex[];
  constraints: TargetConstraint[];
  hasRows: boolean;
  comment: string | null;
  /** openGauss RANGE/LIST partitioning on one column (ddl-partitions-native.ts); absent: a plain table. */
  partitioning?: Partitioning;
}

export class TargetCatalog {
  private readonly tables: TargetTable[];
  private readonly schemas: Set<string>;
  /** Sequences in the schemas read ("schema.name", unquoted), so that a new one gets a free name. */
  private readonly sequences: Set<string>;

  /** Foreign keys created under FOREIGN_KEY_CHECKS=0 whose referenced table does not exist yet. */
  pending: ForeignKeyRef[] = [];
  /** Foreign keys of any table that reference one of the tables read (DROP TABLE needs them). */
  referencing: ForeignKeyRef[] = [];
  /** Objects the target does not get (ddl-objects.ts), kept in the sink's checkpoint. */
  objects: SkippedObject[] = [];

  constructor(schemas: Iterable<string>, tables: TargetTable[], sequences: Iterable<string> = []) {
    this.schemas = new Set(schemas);
    this.tables = tables;
    this.sequences = new Set(sequences);
  }

  /**
   * A name for a new sequence in `schema`: `base`, or base1, base2… when a sequence of that name
   * exists. openGauss cannot rename sequences ("RENAME SEQUENCE is not yet supported", 7.0), so
   * a renamed table keeps its sequence's old name there, and a table later created under the
   * old name must not collide with it.
   */
  claimSequence(schema: string, base: string): string {
    let name = base;
    for (let k = 1; this.sequences.has(`${schema}.${name}`); k++) name = fitName(`${base}${k}`);
    this.sequences.add(`${schema}.${name}`);
    return name;
  }

  static empty(): TargetCatalog {
    return new TargetCatalog([], []);
  }

  hasSchema(schema: string): boolean {
    return this.schemas.has(schema);
  }

  /** A table by exact name, else by its only case-insensitive match. */
  table(schema: string, name: string): TargetTable | undefined {
    const inSchema = this.tables.filter((t) => t.schema === schema);
    const exact = inSchema.find((t) => t.name === name);
    if (exact) return exact;
    const folded = inSchema.filter((t) => sameName(t.name, name));
    return folded.length === 1 ? folded[0] : undefined;
  }

  /** A deep copy for one translation to update as it goes. */
  clone(): TargetCatalog {
    const copy = new TargetCatalog(this.schemas, structuredClone(this.tables), this.sequences);
    copy.pending = structuredClone(this.pending);
    copy.referencing = structuredClone(this.referencing);
    copy.objects = structuredClone(this.objects);
    return copy;
  }

  addSchema(schema: string): void {
    this.schemas.add(schema);
  }

  dropSchema(schema: string): void {
    this.schemas.delete(schema);
    for (let i = this.tables.length - 1; i >= 0; i--) if (this.tables[i]!.schema === schema) this.tables.splice(i, 1);
  }

  put(table: TargetTable): void {
    this.remove(table.schema, table.name);
    this.tables.push(table);
  }

  remove(schema: string, name: string): void {
    const i = this.tables.findIndex((t) => t.schema === schema && t.name === name);
    if (i >= 0) this.tables.splice(i, 1);
  }
}

/** Case-insensitive column lookup: MySQL column names are. */
export function findColumn(t: TargetTable, name: string): TargetColumn | undefined {
  return t.columns.find((c) => c.name === name) ?? t.columns.find((c) => sameName(c.name, name));
}

export function primaryKeyOf(t: TargetTable): TargetIndex | undefined {
  return t.indexes.find((i) => i.primary);
}

/** The tables a statement reads or changes (rename targets and LIKE sources included). */
function tablesOf(ddl: Ddl): TableRef[] {
  switch (ddl.kind) {
    case "create_table":
      return [ddl.table, ...ddl.foreignKeys.map((f) => f.target.table), ...ddl.columns.flatMap((c) => (c.references ? [c.references.table] : []))];
    case "truncate_table":
    case "create_index":
    case "drop_index":
      return [ddl.table];
    case "create_table_like":
      return [ddl.table, ddl.like];
    case "alter_table":
      return [
        ddl.table,
        ...ddl.ops.flatMap((o) =>
          o.op === "rename_table"
            ? [o.to]
            : o.op === "add_foreign_key"
              ? [o.foreignKey.target.table]
              : (o.op === "add_column" || o.op === "modify_column" || o.op === "change_column") && o.column.references
                ? [o.column.references.table]
                : [],
        ),
      ];
    case "rename_table":
      return ddl.renames.flatMap((r) => [r.from, r.to]);
    case "drop_table":
      return ddl.tables;
    case "unparsed":
      return ddl.tables ?? [];
    default:
      return [];
  }
}

function schemasOf(ddl: Ddl, mapping: Record<string, string>): string[] {
  const dbs = ddl.kind === "create_database" || ddl.kind === "drop_database" || ddl.kind === "alter_database" ? [ddl.name] : tablesOf(ddl).map((t) => t.database);
  return [...new Set(dbs.map((d) => targetSchema(d, mapping)))];
}

type CatalogRunner = Pick<postgres.Sql, "unsafe">;

/**
 * The target's current state of everything `written` touches (see the file comment; the tables
 * by their target names, ddl-target-names.ts), with the
 * foreign keys waiting for their referenced table (the sink keeps them in its checkpoint).
 */
export async function readTargetCatalog(sql: CatalogRunner, written: Ddl, mapping: Record<string, string>, pending: readonly ForeignKeyRef[] = []): Promise<TargetCatalog> {
  const ddl = targetNames(written);
  const catalog = await readTables(sql, ddl, mapping, await settleable(sql, pending));
  catalog.pending = structuredClone([...pending]);
  if (ddl.kind === "drop_table" || ddl.kind === "truncate_table") {
    catalog.referencing = await readReferencing(
      sql,
      tablesOf(ddl).map((t) => targetSchema(t.database, mapping)),
      (s, t) => catalog.table(s, t)?.name === t,
    );
  }
  // DROP DATABASE: keys of other schemas' tables into it (those inside go with it).
  if (ddl.kind === "drop_database") {
    const schema = targetSchema(ddl.name, mapping);
    catalog.referencing = (await readReferencing(sql, [schema], () => true)).filter((k) => k.schema !== schema);
  }
  return catalog;
}

/**
 * The tables of pending keys whose referenced table the target has although no replicated
 * statement created it (made by hand, or restored): read with every statement, so that the
 * next DDL of any table creates those keys (or drops them from pending when the child has
 * them already, added by hand as check advised).
 */
async function settleable(sql: CatalogRunner, pending: readonly ForeignKeyRef[]): Promise<Array<{ schema: string; table: string }>> {
  if (pending.length === 0) return [];
  const rows = await sql.unsafe(
    `SELECT n.nspname AS s, lower(c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[]) AND lower(c.relname) = ANY($2::text[])`,
    [[...new Set(pending.map((k) => k.refSchema))], [...new Set(pending.map((k) => k.refTable.toLowerCase()))]],
  );
  const present = new Set(rows.map((r) => `${r.s}.${r.t}`));
  return pending
    .filter((k) => present.has(`${k.refSchema}.${k.refTable.toLowerCase()}`))
    .flatMap((k) => [
      { schema: k.schema, table: k.table },
      { schema: k.refSchema, table: k.refTable },
    ]);
}

async function readTables(sql: CatalogRunner, ddl: Ddl, mapping: Record<string, string>, extra: ReadonlyArray<{ schema: string; table: string }> = []): Promise<TargetCatalog> {
  const schemas = [...new Set([...schemasOf(ddl, mapping), ...extra.map((t) => t.schema)])];
  const names = [...new Set([...tablesOf(ddl).map((t) => t.table.toLowerCase()), ...extra.map((t) => t.table.toLowerCase())])];
  const present = (await sql.unsafe(`SELECT nspname AS s FROM pg_namespace WHERE nspname = ANY($1::text[])`, [schemas])).map((r) => r.s as string);
  const sequences = (
    await sql.unsafe(
      `SELECT n.nspname || '.' || c.relname AS q FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = ANY($1::text[])`,
      [schemas],
    )
  ).map((r) => r.q as string);
  if (names.length === 0) return new TargetCatalog(present, [], sequences);
  const rels = await sql.unsafe(
    `SELECT c.oid::text AS oid, n.nspname AS s, c.relname AS t, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[]) AND lower(c.relname) = ANY($2::text[])`,
    [schemas, names],
  );
  const byOid = new Map<string, TargetTable>();
  for (const r of rels) {
    byOid.set(r.oid as string, { schema: r.s, name: r.t, columns: [], indexes: [], constraints: [], hasRows: false, comment: r.comment ?? null });
  }
  if (byOid.size === 0) return new TargetCatalog(present, [], sequences);
  const oids = [...byOid.keys()];
  const cols = await sql.unsafe(
    `SELECT a.attrelid::text AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            pg_get_expr(d.adbin, d.adrelid) AS def, col_description(a.attrelid, a.attnum) AS comment,
            pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) AS seq
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = ANY($1::text[]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  for (const r of cols) {
    const def = (r.def as string | null) ?? null;
    byOid.get(r.oid)!.columns.push({
      name: r.name,
      type: r.type,
      notNull: r.not_null,
      default: def,
      identity: r.seq !== null && def === null,
      sequence: r.seq ?? null,
      comment: r.comment ?? null,
    });
  }
  const parts = await sql.unsafe(
    `SELECT x.indrelid::text AS oid, i.relname AS name, x.indisprimary AS is_primary, x.indisunique AS is_unique, am.amname AS method,
            x.indpred IS NOT NULL AS partial, obj_description(i.oid, 'pg_class') AS comment,
            EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid AND k.contype IN ('p', 'u', 'x')) AS is_constraint,
            ARRAY(SELECT a2.attname FROM pg_depend d JOIN pg_attribute a2 ON a2.attrelid = d.refobjid AND a2.attnum = d.refobjsubid
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = i.oid AND d.refobjsubid > 0) AS refs,
            k.i AS ord, pg_get_indexdef(x.indexrelid, k.i + 1, true) AS part, a.attname AS col, (x.indoption[k.i] & 1) = 1 AS descending
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam
       JOIN generate_series(0, 63) AS k(i) ON k.i < x.indnatts
       LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k.i] AND x.indkey[k.i] > 0
      WHERE x.indrelid = ANY($1::text[]::oid[])
      ORDER BY 1, 2, k.i`,
    [oids],
  );
  const refs = new Map<TargetIndex, string[]>();
  for (const r of parts) {
    // openGauss keeps a hidden key column (the partition) in a global index of a partitioned
    // table: pg_get_indexdef prints it as "".
    if (r.part === "" && r.col === null) continue;
    const t = byOid.get(r.oid)!;
    let ix = t.indexes.find((i) => i.name === r.name);
    if (!ix) {
      ix = {
        name: r.name,
        primary: r.is_primary,
        unique: r.is_unique,
        constraint: r.is_constraint,
        method: r.method,
        parts: [],
        columns: r.refs as string[],
        partial: r.partial,
        comment: r.comment ?? null,
      };
      refs.set(ix, r.refs as string[]);
      t.indexes.push(ix);
    }
    const part: IndexPart = { sql: r.part, descending: r.descending };
    if (r.col !== null) part.column = r.col;
    ix.parts.push(part);
  }
  for (const [ix, all] of refs) settleRefs(ix, all);
  const cons = await sql.unsafe(
    `SELECT c.conrelid::text AS oid, c.conname AS name, c.contype::text AS kind,
            ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) ORDER BY a.attnum) AS cols,
            pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c WHERE c.conrelid = ANY($1::text[]::oid[]) ORDER BY 1, 2`,
    [oids],
  );
  for (const r of cons) byOid.get(r.oid)!.constraints.push({ name: r.name, kind: r.kind, columns: r.cols as string[], definition: r.def as string });
  await readPartitions(sql, byOid);
  for (const t of byOid.values()) {
    const rows = await sql.unsafe(`SELECT EXISTS (SELECT 1 FROM ${quote(t.schema)}.${quote(t.name)}) AS has`);
    t.hasRows = rows[0]!.has as boolean;
  }
  return new TargetCatalog(present, [...byOid.values()], sequences);
}

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * openGauss's partitioned tables (pg_partition, which PostgreSQL does not have): RANGE and LIST
 * on one column, as ddl-partitions-native.ts creates them. A bound of NULL is MAXVALUE.
 */
async function readPartitions(sql: CatalogRunner, byOid: Map<string, TargetTable>): Promise<void> {
  const has = await sql.unsafe(`SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pg_catalog' AND c.relname = 'pg_partition'`);
  if (has.length === 0) return;
  const rows = await sql.unsafe(
    `SELECT p.parentid::text AS oid, p.parttype::text AS kind, p.partstrategy::text AS strategy, p.relname AS name, array_to_string(p.boundaries, ',', 'MAXVALUE') AS bounds,
            array_length(p.partkey, 1) AS keys, (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = p.parentid AND a.attnum = p.partkey[0]) AS col
       FROM pg_partition p WHERE p.parentid = ANY($1::text[]::oid[]) AND p.parttype IN ('r', 'p')`,
    [[...byOid.keys()]],
  );
  const methods: Record<string, Partitioning["method"]> = { r: "RANGE", l: "LIST" };
  for (const r of rows) {
    const method = methods[r.strategy as string];
    if (r.kind !== "r" || !method || r.keys !== 1) continue;
    const defs: PartitionDef[] = rows
      .filter((x) => x.oid === r.oid && x.kind === "p")
      .map((x) => {
        // As text: the driver does not parse every openGauss array column.
        const bounds = ((x.bounds as string | null) ?? "MAXVALUE").split(",");
        return method === "LIST" ? { name: x.name as string, values: bounds } : { name: x.name as string, below: bounds[0]! };
      });
    if (method === "RANGE") defs.sort((a, b) => (rangeKey(a) < rangeKey(b) ? -1 : rangeKey(a) > rangeKey(b) ? 1 : 0));
    byOid.get(r.oid)!.partitioning = { method, column: r.col as string, partitions: defs };
  }
}

const rangeKey = (d: PartitionDef): bigint | number => ("below" in d && d.below !== "MAXVALUE" ? BigInt(d.below) : Number.POSITIVE_INFINITY);

/** An expression key's columns are known when it is the index's only expression key. */
function settleRefs(ix: TargetIndex, all: string[]): void {
  const expressions = ix.parts.filter((p) => p.column === undefined);
  if (expressions.length !== 1) return;
  const plain = new Set(ix.parts.flatMap((p) => (p.column === undefined ? [] : [p.column])));
  expressions[0]!.refs = all.filter((c) => !plain.has(c));
}

const ACTIONS: Record<string, string | undefined> = { a: undefined, r: "RESTRICT", c: "CASCADE", n: "SET NULL", d: "SET DEFAULT" };

/** pg_constraint's confdeltype / confupdtype as the MySQL action word (undefined: NO ACTION). */
export const actionOf = (code: string): string | undefined => ACTIONS[code];

/** Foreign keys whose referenced table is one of the tables of `catalog` in `schemas`. */
/** Foreign keys into tables of `schemas` for which `wanted(schema, table)` of the referenced table holds. */
async function readReferencing(sql: CatalogRunner, schemas: string[], wanted: (schema: string, table: string) => boolean): Promise<ForeignKeyRef[]> {
  const rows = await sql.unsafe(
    `SELECT n.nspname AS s, c.relname AS t, k.conname AS name, rn.nspname AS rs, r.relname AS rt, k.confdeltype::text AS del, k.confupdtype::text AS upd,
            ARRAY(SELECT a.attname FROM generate_subscripts(k.conkey, 1) i JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[i] ORDER BY i) AS cols,
            ARRAY(SELECT a.attname FROM generate_subscripts(k.confkey, 1) i JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = k.confkey[i] ORDER BY i) AS refcols
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
      WHERE k.contype = 'f' AND rn.nspname = ANY($1::text[])`,
    [schemas],
  );
  return rows
    .filter((r) => wanted(r.rs as string, r.rt as string))
    .map((r) => {
      const fk: ForeignKeyRef = { schema: r.s, table: r.t, name: r.name, columns: r.cols as string[], refSchema: r.rs, refTable: r.rt, refColumns: r.refcols as string[] };
      const del = actionOf(r.del as string);
      const upd = actionOf(r.upd as string);
      if (del) fk.onDelete = del;
      if (upd) fk.onUpdate = upd;
      return fk;
    });
}
