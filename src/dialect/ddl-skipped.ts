// What an object the target does not get is (ddl-objects.ts records them): its kind, the
// record kept in gs_replicate.skipped_objects, the [sink] untranslatable policies, and when two
// records are the same object. Apart from ddl-objects.ts so that the catalog (ddl-catalog.ts)
// and a translation (ddl-state.ts) hold records without importing the helpers that take a
// translation.

import { sameName } from "./ddl-names.ts";

export type SkippedKind = "index" | "check" | "partitioning" | "view" | "trigger" | "procedure" | "function" | "event" | "package";

/** One object the target does not have; keyed by kind, schema, table ("" when none) and name. */
export interface SkippedObject {
  kind: SkippedKind;
  /** Target schema. */
  schema: string;
  /** Target table of an index, check or trigger; "" for the others. */
  table: string;
  /** The source's name. */
  name: string;
  /** The source statement (its first 500 characters). */
  statement: string;
  reason: string;
  /** What to do at cutover. */
  cutover: string;
  /** partitioning: the partitions as row sets (ddl-partitions.ts), JSON, when they are exact;
   *  index: {"columns": [...]} (the columns it is on), so that it follows them. */
  definition?: string;
  /** Where the source created it: kept when the record is moved (a renamed table). */
  gtid?: string | null;
  position?: string;
}

export const UNTRANSLATABLE_POLICIES = ["record", "stop"] as const;
export type UntranslatablePolicy = (typeof UNTRANSLATABLE_POLICIES)[number];

/** What a record looks like before the sink adds where it came from. */
export type ObjectRecord = Pick<SkippedObject, "kind" | "table" | "name" | "reason" | "cutover" | "definition">;

export function sameObject(a: Pick<SkippedObject, "kind" | "schema" | "table" | "name">, b: Pick<SkippedObject, "kind" | "schema" | "table" | "name">): boolean {
  return a.kind === b.kind && a.schema === b.schema && sameName(a.table, b.table) && sameName(a.name, b.name);
}
