// check schema.features against a real MariaDB: what it says the sink will do with partitioned
// tables and SPATIAL indexes is what the sink does (src/dialect/ddl-objects.ts): a plain table
// without the index, the partitioning or index recorded, partition DDL followed where exact;
// on openGauss, RANGE/LIST on an integer key partitioned as on the source.
import { expect, test } from "bun:test";
import { runPreflight } from "../../src/check/run.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { checkConfig } from "./support.ts";

test.each(TARGETS)(
  "partitioned tables and SPATIAL indexes: the warning says what the sink does and what is left for cutover (%s)",
  async (dialect) => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("chk_features");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; USE ${name};
    CREATE TABLE m (id INT PRIMARY KEY) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE);
    CREATE TABLE h (id INT PRIMARY KEY) PARTITION BY HASH (id) PARTITIONS 2;
    CREATE TABLE g (id INT PRIMARY KEY, p POINT NOT NULL, SPATIAL INDEX sp (p))`);
    await c.end();
    await target.createDatabase(name);
    const results = (await runPreflight(checkConfig(db, target, name, name))).filter((r) => r.id === "schema.features");
    const by = (table: string) => results.filter((r) => r.object === `${name}.${table}`);
    for (const t of ["m", "h"]) {
      const [r] = by(t);
      expect(r!.status).toBe("warn");
      expect(r!.found).toContain("plain table");
      expect(r!.found).toContain("target.skipped_objects");
      expect(r!.found).toContain("DELETE");
      expect(r!.found).not.toContain("(ADD/DROP/TRUNCATE/EXCHANGE PARTITION) stops");
      expect(r!.fix).not.toContain("create the target table unpartitioned");
      expect(r!.found.includes("openGauss partitioned table with the same partitions")).toBe(dialect === "opengauss");
    }
    const [sp] = by("g");
    expect(sp!.found).toContain("SPATIAL index sp");
    expect(sp!.found).toContain("target.skipped_objects");
    expect(sp!.fix).not.toContain("create the target table without it");
    expect(sp!.fix).toContain('untranslatable = "stop"');
  },
  120_000,
);
