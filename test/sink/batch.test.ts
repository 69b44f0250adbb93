// The one-query path writes every value as an SQL literal (src/sink/batch.ts): each must reach
// the server as exactly the value, whatever quotes, backslashes or bytes it holds, and
// whatever standard_conforming_strings says.
import { describe, expect, test } from "bun:test";
import { literal } from "../../src/sink/batch.ts";
import { getTarget, TARGETS, uniqueName } from "../support/servers.ts";

const STRINGS = [
  "",
  "plain",
  "it's",
  "''",
  "back\\slash",
  "\\x41",
  "\\\\",
  "\\'",
  "'; DROP TABLE t; --",
  "$$ dollar $$",
  "E'nested'",
  "line\nbreak\ttab\r",
  "ünïcödé 中文 🚀",
  "\u0001\u001f",
];

describe.each(TARGETS)("literals of the one-query path (%s)", (dialect) => {
  test("strings, bytes, numbers and NULL reach the server exactly, with standard_conforming_strings on and off", async () => {
    const pg = await getTarget(dialect);
    // A database made for the test: openGauss's default databases are in A compatibility, where '' is NULL.
    const name = uniqueName("literals");
    await pg.createDatabase(name);
    const sql = pg.sql(name);
    try {
      const r = await sql.reserve();
      try {
        for (const scs of ["on", "off"]) {
          await r.unsafe(`SET standard_conforming_strings = ${scs}`);
          for (const s of STRINGS) {
            const [row] = await r.unsafe(`SELECT ${literal(s)}::text AS v`);
            expect({ scs, v: row!.v }).toEqual({ scs, v: s });
          }
          const bytes = Buffer.from([0, 1, 0x27, 0x5c, 0x7f, 0x80, 0xff]);
          const [b] = await r.unsafe(`SELECT encode(${literal(bytes)}::bytea, 'hex') AS h`);
          expect(b!.h).toBe(bytes.toString("hex"));
          const [n] = await r.unsafe(`SELECT ${literal(-12345)}::int AS i, ${literal(0.1)}::float8 = 0.1 AS f, ${literal(null)}::text IS NULL AS z`);
          expect({ ...n }).toEqual({ i: -12345, f: true, z: true });
        }
      } finally {
        r.release();
      }
    } finally {
      await sql.end();
    }
  });
});
