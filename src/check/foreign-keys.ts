// Foreign keys, source against target (check id target.foreign_keys).
//
// InnoDB runs ON DELETE/UPDATE CASCADE, SET NULL and SET DEFAULT inside the source and does
// not log the rows they change: the binlog holds the parent's row only. Replication is exact
// only when the target has the same foreign key with the same actions, which changes the
// children there as the source did. Hence:
//   FAIL  a source key with such an action missing on the target, or with other actions; a
//         target-only key with such an action (it changes rows the source keeps)
//   warn  a key without such an action missing on the target (the source enforces it, rows
//         replicate exactly; the target just does not enforce it yet), or target-only (it may
//         refuse a row the source accepted, which stops the sink)
// RESTRICT and NO ACTION are the same here (InnoDB checks both at once). A key the sink keeps
// pending (gs_replicate.pending_foreign_keys) waits for a table the target lacks; it counts as
// missing unless the source lacks that table too (a dangling key cascades nowhere).

import type postgres from "postgres";
import type { BinlogConnection } from "../binlog/connection.ts";
import { actionOf } from "../dialect/ddl-catalog.ts";
import { fitName, foreignKeyName } from "../dialect/ddl-names.ts";
import { quoteIdent, targetSchema } from "../dialect/identifiers.ts";
import { CHECKPOINT_SCHEMA } from "../checkpoint-names.ts";
import { relationExists } from "../dialect/relations.ts";
import { type CheckResult, fail, ok, warn } from "./report.ts";

const ID = "target.foreign_keys";

export interface SourceForeignKey {
  database: string;
  table: string;
  name: string;
  columns: string[];
  refDatabase: string;
  refTable: string;
  refColumns: string[];
  /** CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION, as information_schema says. */
  onDelete: string;
  onUpdate: string;
  /** Whether the referenced table exists on the source (FOREIGN_KEY_CHECKS=0 allows dangling keys). */
  refExists: boolean;
}

interface TargetForeignKey {
  schema: string;
  table: string;
  name: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
  validated: boolean;
}

const lit = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;

/** The foreign keys of the tables in `databases`, columns in key order. */
export async function readSourceForeignKeys(conn: BinlogConnection, databases: readonly string[]): Promise<SourceForeignKey[]> {
  if (databases.length === 0) return [];
  const rows = await conn.query<{
    db: string;
    tbl: string;
    name: string;
    ref_db: string;
    ref_tbl: string;
    del: string;
    upd: string;
    col: string;
    ref_col: string;
    ref_exists: unknown;
  }>(
    `SELECT rc.CONSTRAINT_SCHEMA AS db, rc.TABLE_NAME AS tbl, rc.CONSTRAINT_NAME AS name, k.REFERENCED_TABLE_SCHEMA AS ref_db, k.REFERENCED_TABLE_NAME AS ref_tbl,
            rc.DELETE_RULE AS del, rc.UPDATE_RULE AS upd, k.COLUMN_NAME AS col, k.REFERENCED_COLUMN_NAME AS ref_col,
            EXISTS (SELECT 1 FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = k.REFERENCED_TABLE_SCHEMA AND t.TABLE_NAME = k.REFERENCED_TABLE_NAME) AS ref_exists
       FROM information_schema.REFERENTIAL_CONSTRAINTS rc
       JOIN information_schema.KEY_COLUMN_USAGE k
         ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA AND k.TABLE_NAME = rc.TABLE_NAME AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME
      WHERE rc.CONSTRAINT_SCHEMA IN (${databases.map(lit).join(",")}) AND k.REFERENCED_TABLE_NAME IS NOT NULL
      ORDER BY rc.CONSTRAINT_SCHEMA, rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
  );
  const out = new Map<string, SourceForeignKey>();
  for (const r of rows) {
    const key = `${r.db}\0${r.tbl}\0${r.name}`;
    let fk = out.get(key);
    if (!fk) {
      fk = {
        database: r.db,
        table: r.tbl,
        name: r.name,
        columns: [],
        refDatabase: r.ref_db,
        refTable: r.ref_tbl,
        refColumns: [],
        onDelete: r.del,
        onUpdate: r.upd,
        refExists: Number(r.ref_exists) === 1,
      };
      out.set(key, fk);
    }
    fk.columns.push(r.col);
    fk.refColumns.push(r.ref_col);
  }
  return [...out.values()];
}

async function readTargetForeignKeys(sql: Pick<postgres.Sql, "unsafe">, schemas: readonly string[]): Promise<TargetForeignKey[]> {
  const rows = await sql.unsafe(
    `SELECT n.nspname AS s, c.relname AS t, k.conname AS name, rn.nspname AS rs, r.relname AS rt, k.confdeltype::text AS del, k.confupdtype::text AS upd, k.convalidated AS valid,
            ARRAY(SELECT a.attname FROM generate_subscripts(k.conkey, 1) i JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[i] ORDER BY i) AS cols,
            ARRAY(SELECT a.attname FROM generate_subscripts(k.confkey, 1) i JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = k.confkey[i] ORDER BY i) AS refcols
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
      WHERE k.contype = 'f' AND n.nspname = ANY($1::text[])`,
    [[...schemas]],
  );
  return rows.map((r) => ({
    schema: r.s,
    table: r.t,
    name: r.name,
    columns: r.cols as string[],
    refSchema: r.rs,
    refTable: r.rt,
    refColumns: r.refcols as string[],
    onDelete: actionOf(r.del as string) ?? "NO ACTION",
    onUpdate: actionOf(r.upd as string) ?? "NO ACTION",
    validated: r.valid !== false,
  }));
}

/** The sink's pending keys, "schema.table.name" → the table they wait for; empty before its first run. */
async function readPending(sql: Pick<postgres.Sql, "unsafe">): Promise<Map<string, string>> {
  if (!(await relationExists(sql, CHECKPOINT_SCHEMA, "pending_foreign_keys"))) return new Map();
  const rows = await sql.unsafe(
    `SELECT schema_name AS s, table_name AS t, constraint_name AS n, referenced_schema AS rs, referenced_table AS rt FROM ${CHECKPOINT_SCHEMA}.pending_foreign_keys`,
  );
  return new Map(rows.map((r) => [`${r.s}.${r.t}.${r.n}`, `${r.rs}.${r.rt}`]));
}

const CASCADING = /^(CASCADE|SET NULL|SET DEFAULT)$/i;
/** RESTRICT and NO ACTION both refuse at once in InnoDB: one class. */
const norm = (action: string) => (CASCADING.test(action) ? action.toUpperCase() : "NO ACTION");
const cascades = (k: { onDelete: string; onUpdate: string }) => CASCADING.test(k.onDelete) || CASCADING.test(k.onUpdate);
const lower = (xs: string[]) => xs.map((x) => x.toLowerCase()).join(",");
const actions = (k: { onDelete: string; onUpdate: string }) => `ON DELETE ${norm(k.onDelete)} ON UPDATE ${norm(k.onUpdate)}`;

export async function foreignKeyChecks(
  sql: Pick<postgres.Sql, "unsafe">,
  mapping: Record<string, string>,
  source: readonly SourceForeignKey[],
  capturedTables: ReadonlySet<string>,
): Promise<CheckResult[]> {
  const schemas = [...new Set([...capturedTables].map((t) => targetSchema(t.slice(0, t.indexOf(".")), mapping)))];
  const target = await readTargetForeignKeys(sql, schemas);
  const pending = await readPending(sql);
  const out: CheckResult[] = [];
  const matched = new Set<TargetForeignKey>();
  const captured = new Set([...capturedTables].map((t) => `${t.slice(0, t.indexOf("."))}.${fitName(t.slice(t.indexOf(".") + 1))}`));
  let good = 0;
  let notValid = 0;
  for (const s of source) {
    const schema = targetSchema(s.database, mapping);
    const object = `${s.database}.${s.table}`;
    const want = `foreign key ${s.name} (${s.columns.join(", ")}) → ${s.refDatabase}.${s.refTable} (${s.refColumns.join(", ")}) ${actions(s)}`;
    // The target's names (identifiers.ts: shortened past 63 bytes).
    const [table, refTable, columns, refColumns] = [fitName(s.table), fitName(s.refTable), s.columns.map(fitName), s.refColumns.map(fitName)];
    const onChild = target.filter((k) => k.schema === schema && k.table.toLowerCase() === table.toLowerCase() && lower(k.columns) === lower(columns));
    const same = onChild.find(
      (k) =>
        k.refSchema === targetSchema(s.refDatabase, mapping) &&
        k.refTable.toLowerCase() === refTable.toLowerCase() &&
        lower(k.refColumns) === lower(refColumns) &&
        actions(k) === actions(s),
    );
    if (same) {
      matched.add(same);
      good++;
      if (!same.validated) notValid++;
      continue;
    }
    for (const k of onChild) matched.add(k);
    const key = foreignKeyName(s.table, s.name);
    const waits = pending.get(`${schema}.${table}.${key}`);
    const sql = `ALTER TABLE ${quoteIdent(schema)}.${quoteIdent(table)} ADD CONSTRAINT ${quoteIdent(key)} FOREIGN KEY (${columns.map(quoteIdent).join(", ")}) REFERENCES ${quoteIdent(targetSchema(s.refDatabase, mapping))}.${quoteIdent(refTable)} (${refColumns.map(quoteIdent).join(", ")}) ${actions(s)}`;
    const found =
      onChild.length > 0
        ? `${want} is on the target as ${onChild.map((k) => `${k.name} → ${k.refSchema}.${k.refTable} (${k.refColumns.join(", ")}) ${actions(k)}`).join("; ")}`
        : waits
          ? `${want} waits in ${CHECKPOINT_SCHEMA}.pending_foreign_keys for table ${waits} (the sink creates it, NOT VALID, with its first DDL statement once the target has that table; one added by hand is then taken as it)`
          : `${want} is missing on the target`;
    if (!s.refExists)
      out.push(
        warn(
          ID,
          `${found}; ${s.refDatabase}.${s.refTable} does not exist on the source either (created with FOREIGN_KEY_CHECKS=0), so nothing cascades yet`,
          "create it on the target once the referenced table exists",
          object,
        ),
      );
    else if (cascades(s) || onChild.some(cascades)) {
      out.push(
        fail(
          ID,
          `${found}: the source's cascades change rows without logging them, so the target diverges (keeps rows the source deleted or changed)`,
          `${onChild.length > 0 ? `drop the target's key, then ` : ""}${sql} (add NOT VALID if existing rows may not match)`,
          object,
        ),
      );
    } else out.push(warn(ID, `${found}: replication stays exact (the source enforces it), but the target does not`, `${sql} before cutover`, object));
  }
  for (const k of target) {
    if (matched.has(k) || !captured.has(`${reverse(k.schema, mapping)}.${k.table}`)) continue;
    const what = `target-only foreign key ${k.name} (${k.columns.join(", ")}) → ${k.refSchema}.${k.refTable} ${actions(k)}`;
    const drop = `ALTER TABLE ${quoteIdent(k.schema)}.${quoteIdent(k.table)} DROP CONSTRAINT ${quoteIdent(k.name)}`;
    if (cascades(k)) out.push(fail(ID, `${what}: the target changes rows the source keeps`, `${drop}, or add the same key on the source`, `${k.schema}.${k.table}`));
    else
      out.push(
        warn(ID, `${what}: the target may refuse a row the source accepted, which stops the sink`, `${drop} unless the source enforces the same rule`, `${k.schema}.${k.table}`),
      );
  }
  const valid = notValid > 0 ? `; ${notValid} created NOT VALID (existing rows not checked, as MySQL did under FOREIGN_KEY_CHECKS=0)` : "";
  if (out.length === 0)
    out.push(
      ok(
        ID,
        source.length === 0
          ? "the captured tables have no foreign keys"
          : `all ${source.length} foreign key(s) of the source exist on the target with the same columns and actions${valid}`,
      ),
    );
  else if (good > 0) out.unshift(ok(ID, `${good} of ${source.length} foreign key(s) of the source exist on the target with the same columns and actions${valid}`));
  return out;
}

/** The source database of a target schema (schema_mapping inverted; unmapped names stay). */
function reverse(schema: string, mapping: Record<string, string>): string {
  return Object.entries(mapping).find(([, s]) => s === schema)?.[0] ?? schema;
}
