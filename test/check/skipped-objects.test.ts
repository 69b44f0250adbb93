// check target.skipped_objects against a real target: the summary line counts the recorded
// objects by kind in plain English, then one line per object.
import { describe, expect, test } from "bun:test";
import { skippedObjectsCheck } from "../../src/check/skipped-objects.ts";
import type { SkippedObject } from "../../src/dialect/ddl.ts";
import { ensureCheckpointTables } from "../../src/sink/checkpoint.ts";
import { saveSkippedObjects } from "../../src/dialect/skipped-store.ts";
import { getTarget, TARGETS, uniqueName } from "../support/servers.ts";

const object = (kind: SkippedObject["kind"], table: string, name: string): SkippedObject => ({
  kind,
  schema: "shop",
  table,
  name,
  statement: `-- ${name}`,
  reason: "not translated",
  cutover: "recreate it",
});

describe.each(TARGETS)("check target.skipped_objects (%s)", (dialect) => {
  test("the summary counts by kind: 2 indexes, 1 check, 3 views", async () => {
    const target = await getTarget(dialect);
    const name = uniqueName("chk_skipped");
    await target.createDatabase(name);
    const sql = target.sql(name);
    try {
      await ensureCheckpointTables(sql);
      const objects = [
        object("index", "geo", "sp"),
        object("index", "doc", "ft"),
        object("check", "doc", "positive"),
        object("view", "", "v1"),
        object("view", "", "v2"),
        object("view", "", "v3"),
      ];
      await saveSkippedObjects(sql, [], objects, { gtid: "0-1-7", file: "binlog.000001", pos: 4 });
      const results = await skippedObjectsCheck(sql);
      expect(results[0]!.found).toBe("6 object(s) from the source are not on the target (1 check, 2 indexes, 3 views); each is listed below");
      expect(
        results
          .slice(1)
          .map((r) => r.object)
          .sort(),
      ).toEqual(["shop.doc.ft", "shop.doc.positive", "shop.geo.sp", "shop.v1", "shop.v2", "shop.v3"]);
    } finally {
      await sql.end();
    }
  }, 120_000);
});
