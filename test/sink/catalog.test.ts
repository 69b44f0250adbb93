// The scheduler's key policy read from the target's catalog, for tables and columns whose
// names the target has in their shortened form (over 63 bytes): the rows name them as the
// source does, and must find their unique keys and foreign-key groups all the same.
import { describe, expect, test } from "bun:test";
import type { LoggedTable } from "../../src/events/decode.ts";
import type { Descriptor } from "../../src/events/values.ts";
import { fitName } from "../../src/dialect/identifiers.ts";
import { readKeyPolicy } from "../../src/sink/catalog.ts";
import { getTarget, TARGETS, uniqueName } from "../support/servers.ts";

function def(database: string, table: string, names: string[], key: string[]): LoggedTable {
  const descriptors = names.map((n) => ({ k: "int", m: "int", nullable: !key.includes(n) }) as Descriptor);
  return { database, table, names, descriptors, key, version: "0" };
}

const long = (head: string, last: string) => `${head}_${"x".repeat(62 - head.length)}${last}`;

describe.each(TARGETS)("key policy of long names (%s)", (dialect) => {
  test("unique keys come back with the source's column names; foreign keys link the long tables", async () => {
    const target = await getTarget(dialect);
    const name = uniqueName("keypolicy");
    await target.createDatabase(name);
    const sql = target.sql(name);
    const [parent, child, col, ref] = [long("parent", "p"), long("child", "c"), long("code", "a"), long("ref", "r")];
    const q = (n: string) => `"${fitName(n)}"`;
    try {
      await sql.unsafe(`CREATE SCHEMA "${name}"`);
      await sql.unsafe(`CREATE TABLE "${name}".${q(parent)} (id integer PRIMARY KEY, ${q(col)} integer NOT NULL)`);
      await sql.unsafe(`CREATE UNIQUE INDEX uq ON "${name}".${q(parent)} (${q(col)})`);
      await sql.unsafe(`CREATE TABLE "${name}".${q(child)} (id integer PRIMARY KEY, ${q(ref)} integer REFERENCES "${name}".${q(parent)} (id))`);
      const policy = await readKeyPolicy(sql, {}, [name]);
      const p = def(name, parent, ["id", col], ["id"]);
      expect(policy.uniqueKeys!(p)).toEqual(new Map([["uq", [col]]]));
      expect(policy.fkGroup!(p)).not.toBeNull();
      expect(policy.fkGroup!(def(name, child, ["id", ref], ["id"]))).toBe(policy.fkGroup!(p));
    } finally {
      await sql.end();
    }
  }, 60_000);
});
