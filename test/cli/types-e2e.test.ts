// Every MySQL column type end to end: the table is created on the target by the replicated
// CREATE TABLE, edge values are inserted on MariaDB, and each value read back from PostgreSQL
// equals the MySQL value under the documented mapping (docs/types.md), compared as
// values: numbers as numbers or exact decimal text, instants as instants, TIME as a duration in
// microseconds, bytes as bytes, JSON as parsed JSON.
import { describe, expect, test } from "bun:test";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";

const COLUMNS = `id INT PRIMARY KEY, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, bo BOOL, d DECIMAL(65,30), d2 DECIMAL(10,2), f FLOAT, db DOUBLE, b1 BIT(1), b10 BIT(10),
  y YEAR, dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(3) NULL, ch CHAR(5), vc VARCHAR(40), bn BINARY(4), vb VARBINARY(8),
  tx TEXT, bl BLOB, e ENUM('a','b','c'), st SET('x','y'), j JSON, g GEOMETRY`;

const ROWS = [
  `(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0, '-99999999999999999999999999999999999.999999999999999999999999999999', -12345678.90, -1.5, -1.7976931348623157e308, b'0', b'0000000000',
    1901, '1000-01-01', '-838:59:59.000000', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000', '', '', x'00000000', x'', '', x'', 'a', '', '[]', ST_GeomFromText('POINT(0 0)'))`,
  `(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, 1, '99999999999999999999999999999999999.999999999999999999999999999999', 12345678.90, 3.25, 1.7976931348623157e308, b'1', b'1000000001',
    2155, '9999-12-31', '838:59:59.000000', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999', 'abc', 'emoji 😀 ünïcode', x'01020000', x'00ff00', 'text', x'0102', 'c', 'x,y', '{"a": [1, 2.5, "x", null, true]}', ST_GeomFromText('POINT(1 2)'))`,
  `(3${", NULL".repeat(32)})`,
  `(4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'0', 0, '2024-02-29', '-00:00:00.500000', '2024-02-29 12:34:56.000001', '2024-02-29 12:34:56.001', ' a', ' ', x'', x'', '', x'', 'b', 'y', '{}', NULL)`,
];

const micros = (t: string): bigint => {
  const neg = t.startsWith("-");
  const [h, m, s] = t.replace("-", "").split(":") as [string, string, string];
  const [sec, frac = ""] = s.split(".");
  const v = (BigInt(h) * 3600n + BigInt(m) * 60n + BigInt(sec!)) * 1_000_000n + BigInt(frac.padEnd(6, "0"));
  return neg ? -v : v;
};

function parseJson(v: unknown): unknown {
  try {
    return JSON.parse(String(v));
  } catch {
    return { unparsable: String(v) };
  }
}

describe.each(TARGETS)("every type, source value = target value (%s)", (dialect) => {
  test("edge values replicate exactly under the documented mapping", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("alltypes");
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`SET time_zone = '+00:00'`);
    await c.query(`CREATE DATABASE ${name}`);
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"`);
    const from = await currentPosition();
    await c.query(`CREATE TABLE ${name}.t (${COLUMNS}) CHARACTER SET utf8mb4`);
    await c.query(`INSERT INTO ${name}.t VALUES ${ROWS.join(", ")}`);
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 2");
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.stderr).not.toContain("ERROR");
    expect(k.code).toBe(0);

    // MySQL side: exact text forms where the driver would round (decimals, bigints, floats as stored)
    const [src] = (await c.query({
      sql: `SELECT id, ti, tiu, si, siu, mi, miu, i, iu, CAST(bi AS CHAR) bi, CAST(biu AS CHAR) biu, bo, CAST(d AS CHAR) d, CAST(d2 AS CHAR) d2, f, db,
        BIN(b1) b1, LPAD(BIN(b10), 10, '0') b10, y, CAST(dt AS CHAR) dt, CAST(tm AS CHAR) tm, CAST(dtm AS CHAR) dtm, UNIX_TIMESTAMP(ts) * 1000 AS ts,
        ch, vc, HEX(bn) bn, HEX(vb) vb, tx, HEX(bl) bl, e, st, CAST(j AS CHAR) j, HEX(g) g FROM ${name}.t ORDER BY id`,
      supportBigNumbers: true,
      bigNumberStrings: true,
    })) as unknown as [Array<Record<string, unknown>>];
    await c.end();
    const dst = await sql.unsafe(`SELECT id, ti, tiu, si, siu, mi, miu, i, iu::text iu, bi::text bi, biu::text biu, bo, d::text d, d2::text d2, f, db,
      b1::text b1, b10::text b10, y, dt::text dt, tm::text tm, to_char(dtm, 'YYYY-MM-DD HH24:MI:SS.US') dtm, (extract(epoch FROM ts) * 1000)::numeric(20,0)::text ts,
      ch, vc, upper(encode(bn, 'hex')) bn, upper(encode(vb, 'hex')) vb, tx, upper(encode(bl, 'hex')) bl, e, st, j::text j, upper(encode(g, 'hex')) g
      FROM "${name}".t ORDER BY id`);
    await sql.end();
    expect(dst.length).toBe(src.length);
    for (let r = 0; r < src.length; r++) {
      const s = src[r]!;
      const d = dst[r]!;
      for (const col of Object.keys(s)) {
        const a = s[col];
        const b = d[col];
        const where = `row ${s.id} column ${col}`;
        if (a === null || b === null) {
          expect([where, b]).toEqual([where, a]);
          continue;
        }
        switch (col) {
          case "iu":
          case "bi":
          case "biu":
          case "d":
          case "d2":
            expect([where, String(b)]).toEqual([where, String(a)]);
            break;
          case "f":
          case "db":
            expect([where, Number(b)]).toEqual([where, Number(a)]);
            break;
          case "b1":
            expect([where, String(b)]).toEqual([where, String(a)]);
            break;
          case "tm":
            expect([where, micros(String(b))]).toEqual([where, micros(String(a))]);
            break;
          case "dtm":
            expect([where, String(b)]).toEqual([where, String(a).padEnd(26, "0")]);
            break;
          case "ts":
            expect([where, BigInt(String(b))]).toEqual([where, BigInt(Math.round(Number(a)))]);
            break;
          case "ch":
            // CHAR pads with spaces on both sides; MySQL returns it without trailing spaces
            expect([where, String(b).trimEnd()]).toEqual([where, String(a)]);
            break;
          case "j":
            expect([where, parseJson(b)]).toEqual([where, parseJson(a)]);
            break;
          default:
            expect([where, typeof b === "number" ? b : String(b)]).toEqual([where, typeof a === "number" ? a : String(a)]);
        }
      }
    }
  }, 120_000);
});
