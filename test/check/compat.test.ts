// src/dialect/compat.ts against the real servers: what each openGauss compatibility mode does to
// MySQL data (the facts the function encodes, measured here, not assumed), and its verdict.
import { describe, expect, test } from "bun:test";
import { targetCompatibility, targetCompatibilityProblem } from "../../src/dialect/compat.ts";
import { getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { createDatabaseIn } from "./support.ts";

interface Behaviour {
  /** '' inserted into varchar(3), nvarchar2(3) and text reads back as NULL. */
  emptyIsNull: boolean[];
  /** Three 2-byte characters fit varchar(3) (lengths count characters, not bytes). */
  varcharCountsCharacters: boolean;
  /** ...and nvarchar2(3), the openGauss mapping of VARCHAR(n). */
  nvarchar2CountsCharacters: boolean;
}

async function behaviour(database: string): Promise<Behaviour> {
  const target = await getTarget("opengauss");
  const sql = target.sql(database);
  try {
    await sql.unsafe(`CREATE TABLE m (id integer, v varchar(3), n nvarchar2(3), t text)`);
    await sql.unsafe(`INSERT INTO m VALUES (1, '', '', '')`);
    const [r] = await sql.unsafe(`SELECT v IS NULL AS v, n IS NULL AS n, t IS NULL AS t FROM m WHERE id = 1`);
    const fits = async (col: string) =>
      sql.unsafe(`INSERT INTO m (id, ${col}) VALUES (2, 'ééé')`).then(
        () => true,
        (err: { message?: string }) => {
          if (!/value too long/.test(err.message ?? "")) throw err;
          return false;
        },
      );
    return { emptyIsNull: [r!.v, r!.n, r!.t], varcharCountsCharacters: await fits("v"), nvarchar2CountsCharacters: await fits("n") };
  } finally {
    await sql.end();
  }
}

describe.if(TARGETS.includes("opengauss"))("openGauss compatibility modes (real server)", () => {
  test("A stores '' as NULL and counts varchar(n) in bytes: refused, with how to recreate the database", async () => {
    const name = uniqueName("chk_compat_a");
    await createDatabaseIn(await getTarget("opengauss"), name, "A");
    expect(await behaviour(name)).toEqual({ emptyIsNull: [true, true, true], varcharCountsCharacters: false, nvarchar2CountsCharacters: true });
    const sql = (await getTarget("opengauss")).sql(name);
    try {
      const c = await targetCompatibility(sql, "opengauss");
      expect([c.mode, c.version, c.caveat]).toEqual(["A", expect.stringMatching(/^7\.\d+\.\d+/), null]);
      expect(await targetCompatibilityProblem(sql, "opengauss")).toEqual({
        found: `database "${name}" is in openGauss compatibility A (Oracle): it stores '' as NULL, so MySQL's empty strings would become NULL, and char(n)/varchar(n) count bytes, not characters`,
        fix: `create the target database with CREATE DATABASE "${name}_pg" DBCOMPATIBILITY 'PG' (or 'B'; a database's compatibility cannot be changed), create the schemas and tables there, load the full copy there and point [target] database at it`,
      });
    } finally {
      await sql.end();
    }
  });

  test("C keeps '' but counts varchar(n) in bytes: accepted with a caveat (nvarchar2, the mapping, counts characters)", async () => {
    const name = uniqueName("chk_compat_c");
    await createDatabaseIn(await getTarget("opengauss"), name, "C");
    expect(await behaviour(name)).toEqual({ emptyIsNull: [false, false, false], varcharCountsCharacters: false, nvarchar2CountsCharacters: true });
    const sql = (await getTarget("opengauss")).sql(name);
    try {
      const c = await targetCompatibility(sql, "opengauss");
      expect([c.mode, c.problem]).toEqual(["C", null]);
      expect(c.caveat).toContain("count bytes");
    } finally {
      await sql.end();
    }
  });

  test("B (without dolphin) and PG keep '' and count characters: accepted", async () => {
    const target = await getTarget("opengauss");
    for (const mode of ["B", "PG"] as const) {
      const name = uniqueName(`chk_compat_${mode.toLowerCase()}`);
      if (mode === "B") await createDatabaseIn(target, name, "B");
      else await target.createDatabase(name);
      expect([mode, await behaviour(name)]).toEqual([mode, { emptyIsNull: [false, false, false], varcharCountsCharacters: true, nvarchar2CountsCharacters: true }]);
      const sql = target.sql(name);
      try {
        expect(await targetCompatibility(sql, "opengauss")).toEqual({ mode, version: expect.stringMatching(/^7\.\d+\.\d+/), problem: null, caveat: null });
      } finally {
        await sql.end();
      }
    }
  });
});

describe.if(TARGETS.includes("postgresql"))("PostgreSQL compatibility", () => {
  test("no modes: nothing to refuse", async () => {
    const sql = (await getTarget("postgresql")).sql();
    try {
      expect(await targetCompatibility(sql, "postgresql")).toEqual({ mode: null, version: null, problem: null, caveat: null });
    } finally {
      await sql.end();
    }
  });

  test("a PostgreSQL server configured as dialect opengauss: no sql_compatibility; the data is safe, a caveat says so", async () => {
    const sql = (await getTarget("postgresql")).sql();
    try {
      expect(await targetCompatibilityProblem(sql, "opengauss")).toBeNull();
      expect(await targetCompatibility(sql, "opengauss")).toEqual({
        mode: null,
        version: null,
        problem: null,
        caveat: `database "postgres" has no sql_compatibility setting: the server is not openGauss, but [target] dialect is "opengauss"`,
      });
    } finally {
      await sql.end();
    }
  });
});
