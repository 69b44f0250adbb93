// The canonical texts of check --data (src/check/canonical.ts) must be byte-identical on MariaDB
// and on the target, or every chunk holding such a value is read row by row (and the lenient
// row comparison hides why). Edge values of every type are replicated by the binary (source →
// journal → sink, which also creates the table), then each value's canonical text and each
// row's hashed text are read on both sides, in the sessions the data check prepares, and
// compared exactly.
import { jsonNormalizePg, JSON_DEPTH } from "../../src/check/canonical.ts";
import { describe, expect, test } from "bun:test";
import { BinlogConnection } from "../../src/binlog/connection.ts";
import { readCatalog } from "../../src/binlog/ddl-catalog.ts";
import { planTable } from "../../src/check/data-plan.ts";
import { cell, rowSelect } from "../../src/check/data-rows.ts";
import { prepareSourceSession, prepareTargetSession } from "../../src/check/data-sessions.ts";
import { rowTextMy, rowTextPg } from "../../src/check/canonical.ts";
import { readTargetTables } from "../../src/check/target-catalog.ts";
import { connectTarget } from "../../src/dialect/connect.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, type TargetDialect, uniqueName } from "../support/servers.ts";
import { checkConfig, createDatabaseIn } from "./support.ts";

// BOOL comes after YEAR: MariaDB counts YEAR in TABLE_MAP's signedness bitmap, which the source
// once missed (a TINYINT after a YEAR decoded unsigned).
const COLUMNS = `id INT PRIMARY KEY, dc DECIMAL(12,3), dz DECIMAL(5,5), bu BIGINT UNSIGNED, f FLOAT, d DOUBLE, b BIT(10), b1 BIT(1),
  y YEAR, bo BOOL, dt DATE, dtm DATETIME(6), dt0 DATETIME, ts TIMESTAMP(6) NULL, tm TIME(6), tm0 TIME, ch CHAR(5), vc VARCHAR(40), tx TEXT,
  bn BINARY(4), vb VARBINARY(10), en ENUM('a','b c',''), st SET('x','y','z'), js JSON, lat VARCHAR(10) CHARACTER SET latin1, g GEOMETRY`;
const NAMES = "id, dc, dz, bu, f, d, b, b1, y, dt, dtm, dt0, ts, tm, tm0, ch, vc, tx, bn, vb, en, st, js, lat, g, bo";

// Each row: values for NAMES after id; NULLs, zeros and each type's extremes. JSON stays within
// JSON_DEPTH levels (deeper documents are compared by value, row by row: canonical.ts).
const ROWS = [
  `NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL`,
  `0.125, 0.12345, 18446744073709551615, 0.1, 0.1, b'0', b'0', 1901, '1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1970-01-01 00:00:01', '-838:59:59', '00:00:00', '', '', '', X'00000000', X'', 'a', '', '{"h": 0.5, "f": -0.0000123, "n": 1e300, "big": 12345678901234567890}', '', ST_GeomFromText('POINT(0 0)'), 0`,
  `-0.5, -0.00001, 0, -1.5e-10, 0.3333333333333333, b'1111111111', b'1', 2155, '9999-12-31', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59', '2038-01-19 03:14:07.999999', '838:59:59', '-00:00:01', 'a  ', 'trailing  ', ' lead', X'FFFFFFFF', X'00', 'b c', 'x,y,z', '[0.1, -0.5, 1.5e-7, 100, [[["deep"]]]]', 'café', ST_GeomFromText('LINESTRING(0 0, 1 1)'), 1`,
  `0.000, 0.00000, 1, 3.4028234e38, 1.7976931348623157e308, b'1', b'0', 2000, '2024-02-29', '2024-02-29 12:00:00.5', '2024-02-29 12:00:00', '2024-02-29 12:00:00.000001', '-00:00:00.000001', '-01:00:00', 'é✓😀', 'multi\\nline é ✓ 😀', REPEAT('long ', 300), X'7F000001', X'0102030405060708090A', '', 'y', '{"é": "\\\\u0001 \\\\" tab\\\\t", "a": {"b": {"c": [1, null]}}, "t": true}', 'ÿ', ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))'), -128`,
  `-0.001, -0.99999, 9223372036854775808, 1e-45, 5e-324, b'101', b'1', 1999, '2000-01-01', '1970-01-01 00:00:00', '2000-01-01 00:00:00', '2000-06-15 12:30:45.5', '12:34:56.789012', '23:59:59', 'x''y"', 'quote '' and \\\\ backslash', 'tab\\tend', X'41424344', X'FF', 'a', 'x,z', '{"k": [], "o": {}, "s": "", "z": 0, "m": -0.0, "x": 1.0}', 'abc', ST_GeomFromText('POINT(1.5 -2.25)'), 127`,
  `999999999.999, 0.5, 2, -16777217, 123456789012345680, b'1000000000', b'1', 0, '2024-01-05', '2024-01-05 00:00:00.000100', '2024-01-05 23:00:00', '1999-12-31 23:59:59.999999', '100:00:00.5', '-838:59:59', 'five', 'five', 'five', X'05050505', X'05', 'b c', 'y,z', '3.25', 'five', ST_GeomFromText('POINT(5 5)'), 2`,
  `-999999999.999, -0.1, 3, 16777216, -1e-7, b'11', b'0', 2024, '2024-12-31', '2024-12-31 23:59:59.000001', '2024-12-31 23:59:59', '2024-12-31 23:59:59.000001', '-12:00:00.123456', '838:59:59', 'Z', 'Z', 'Z', X'5A5A5A5A', X'5A', 'a', 'x', '"string é"', 'Z', ST_GeomFromText('POINT(-1 -1)'), 3`,
  `1.5, 0.00010, 4, 1.17549435e-38, 1e21, b'110', b'1', 1970, '1970-01-01', '2000-02-29 00:00:00.000000', '2000-02-29 00:00:00', '2000-02-29 00:00:00', '00:00:00.000001', '00:00:01', 'q', 'q', 'q', X'51515151', X'51', 'a', 'x', 'null', 'q', ST_GeomFromText('POINT(0.1 0.2)'), 4`,
  `-1.5, -0.5, 5, 100, 1e15, b'111', b'0', 1980, '1980-05-05', '1980-05-05 05:05:05.050505', '1980-05-05 05:05:05', '1980-05-05 05:05:05.050505', '-100:00:00', '00:00:59', 'r', 'r', 'r', X'52525252', X'52', 'a', 'x', '[1e-7, 123.456e5, -0]', 'r', ST_GeomFromText('POINT(2 2)'), 5`,
];

// openGauss databases the tool accepts: PG and B (both keep '' and count characters) and C
// (bytes, and length(character(n)) counts the padding); A is refused (compat.test.ts).
const CASES: Array<[TargetDialect, string]> = TARGETS.flatMap((d): Array<[TargetDialect, string]> =>
  d === "opengauss"
    ? [
        [d, "PG"],
        [d, "B"],
        [d, "C"],
      ]
    : [[d, "-"]],
);

describe.each(CASES)("canonical texts (%s, compatibility %s)", (dialect, mode) => {
  test("every MySQL type's canonical text, and every row's hashed text, is byte-identical on MariaDB and on the target", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("chk_canon");
    if (mode === "B" || mode === "C") await createDatabaseIn(target, name, mode);
    else await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4; CREATE TABLE ${name}.canon (${COLUMNS})`);
    await c.query(`INSERT INTO ${name}.canon (${NAMES}) VALUES ${ROWS.map((r, i) => `(${i + 1}, ${r})`).join(",\n")}`);
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(sink.stderr).not.toContain("ERROR");
    expect(sink.code).toBe(0);

    const config = checkConfig(db, target, name, name);
    const my = await BinlogConnection.open(config.source!);
    const sql = connectTarget(config.target!, 1);
    const pg = await sql.reserve();
    try {
      await prepareSourceSession(my);
      await prepareTargetSession(pg, dialect);
      const catalog = await readCatalog((q) => my.query(q), [name]);
      const dst = (await readTargetTables(pg, [name])).get(`${name}.canon`)!;
      const plan = planTable(catalog.tables[0]!, dst, {}, { flavour: "mariadb", jsonNormalize: true, zeroDateNull: false, dialect });
      const select = (side: "my" | "pg") => `SELECT ${rowSelect(plan, side)}, ${side === "my" ? `MD5(${rowTextMy(plan.columns)})` : `md5(${rowTextPg(plan.columns)})`} AS h`;
      const src = await my.query<Record<string, unknown>>(`${select("my")} FROM ${plan.myFrom} ORDER BY id`);
      const dstRows = await pg.unsafe(`${select("pg")} FROM ${plan.pgFrom} ORDER BY id`);
      expect(dstRows.length).toBe(ROWS.length);
      const texts = (rows: ReadonlyArray<Record<string, unknown>>) => rows.flatMap((r, i) => plan.columns.map((col, j) => `row ${i + 1} ${col.name}: ${cell(r[`c${j}`])}`));
      expect(texts([...dstRows])).toEqual(texts(src));
      expect([...dstRows].map((r) => cell(r.h))).toEqual(src.map((r) => cell(r.h)));
    } finally {
      pg.release();
      my.close();
      await sql.end();
    }
  }, 120_000);
});

describe.if(TARGETS.includes("opengauss"))("the data check's openGauss session", () => {
  test("adds display_leading_zero and drops the tail-zero options in its own session only; the DBA's other options stay", async () => {
    const target = await getTarget("opengauss");
    const name = uniqueName("chk_opts");
    await target.createDatabase(name);
    const admin = target.sql(name);
    await admin.unsafe(`ALTER DATABASE "${name}" SET behavior_compat_options = 'end_month_calculate,hide_tailing_zero'`);
    await admin.end();
    const sql = target.productSql(name);
    const [check, other] = [await sql.reserve(), await sql.reserve()];
    try {
      const read = `SELECT current_setting('behavior_compat_options') AS o, 0.500::numeric(12,3)::text AS n`;
      const options = async (s: typeof check) => ({ ...(await s.unsafe(read))[0] });
      expect(await options(check)).toEqual({ o: "end_month_calculate,hide_tailing_zero", n: ".5" });
      await prepareTargetSession(check, "opengauss");
      expect(await options(check)).toEqual({ o: "end_month_calculate,display_leading_zero", n: "0.500" });
      expect(await options(other)).toEqual({ o: "end_month_calculate,hide_tailing_zero", n: ".5" });
    } finally {
      check.release();
      other.release();
      await sql.end();
    }
  });
});

describe("JSON_NORMALIZE on the target, in linear time (issue 14, item 7)", () => {
  test("the column is cast to jsonb once per row, not once per element of every nested array, and the SQL grows linearly with depth", () => {
    const sql = jsonNormalizePg(`"js"::jsonb`, JSON_DEPTH);
    expect(sql.split(`"js"::jsonb`).length - 1).toBe(1);
    // Each level's value is named once (b0 … b4), behind OFFSET 0, so the planner keeps it so.
    expect(sql.match(/ OFFSET 0\) AS s\d/g)?.length).toBe(JSON_DEPTH + 1);
    const sizes = [1, 2, 3, 4].map((d) => jsonNormalizePg(`"js"::jsonb`, d).length);
    expect(sizes[3]! - sizes[2]!).toBeLessThan(1.5 * (sizes[1]! - sizes[0]!));
  });
});
