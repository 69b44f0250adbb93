// gs_replicate.skipped_objects: what the target does not get and the application may need at
// cutover (src/dialect/ddl-objects.ts decides what). The sink writes it with the DDL that
// created, changed or dropped an object (sink/ddl.ts, in that DDL's transaction) and creates
// it with the checkpoint (sink/checkpoint.ts); `check` lists it (check/skipped-objects.ts).
// Here, beside the record's type, so that both read and write it without one importing the
// other.

import type postgres from "postgres";
import { CHECKPOINT_SCHEMA } from "../checkpoint-names.ts";
import type { SkippedKind, SkippedObject } from "./ddl.ts";

const OBJECTS_TABLE = `${CHECKPOINT_SCHEMA}.skipped_objects`;
export const OBJECTS_DDL = `CREATE TABLE ${OBJECTS_TABLE} (
      kind text NOT NULL, schema_name text NOT NULL, table_name text NOT NULL, object_name text NOT NULL,
      statement text NOT NULL, reason text NOT NULL, cutover text NOT NULL, definition text,
      gtid text, binlog_file text NOT NULL, binlog_pos bigint NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (kind, schema_name, table_name, object_name))`;

/** The objects recorded instead of created (read inside the DDL's transaction, and by `check`). */
export async function loadSkippedObjects(sql: Pick<postgres.Sql, "unsafe">): Promise<SkippedObject[]> {
  const rows = await sql.unsafe(
    `SELECT kind, schema_name, table_name, object_name, statement, reason, cutover, definition, gtid, binlog_file, binlog_pos::text AS pos FROM ${OBJECTS_TABLE} ORDER BY binlog_file, binlog_pos, schema_name, table_name, object_name`,
  );
  return rows.map((r) => ({
    kind: r.kind as SkippedKind,
    schema: r.schema_name as string,
    table: r.table_name as string,
    name: r.object_name as string,
    statement: r.statement as string,
    reason: r.reason as string,
    cutover: r.cutover as string,
    ...(r.definition === null ? {} : { definition: r.definition as string }),
    gtid: (r.gtid as string | null) ?? null,
    position: `${r.binlog_file as string}:${r.pos as string}`,
  }));
}

/** Writes the change from `before` to `after` (a DDL translation's objects), in the DDL's transaction. */
export async function saveSkippedObjects(
  sql: Pick<postgres.Sql, "unsafe">,
  before: SkippedObject[],
  after: SkippedObject[],
  at: { gtid: string | null; file: string; pos: number },
): Promise<void> {
  const text = (o: SkippedObject) => JSON.stringify([o.kind, o.schema, o.table, o.name, o.statement, o.reason, o.cutover, o.definition ?? null]);
  const kept = new Set(after.map(text));
  const had = new Set(before.map(text));
  for (const o of before.filter((o) => !kept.has(text(o)))) {
    await sql.unsafe(`DELETE FROM ${OBJECTS_TABLE} WHERE kind = $1 AND schema_name = $2 AND table_name = $3 AND object_name = $4`, [o.kind, o.schema, o.table, o.name]);
  }
  for (const o of after.filter((o) => !had.has(text(o)))) {
    // A moved record (its table renamed) keeps where the source created the object.
    const cut = o.position?.lastIndexOf(":") ?? -1;
    const where = o.position && cut > 0 ? { gtid: o.gtid ?? null, file: o.position.slice(0, cut), pos: Number(o.position.slice(cut + 1)) } : at;
    await sql.unsafe(
      `INSERT INTO ${OBJECTS_TABLE} (kind, schema_name, table_name, object_name, statement, reason, cutover, definition, gtid, binlog_file, binlog_pos) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [o.kind, o.schema, o.table, o.name, o.statement, o.reason, o.cutover, o.definition ?? null, where.gtid, where.file, where.pos],
    );
  }
}
