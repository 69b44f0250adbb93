// check --data against real servers: a table of every column type replicated by the binary
// (source → journal → sink, which also creates the target table from the DDL) compares equal;
// then each kind of damage on the target is found and named by key, and the repair SQL makes
// the target equal again.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";

interface Report {
  passed: boolean;
  tables: Array<{
    table: string;
    status: string;
    rows: number;
    missing: Array<Record<string, string>>;
    extra: Array<Record<string, string>>;
    different: Array<{ key: Record<string, string>; columns: string[] }>;
    sourceOnlyRows?: number;
    targetOnlyRows?: number;
  }>;
}

const COLUMNS = `id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, bu BIGINT UNSIGNED, dc DECIMAL(12,3), f FLOAT, d DOUBLE, b BIT(10), y YEAR, dt DATE, dtm DATETIME(6),
  ts TIMESTAMP(3) NULL, tm TIME(2), ch CHAR(5), vc VARCHAR(40), tx TEXT, bn BINARY(4), vb VARBINARY(10), bl BLOB,
  en ENUM('a','b','c'), st SET('x','y','z'), js JSON, lat VARCHAR(10) CHARACTER SET latin1, g GEOMETRY`;

// Row 1 is NULL everywhere; the others carry edge values of each type.
const ROWS = [
  `(1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `(2, -128, 255, -32768, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615, -123456789.125, 3.1415927, 0.1, b'1010101010', 2155,
    '1000-01-01', '2024-02-29 23:59:59.999999', '2038-01-19 03:14:07.999', '-838:59:59.99', 'ab', 'trailing  ', 'multi\\nline é ✓ 😀', X'00010200', X'', X'DEADBEEF00',
    'c', 'x,z', '{"b": [1, 2.5, "s"], "a": {"k": null, "t": true}}', 'café', ST_GeomFromText('POINT(1 2)'))`,
  `(3, 0, 0, 0, 0, 0, 0, 0, 0, 0.000, 0, -0, b'0', 1901, '2024-01-05', '2024-01-05 00:00:00', '1970-01-01 00:00:01', '00:00:00', '', '', '', X'FFFFFFFF', X'00', X'',
    'a', '', '[]', '', ST_GeomFromText('LINESTRING(0 0, 1 1)'))`,
  `(4, 127, 1, 32767, 1, 2147483647, 1, 9223372036854775807, 1, 999999999.999, -1.5e-10, 1e300, b'1111111111', 2024, '9999-12-31', '9999-12-31 23:59:59.000001', '2000-06-15 12:30:45.500', '838:59:59', 'x''y"z', 'quote '' and \\\\ backslash', REPEAT('long ', 200), X'7F000001', X'0102030405060708090A', REPEAT(X'AB', 3000),
    'a', 'x,y,z', '{"n": 123456789012, "f": -0.0000123, "s": "tab\\\\tquote\\\\"", "e": {}}', 'abc', ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))'))`,
  `(5, 1, 2, 3, 4, 5, 6, 7, 8, 9.5, 10.25, 11.125, b'11', 2000, '2000-02-29', '2000-02-29 12:00:00.5', '2020-02-02 02:02:02.002', '-00:00:00.01', 'five', 'five', 'five', X'05050505', X'05', X'05',
    'b', 'y', '{"k": "v"}', 'five', ST_GeomFromText('POINT(5 5)'))`,
];
for (let id = 6; id <= 40; id++) {
  ROWS.push(`(${id}, ${id % 100}, ${id}, ${id * 100}, ${id * 1000}, ${id * 100000}, ${id * 7}, ${id} * 1000000000, ${id}, ${id}.5, ${id}.25, ${id}.125, b'${(id % 1024).toString(2)}', ${1901 + id},
    '2024-01-${String(1 + (id % 28)).padStart(2, "0")}', '2024-01-01 00:00:${String(id).padStart(2, "0")}.123456', '2024-01-01 00:00:${String(id).padStart(2, "0")}.123', '${id}:00:00.5', 'c${id}', 'v${id}', 't${id}', X'000000${(id % 256).toString(16).padStart(2, "0")}', X'${(id % 256).toString(16).padStart(2, "0")}', X'AA${(id % 256).toString(16).padStart(2, "0")}',
    'a', 'x,y', '{"id": ${id}, "list": [${id}, ${id + 1}]}', 'l${id}', ST_GeomFromText('POINT(${id} ${id})'))`);
}

/** A target UPDATE that changes one column of one row, per column. */
const DAMAGE: Array<[column: string, id: number, set: string]> = [
  ["ti", 6, "ti = ti + 1"],
  ["tu", 7, "tu = tu + 1"],
  ["si", 8, "si = si + 1"],
  ["mu", 9, "mu = mu + 1"],
  ["i", 10, "i = i + 1"],
  ["iu", 11, "iu = iu + 1"],
  ["bi", 12, "bi = bi + 1"],
  ["bu", 2, "bu = bu - 1"],
  ["dc", 13, "dc = dc + 0.001"],
  ["f", 14, "f = f * 2"],
  ["d", 15, "d = d + 1e-9"],
  ["b", 16, "b = ~b"],
  ["y", 17, "y = y + 1"],
  ["dt", 18, "dt = dt + 1"],
  ["dtm", 19, "dtm = dtm + interval '1 microsecond'"],
  ["ts", 20, "ts = ts + interval '1 millisecond'"],
  ["tm", 21, "tm = tm + interval '0.01 second'"],
  ["ch", 22, "ch = 'zz'"],
  ["vc", 23, "vc = vc || ' '"],
  ["tx", 24, "tx = upper(tx)"],
  ["bn", 25, "bn = set_byte(bn, 0, 255)"],
  ["vb", 26, "vb = vb || '\\x00'::bytea"],
  ["bl", 27, "bl = set_byte(bl, 1, 0)"],
  ["en", 28, "en = 'b'"],
  ["st", 29, "st = 'x'"],
  ["js", 30, `js = '{"id": 30, "list": [30, 31], "extra": 1}'`], // openGauss has no jsonb || jsonb
  ["lat", 31, "lat = 'L31'"],
  ["g", 32, "g = set_byte(g, 10, 1)"],
];

describe.each(TARGETS)("check --data (%s)", (dialect) => {
  test("equal after replication; then every damage is found by key and the repair SQL makes the target equal", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("chk_data");
    await pg.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4; CREATE TABLE ${name}.every (${COLUMNS}); CREATE TABLE ${name}.nokey (a INT, b VARCHAR(10));
      CREATE TABLE ${name}.textkey (code VARCHAR(20) PRIMARY KEY, n INT)`);
    await c.query(`INSERT INTO ${name}.every VALUES ${ROWS.join(",\n")}`);
    await c.query(`INSERT INTO ${name}.nokey VALUES (1, 'a'), (1, 'a'), (2, NULL), (3, 'c')`);
    await c.query(`INSERT INTO ${name}.textkey VALUES ('Alpha', 1), ('beta', 2), ('Gamma', 3), ('delta', 4), ('b', 5), ('C ', 6)`);
    await c.end();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(sink.stderr).not.toContain("ERROR");
    expect(sink.code).toBe(0);

    const clean = await runCli(["check", "--config", cfg, "--data"]);
    expect(clean.stdout).toContain(`equal   ${name}.every: 40 rows`);
    expect(clean.stdout).toContain(`equal   ${name}.nokey: 4 rows`);
    expect(clean.stdout).toContain(`equal   ${name}.textkey: 6 rows`);
    expect(clean.stderr).toMatch(/rows\/s/);
    expect(clean.code).toBe(0);

    const sql = pg.sql(name);
    const t = `"${name}".every`;
    await sql.unsafe(`DELETE FROM ${t} WHERE id = 33`);
    await sql.unsafe(`INSERT INTO ${t} (id, vc) VALUES (99, 'extra')`);
    for (const [, id, set] of DAMAGE) await sql.unsafe(`UPDATE ${t} SET ${set} WHERE id = ${id}`);
    // NULL-ness both ways: NULL is not '' and a value is not NULL.
    await sql.unsafe(`UPDATE ${t} SET tx = '' WHERE id = 1`);
    await sql.unsafe(`UPDATE ${t} SET vc = NULL WHERE id = 34`);
    await sql.unsafe(`DELETE FROM "${name}".nokey WHERE ctid = (SELECT min(ctid) FROM "${name}".nokey WHERE a = 1)`);
    await sql.unsafe(`INSERT INTO "${name}".nokey VALUES (4, 'd')`);
    await sql.unsafe(`UPDATE "${name}".textkey SET n = 60 WHERE code = 'C '`);
    await sql.unsafe(`DELETE FROM "${name}".textkey WHERE code = 'beta'`);

    const repair = join(j.dir, "..", "repair.sql");
    const damaged = await runCli(["check", "--config", cfg, "--data", "--json", "--repair-sql", repair]);
    expect(damaged.code).toBe(3);
    expect(damaged.stderr).toContain("CHECK_FAILED");
    const report = JSON.parse(damaged.stdout) as Report;
    expect(report.passed).toBe(false);
    const every = report.tables.find((x) => x.table === `${name}.every`)!;
    expect(every.status).toBe("differs");
    expect(every.missing).toEqual([{ id: "33" }]);
    expect(every.extra).toEqual([{ id: "99" }]);
    const changed = new Map(every.different.map((d) => [Number(d.key.id), d.columns]));
    for (const [column, id] of DAMAGE) expect([column, id, changed.get(id)]).toEqual([column, id, [column]]);
    expect(changed.get(1)).toEqual(["tx"]);
    expect(changed.get(34)).toEqual(["vc"]);
    expect(changed.size).toBe(DAMAGE.length + 2);
    const nokey = report.tables.find((x) => x.table === `${name}.nokey`)!;
    expect([nokey.status, nokey.sourceOnlyRows, nokey.targetOnlyRows]).toEqual(["differs", 1, 1]);
    const textkey = report.tables.find((x) => x.table === `${name}.textkey`)!;
    expect(textkey.missing).toEqual([{ code: "beta" }]);
    expect(textkey.different).toEqual([{ key: { code: "C " }, columns: ["n"] }]);

    // The text report names rows by key, one line each.
    const text = await runCli(["check", "--config", cfg, "--data", "--tables", `${name}.every`]);
    expect(text.code).toBe(3);
    expect(text.stdout).toContain(`missing on target  ${name}.every  id=33`);
    expect(text.stdout).toContain(`extra on target    ${name}.every  id=99`);
    expect(text.stdout).toContain(`different          ${name}.every  id=30: js`);
    expect(text.stdout).not.toContain(`${name}.nokey`);

    const one = await sql.reserve(); // the file is one transaction: BEGIN … COMMIT on one connection
    await one.unsafe(readFileSync(repair, "utf8"));
    one.release();
    await sql.end();
    const repaired = await runCli(["check", "--config", cfg, "--data"]);
    expect(repaired.stdout).not.toContain("DIFFERS");
    expect(repaired.code).toBe(0);
  }, 120_000);

  test("--tables names an unknown table: usage error, exit 2", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("chk_tables");
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY)`);
    await c.end();
    const cfg = await pipelineConfig(db, pg, name, name, await currentPosition(), journalTransport().toml);
    const r = await runCli(["check", "--config", cfg, "--data", "--tables", `${name}.nope`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${name}.nope`);
    const misuse = await runCli(["check", "--config", cfg, "--tables", `${name}.t`]);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toContain("--data");
  });
});
