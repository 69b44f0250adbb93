// `target.skipped_objects`: what the sink recorded instead of creating on the target (views,
// triggers, routines, events, CHECK constraints, FULLTEXT/SPATIAL/functional indexes:
// src/dialect/ddl-objects.ts), one warning each with what to do at cutover, after a summary
// line that counts them by kind. Nothing recorded, or no checkpoint yet, is ok.

import type postgres from "postgres";
import type { SkippedObject } from "../dialect/ddl.ts";
import { CHECKPOINT_SCHEMA } from "../checkpoint-names.ts";
import { relationExists } from "../dialect/relations.ts";
import { loadSkippedObjects } from "../dialect/skipped-store.ts";
import { type CheckResult, errorText, ok, warn } from "./report.ts";

const ID = "target.skipped_objects";

export async function skippedObjectsCheck(sql: postgres.Sql): Promise<CheckResult[]> {
  if (!(await relationExists(sql, CHECKPOINT_SCHEMA, "skipped_objects")))
    return [ok(ID, `nothing recorded: ${CHECKPOINT_SCHEMA}.skipped_objects does not exist yet (the sink has not run)`)];
  let objects: SkippedObject[];
  try {
    objects = await loadSkippedObjects(sql);
  } catch (err) {
    return [warn(ID, `cannot read ${CHECKPOINT_SCHEMA}.skipped_objects: ${errorText(err)}`, `GRANT SELECT ON ${CHECKPOINT_SCHEMA}.skipped_objects TO the checking user`)];
  }
  if (objects.length === 0)
    return [ok(ID, "no object was left out: every replicated view, trigger, routine, event, CHECK and index exists on the target or was dropped on the source")];
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  // By kind name, so that the line reads the same however the records sort.
  const byKind = [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${n} ${n === 1 ? k : k === "index" ? "indexes" : `${k}s`}`)
    .join(", ");
  return [
    warn(
      ID,
      `${objects.length} object(s) from the source are not on the target (${byKind}); each is listed below`,
      "before cutover, do what each line says; the list empties as the source drops them",
    ),
    ...objects.map((o) => {
      const at = o.gtid ? `GTID ${o.gtid} (${o.position})` : o.position;
      const excerpt = o.statement.length > 160 ? `${o.statement.slice(0, 160)}…` : o.statement;
      return warn(
        ID,
        `${o.kind} ${o.name}${o.table === "" ? "" : ` on ${o.table}`} was not created: ${o.reason}; source statement at ${at}: ${excerpt}`,
        o.cutover,
        `${o.schema}.${o.table === "" ? o.name : `${o.table}.${o.name}`}`,
      );
    }),
  ];
}
