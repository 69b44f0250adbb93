// Preflight of the target: reachable, logged in, the mapped schemas and tables present with the
// columns the type mapping gives (src/dialect/types.ts), writable by the user, and the
// checkpoint schema creatable. Only catalog reads and has_*_privilege() calls: nothing changes.

import type postgres from "postgres";
import type { CatalogSnapshot } from "../binlog/ddl-catalog.ts";
import type { TableDef } from "../binlog/ddl-apply.ts";
import { typeText } from "../binlog/ddl-types.ts";
import type { TargetConfig } from "../config/types.ts";
import { type TargetCompatibility, targetCompatibility } from "../dialect/compat.ts";
import { checkTarget, connectTarget } from "../dialect/connect.ts";
import { fitName, qualifiedTable, targetSchema } from "../dialect/identifiers.ts";
import { familyOf, mapType } from "../dialect/types.ts";
import { CHECKPOINT_SCHEMA } from "../checkpoint-names.ts";
import { type CheckResult, errorText, fail, notRun, ok, warn } from "./report.ts";
import { foreignKeyChecks, type SourceForeignKey } from "./foreign-keys.ts";
import { readTargetTables, type TargetTable } from "./target-catalog.ts";
import { skippedObjectsCheck } from "./skipped-objects.ts";

const IDS = [
  "target.compatibility",
  "target.encoding",
  "target.schemas",
  "target.tables",
  "target.foreign_keys",
  "target.privileges",
  "target.checkpoint",
  "target.skipped_objects",
];

/**
 * @param databases the captured MySQL databases (mapped through schema_mapping)
 * @param catalog the source's tables, when the source could be read
 * @param settings login settings of the session (the statement timeout)
 */
export async function checkTargetSide(
  t: TargetConfig,
  databases: readonly string[],
  catalog: CatalogSnapshot | undefined,
  jsonColumns: ReadonlySet<string> = new Set(),
  foreignKeys?: readonly SourceForeignKey[],
  settings: Record<string, string> = {},
): Promise<CheckResult[]> {
  const sql = connectTarget(t, 1, settings);
  try {
    try {
      await checkTarget(sql, t);
    } catch (err) {
      return [
        fail("target.connection", errorText(err), "check [target] host, port, user, password, database and TLS, and the server's pg_hba.conf"),
        ...IDS.map((id) => notRun(id, "the target could not be reached", "fix target.connection first")),
      ];
    }
    const [info] = await sql.unsafe(`SELECT version() AS v, current_user AS u, current_setting('server_encoding') AS enc`);
    const compat = await targetCompatibility(sql, t.dialect);
    // openGauss's version() names neither openGauss nor its release (and server_version says 9.2.4).
    const server = t.dialect === "opengauss" ? `openGauss ${compat.version ?? "(version unknown: no opengauss_version())"}` : (String(info?.v ?? "").split(",")[0] ?? "");
    const out: CheckResult[] = [
      ok("target.connection", `${server} at ${t.host}:${t.port}/${t.database} as ${String(info?.u)}`),
      compatibilityCheck(compat, t.dialect === "opengauss" ? server : "PostgreSQL"),
    ];
    const enc = String(info?.enc ?? "");
    out.push(
      enc === "UTF8"
        ? ok("target.encoding", "server_encoding UTF8")
        : warn(
            "target.encoding",
            `server_encoding ${enc}: text the source holds may not be storable, and check --data hashes text as UTF-8`,
            "migrate into a database created with ENCODING 'UTF8'",
          ),
    );
    const schemas = [...new Set(databases.map((d) => targetSchema(d, t.schema_mapping)))];
    const present = new Set((await sql.unsafe(`SELECT nspname AS s FROM pg_namespace WHERE nspname = ANY($1::text[])`, [schemas])).map((r) => r.s as string));
    const missing = schemas.filter((s) => !present.has(s));
    if (schemas.length === 0) out.push(ok("target.schemas", "no database to map (the source's databases are unknown)"));
    else if (missing.length === 0) out.push(ok("target.schemas", `schema(s) ${schemas.join(", ")} exist`));
    for (const s of missing)
      out.push(
        fail(
          "target.schemas",
          `schema "${s}" does not exist`,
          `CREATE SCHEMA "${s}" (and the tables: the full copy step), or map the database elsewhere with [target] schema_mapping`,
          s,
        ),
      );
    if (catalog) {
      const tables = await readTargetTables(sql, schemas);
      out.push(...tableChecks(catalog.tables, tables, t, jsonColumns));
      if (foreignKeys) out.push(...(await foreignKeyChecks(sql, t.schema_mapping, foreignKeys, new Set(catalog.tables.map((x) => `${x.database}.${x.table}`)))));
      else out.push(notRun("target.foreign_keys", "the source's foreign keys are unknown", "fix the source checks first"));
      out.push(...privilegeChecks(catalog.tables, tables, t));
    } else {
      for (const id of ["target.tables", "target.foreign_keys", "target.privileges"]) out.push(notRun(id, "the source's tables are unknown", "fix the source checks first"));
    }
    out.push(await checkpointCheck(sql, t));
    out.push(...(await skippedObjectsCheck(sql)));
    return out;
  } catch (err) {
    return [fail("target.connection", `a catalog query failed: ${errorText(err)}`, "check the target user's rights to read pg_catalog")];
  } finally {
    await sql.end({ timeout: 5 }).catch(() => {});
  }
}

function compatibilityCheck(c: TargetCompatibility, server: string): CheckResult {
  const id = "target.compatibility";
  if (c.problem) return fail(id, c.problem.found, c.problem.fix);
  if (c.caveat && c.mode === null) return warn(id, c.caveat, `set [target] dialect = "postgresql" for a PostgreSQL server`);
  if (c.caveat) return warn(id, `${server}: ${c.caveat}`, "keep the mapped column types (docs/types.md), or migrate into a database created with DBCOMPATIBILITY 'PG'");
  if (c.mode === null) return ok(id, `${server}: no compatibility modes; '' and NULL stay distinct, lengths count characters`);
  return ok(id, `${server}, compatibility ${c.mode}: '' and NULL stay distinct, lengths count characters`);
}

function tableChecks(sources: readonly TableDef[], tables: ReadonlyMap<string, TargetTable>, t: TargetConfig, jsonColumns: ReadonlySet<string>): CheckResult[] {
  const out: CheckResult[] = [];
  let good = 0;
  for (const src of sources) {
    const name = `${src.database}.${src.table}`;
    const schema = targetSchema(src.database, t.schema_mapping);
    const dst = tables.get(`${schema}.${fitName(src.table)}`);
    if (!dst) {
      out.push(
        fail(
          "target.tables",
          `table ${qualifiedTable(src.database, src.table, t.schema_mapping)} does not exist on the target`,
          "create it with the mapped column types (docs/types.md) and load the full copy",
          name,
        ),
      );
      continue;
    }
    const problems: string[] = [];
    const doubts: string[] = [];
    for (const c of src.columns) {
      const col = dst.columns.find((x) => x.name === fitName(c.name));
      const mapped = mapType(c.type, t.dialect).mapped;
      if (!col) {
        problems.push(`column ${c.name} is missing`);
        continue;
      }
      const mariadbJson = jsonColumns.has(`${name}.${c.name}`) && familyOf(col.type) === "json";
      if (mapped && col.type !== mapped.sql && !mariadbJson) {
        const msg = `${c.name} is ${col.type}, the mapping gives ${mapped.sql} for ${typeText(c.type)}`;
        if (familyOf(col.type) === mapped.family) doubts.push(msg);
        else problems.push(msg);
      }
      if (col.notNull && c.nullable !== false) problems.push(`${c.name} is NOT NULL on the target but nullable on the source`);
    }
    for (const col of dst.columns) {
      if (!src.columns.some((c) => fitName(c.name) === col.name) && col.notNull && !col.hasDefault)
        problems.push(`target-only column ${col.name} is NOT NULL without a default (inserts would fail)`);
    }
    if (problems.length > 0) out.push(fail("target.tables", problems.join("; "), "alter the target table to match the type mapping (docs/types.md)", name));
    else if (doubts.length > 0)
      out.push(warn("target.tables", `${doubts.join("; ")}: replication works while every value fits`, "use the mapped type unless the difference is deliberate", name));
    else good++;
  }
  if (good > 0 || sources.length === 0) out.unshift(ok("target.tables", `${good} of ${sources.length} table(s) exist with the mapped column types`));
  return out;
}

function privilegeChecks(sources: readonly TableDef[], tables: ReadonlyMap<string, TargetTable>, t: TargetConfig): CheckResult[] {
  const out: CheckResult[] = [];
  let good = 0;
  for (const src of sources) {
    const schema = targetSchema(src.database, t.schema_mapping);
    const dst = tables.get(`${schema}.${fitName(src.table)}`);
    if (!dst) continue;
    const lacking = (["usage", "select", "insert", "update", "delete"] as const).filter((p) => !dst.privileges[p]);
    if (lacking.length === 0) {
      good++;
      continue;
    }
    const what = lacking.map((p) => (p === "usage" ? `USAGE on schema "${schema}"` : p.toUpperCase())).join(", ");
    out.push(
      fail(
        "target.privileges",
        `${t.user} lacks ${what}`,
        `GRANT ${
          lacking
            .filter((p) => p !== "usage")
            .map((p) => p.toUpperCase())
            .join(", ") || "USAGE"
        } ON ${lacking.includes("usage") ? `SCHEMA "${schema}"` : qualifiedTable(src.database, src.table, t.schema_mapping)} TO "${t.user}"`,
        `${src.database}.${src.table}`,
      ),
    );
  }
  if (out.length === 0)
    out.push(ok("target.privileges", good > 0 ? `${t.user} may read and write all ${good} existing table(s)` : "no target table exists yet to check (see target.tables)"));
  return out;
}

async function checkpointCheck(sql: postgres.Sql, t: TargetConfig): Promise<CheckResult> {
  const id = "target.checkpoint";
  const [r] = await sql.unsafe(
    `SELECT has_database_privilege(current_database(), 'CREATE') AS db_create,
            EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present,
            CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)
                 THEN has_schema_privilege($1, 'USAGE') AND has_schema_privilege($1, 'CREATE') END AS schema_ok,
            (SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relkind = 'r'
                AND NOT (has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT')
                         AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE'))) AS unwritable`,
    [CHECKPOINT_SCHEMA],
  );
  const fixDb = `GRANT CREATE ON DATABASE "${t.database}" TO "${t.user}" (the sink runs CREATE SCHEMA IF NOT EXISTS ${CHECKPOINT_SCHEMA} at every start)`;
  if (!r?.db_create) return fail(id, `the user may not create schemas in this database`, fixDb);
  if (!r.present) return ok(id, `${CHECKPOINT_SCHEMA} does not exist yet; the user may create it`);
  if (!r.schema_ok)
    return fail(
      id,
      `${CHECKPOINT_SCHEMA} exists but the user lacks USAGE or CREATE on it`,
      `GRANT USAGE, CREATE ON SCHEMA ${CHECKPOINT_SCHEMA} TO "${t.user}", or let the sink's user own it`,
    );
  if (r.unwritable)
    return fail(
      id,
      `the user may not read and write ${CHECKPOINT_SCHEMA} table(s) ${r.unwritable}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${CHECKPOINT_SCHEMA} TO "${t.user}"`,
    );
  return ok(id, `${CHECKPOINT_SCHEMA} exists and is writable`);
}
