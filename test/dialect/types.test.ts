// The type table: every MySQL type's target type per dialect, README in step with the code,
// and values: edge values of every type inserted on MariaDB, taken from its binlog (the values
// the sink receives), sent through toParam into the translated PostgreSQL table, read back and
// compared with MariaDB's as numbers, instants, durations, bytes and JSON, not as strings.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDdl } from "../../src/binlog/ddl.ts";
import type { ColumnType } from "../../src/binlog/ddl-model.ts";
import { TargetCatalog, translateDdl } from "../../src/dialect/ddl.ts";
import { familyOf, mapType, renderTypeTable, TYPE_TABLE } from "../../src/dialect/types.ts";
import { toParam } from "../../src/dialect/values.ts";
import { describeColumn } from "../../src/events/values.ts";
import { ReplicateError } from "../../src/errors.ts";
import { currentPosition, readItems } from "../support/binlog.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";

/** The declared types of `CREATE TABLE t (…)`, by column name. */
function types(columns: string): Record<string, ColumnType> {
  const ddl = parseDdl(`CREATE TABLE t (${columns})`, { database: "d", flavour: "mariadb" });
  if (ddl.kind !== "create_table") throw new Error(ddl.kind === "unparsed" ? ddl.reason : ddl.kind);
  return Object.fromEntries(ddl.columns.map((c) => [c.name, c.type]));
}

describe("the table", () => {
  const cases: Array<[string, string, string]> = [
    ["BOOL", "smallint", "smallint"],
    ["TINYINT(1)", "smallint", "smallint"],
    ["TINYINT", "smallint", "smallint"],
    ["TINYINT UNSIGNED", "smallint", "smallint"],
    ["SMALLINT", "smallint", "smallint"],
    ["SMALLINT UNSIGNED", "integer", "integer"],
    ["MEDIUMINT", "integer", "integer"],
    ["MEDIUMINT UNSIGNED ZEROFILL", "integer", "integer"],
    ["INT(11)", "integer", "integer"],
    ["INT UNSIGNED", "bigint", "bigint"],
    ["BIGINT", "bigint", "bigint"],
    ["BIGINT UNSIGNED", "numeric(20,0)", "numeric(20,0)"],
    ["SERIAL", "numeric(20,0)", "numeric(20,0)"],
    ["DECIMAL(65,30)", "numeric(65,30)", "numeric(65,30)"],
    ["DECIMAL", "numeric(10,0)", "numeric(10,0)"],
    ["NUMERIC(5,2) UNSIGNED", "numeric(5,2)", "numeric(5,2)"],
    ["FLOAT", "real", "real"],
    ["FLOAT(7,3)", "real", "real"],
    ["FLOAT(30)", "double precision", "double precision"],
    ["DOUBLE", "double precision", "double precision"],
    ["REAL", "double precision", "double precision"],
    ["BIT", "bit(1)", "bit(1)"],
    ["BIT(64)", "bit(64)", "bit(64)"],
    ["YEAR", "smallint", "smallint"],
    ["DATE", "date", "date"],
    ["DATETIME", "timestamp(0) without time zone", "timestamp(0) without time zone"],
    ["DATETIME(6)", "timestamp(6) without time zone", "timestamp(6) without time zone"],
    ["TIMESTAMP(3)", "timestamp(3) with time zone", "timestamp(3) with time zone"],
    ["TIME", "interval(0)", "interval(0)"],
    ["TIME(6)", "interval(6)", "interval(6)"],
    ["CHAR(10)", "character(10)", "character(40)"],
    ["CHAR", "character(1)", "character(4)"],
    ["CHAR(0)", "character(1)", "character(4)"],
    ["VARCHAR(255)", "character varying(255)", "nvarchar2(255)"],
    ["NATIONAL VARCHAR(3)", "character varying(3)", "nvarchar2(3)"],
    ["TINYTEXT", "text", "text"],
    ["TEXT(100)", "text", "text"],
    ["LONG VARCHAR", "text", "text"],
    ["LONGTEXT", "text", "text"],
    ["BINARY(16)", "bytea", "bytea"],
    ["VARBINARY(3)", "bytea", "bytea"],
    ["VARCHAR(8) CHARACTER SET binary", "bytea", "bytea"],
    ["BLOB", "bytea", "bytea"],
    ["LONGBLOB", "bytea", "bytea"],
    ["ENUM('a','bcd')", "character varying(3)", "nvarchar2(3)"],
    ["ENUM('ä€')", "character varying(2)", "nvarchar2(2)"],
    ["ENUM('a  ','bb')", "character varying(2)", "nvarchar2(2)"],
    ["SET('a','bcd','e')", "character varying(7)", "nvarchar2(7)"],
    ["JSON", "jsonb", "jsonb"],
    ["GEOMETRY", "bytea", "bytea"],
    ["POINT", "bytea", "bytea"],
    ["MULTIPOLYGON", "bytea", "bytea"],
  ];
  test("every MySQL type has its target type on PostgreSQL and openGauss (mode A)", () => {
    const decl = cases.map(([t], i) => `c${i} ${t}`).join(", ");
    const ts = types(decl);
    const got = cases.map(([t], i) => [t, mapType(ts[`c${i}`]!, "postgresql").mapped?.sql, mapType(ts[`c${i}`]!, "opengauss").mapped?.sql]);
    expect(got).toEqual(cases);
  });

  test("ENUM/SET keep their members for the CHECK (trailing spaces dropped, as MySQL stores them); MariaDB-only types have no mapping", () => {
    const ts = types("e ENUM('x  ','y'), s SET('p'), u UUID, i6 INET6, i4 INET4, v VECTOR(3)");
    expect(mapType(ts.e!, "postgresql").mapped!.members).toEqual({ kind: "enum", values: ["x", "y"] });
    expect(mapType(ts.s!, "postgresql").mapped!.members).toEqual({ kind: "set", values: ["p"] });
    for (const n of ["u", "i6", "i4", "v"]) {
      const r = mapType(ts[n]!, "postgresql");
      expect(r.mapped).toBeUndefined();
      expect(r.row!.note).toContain("TARGET_DDL_INCOMPATIBLE");
    }
  });

  test("families of target types as the catalog spells them", () => {
    const f = [
      "smallint",
      "numeric(20,0)",
      "double precision",
      "bit(3)",
      "character(4)",
      "nvarchar2(9)",
      "text",
      "bytea",
      "date",
      "timestamp(0) without time zone",
      "timestamp(3) with time zone",
      "interval(6)",
      "jsonb",
      "uint4",
    ].map(familyOf);
    expect(f).toEqual(["int", "numeric", "float", "bit", "text", "text", "text", "bytes", "date", "timestamp", "timestamptz", "interval", "json", "other"]);
  });

  test("every row matches some type, and the first match wins", () => {
    for (const row of TYPE_TABLE) expect(row.postgresql === null).toBe(row.opengauss === null);
    expect(mapType(types("b BOOL").b!, "postgresql").row!.mysql).toBe("TINYINT(1), BOOL, BOOLEAN");
    expect(mapType(types("b TINYINT(1) UNSIGNED").b!, "postgresql").row!.mysql).toBe("TINYINT UNSIGNED");
  });

  test("docs/types.md's table is this table", () => {
    const section = readFileSync(join(import.meta.dir, "../../docs/types.md"), "utf8");
    const table = section
      .split("\n")
      .filter((l) => l.startsWith("|"))
      .join("\n");
    expect(table).toBe(renderTypeTable());
  });
});

// ---------------------------------------------------------------- values through the mapping

/** A DATETIME as seconds|microseconds since 1970-01-01 00:00 (wall clock), exactly: TIMESTAMPDIFF(MICROSECOND) goes through a double. */
const SECONDS = (c: string) => `CONCAT(TIMESTAMPDIFF(SECOND, '1970-01-01', DATE_FORMAT(${c}, '%Y-%m-%d %H:%i:%s')), '|', MICROSECOND(${c}))`;

const PG_SECONDS = (c: string) => `extract(epoch from date_trunc('second', ${c}))::bigint || '|' || extract(microseconds from ${c})::bigint % 1000000`;

/** Every type, with values at its edges; the SELECT expressions read both sides as comparable values. */
const COLUMNS: Array<{ name: string; type: string; values: string[]; my: string; pg: string; as: "text" | "number" | "float32" | "bigint" | "micros" | "json" }> = [
  { name: "ti", type: "TINYINT", values: ["-128", "127"], my: "CAST(ti AS CHAR)", pg: "ti::text", as: "bigint" },
  { name: "tu", type: "TINYINT UNSIGNED", values: ["0", "255"], my: "CAST(tu AS CHAR)", pg: "tu::text", as: "bigint" },
  { name: "b1", type: "BOOL", values: ["2", "-1"], my: "CAST(b1 AS CHAR)", pg: "b1::text", as: "bigint" },
  { name: "si", type: "SMALLINT", values: ["-32768", "32767"], my: "CAST(si AS CHAR)", pg: "si::text", as: "bigint" },
  { name: "su", type: "SMALLINT UNSIGNED", values: ["0", "65535"], my: "CAST(su AS CHAR)", pg: "su::text", as: "bigint" },
  { name: "mi", type: "MEDIUMINT", values: ["-8388608", "8388607"], my: "CAST(mi AS CHAR)", pg: "mi::text", as: "bigint" },
  { name: "mu", type: "MEDIUMINT UNSIGNED", values: ["0", "16777215"], my: "CAST(mu AS CHAR)", pg: "mu::text", as: "bigint" },
  { name: "i", type: "INT", values: ["-2147483648", "2147483647"], my: "CAST(i AS CHAR)", pg: "i::text", as: "bigint" },
  { name: "iu", type: "INT UNSIGNED", values: ["0", "4294967295"], my: "CAST(iu AS CHAR)", pg: "iu::text", as: "bigint" },
  { name: "bi", type: "BIGINT", values: ["-9223372036854775808", "9223372036854775807"], my: "CAST(bi AS CHAR)", pg: "bi::text", as: "bigint" },
  { name: "bu", type: "BIGINT UNSIGNED", values: ["0", "18446744073709551615"], my: "CAST(bu AS CHAR)", pg: "bu::text", as: "bigint" },
  {
    name: "de",
    type: "DECIMAL(65,30)",
    values: ["-99999999999999999999999999999999999.999999999999999999999999999999", "0.000000000000000000000000000001"],
    my: "CAST(de AS CHAR)",
    pg: "de::text",
    as: "text",
  },
  { name: "f", type: "FLOAT", values: ["3.40282e38", "-1.17549e-38"], my: "CAST(f AS DOUBLE)", pg: "f::float8::text", as: "float32" },
  { name: "d", type: "DOUBLE", values: ["1.7976931348623157e308", "-2.2250738585072014e-308"], my: "CAST(d AS CHAR)", pg: "d::text", as: "number" },
  {
    name: "b64",
    type: "BIT(64)",
    values: ["b'1111111111111111111111111111111111111111111111111111111111111111'", "b'1'"],
    my: "CAST(b64 + 0 AS CHAR)",
    pg: "b64::bigint::numeric % 18446744073709551616 + CASE WHEN b64::bigint < 0 THEN 18446744073709551616 ELSE 0 END",
    as: "bigint",
  },
  { name: "b3", type: "BIT(3)", values: ["b'101'", "b'000'"], my: "CAST(b3 + 0 AS CHAR)", pg: "b3::integer::text", as: "bigint" },
  { name: "y", type: "YEAR", values: ["1901", "2155"], my: "CAST(y AS CHAR)", pg: "y::text", as: "bigint" },
  { name: "dt", type: "DATE", values: ["'1000-01-01'", "'9999-12-31'"], my: SECONDS("dt"), pg: PG_SECONDS("dt::timestamp"), as: "micros" },
  {
    name: "dtm",
    type: "DATETIME(6)",
    values: ["'1000-01-01 00:00:00.000001'", "'9999-12-31 23:59:59.999999'"],
    my: SECONDS("dtm"),
    pg: PG_SECONDS("dtm"),
    as: "micros",
  },
  {
    name: "ts",
    type: "TIMESTAMP(6)",
    values: ["'1970-01-01 00:00:01.000000'", "'2038-01-19 03:14:07.999999'"],
    my: "UNIX_TIMESTAMP(ts)",
    pg: "extract(epoch from ts)",
    as: "micros",
  },
  { name: "tm", type: "TIME(6)", values: ["'-838:59:59.000000'", "'838:59:59.000000'"], my: "TIME_TO_SEC(tm)", pg: "extract(epoch from tm)", as: "micros" },
  { name: "tf", type: "TIME(1)", values: ["'-00:00:00.5'", "'25:00:01.9'"], my: "TIME_TO_SEC(tf)", pg: "extract(epoch from tf)", as: "micros" },
  { name: "c", type: "CHAR(4)", values: ["'äö€'", "''"], my: "c", pg: "rtrim(c)", as: "text" },
  { name: "v", type: "VARCHAR(10)", values: ["'ünïcødé😀'", "' x '"], my: "v", pg: "v", as: "text" },
  { name: "mt", type: "MEDIUMTEXT", values: ["REPEAT('ab€', 40000)", "'line\\nbreak\\ttab\\\\'"], my: "mt", pg: "mt", as: "text" },
  { name: "bn", type: "BINARY(4)", values: ["x'00ff'", "x'01020304'"], my: "HEX(bn)", pg: "upper(encode(bn, 'hex'))", as: "text" },
  { name: "vb", type: "VARBINARY(16)", values: ["x'00ff00'", "''"], my: "HEX(vb)", pg: "upper(encode(vb, 'hex'))", as: "text" },
  { name: "lb", type: "LONGBLOB", values: ["REPEAT(x'00ff80', 50000)", "x'5c'"], my: "HEX(lb)", pg: "upper(encode(lb, 'hex'))", as: "text" },
  { name: "e", type: "ENUM('red','green','blue')", values: ["'blue'", "'red'"], my: "e", pg: "e", as: "text" },
  { name: "s", type: "SET('a','b','c')", values: ["'c,a'", "''"], my: "s", pg: "s", as: "text" },
  { name: "j", type: "JSON", values: [`'{"a": [1, 2.5, "x\\\\u00e9"], "b": null, "c": {"d": true}}'`, "'[]'"], my: "CAST(j AS CHAR)", pg: "j::text", as: "json" },
  {
    name: "g",
    type: "GEOMETRY",
    values: ["ST_GeomFromText('POINT(1 2)', 4326)", "ST_GeomFromText('LINESTRING(0 0, 1 1.5)')"],
    my: "HEX(g)",
    pg: "upper(encode(g, 'hex'))",
    as: "text",
  },
];

/** Decimal seconds ("-1.5", "1.500000") or "seconds|microseconds" → integer microseconds. */
function micros(text: string): bigint {
  if (text.includes("|")) {
    const [sec, us] = text.split("|");
    return BigInt(sec!) * 1_000_000n + BigInt(us!);
  }
  const neg = text.startsWith("-");
  const [int, frac = ""] = (neg ? text.slice(1) : text).split(".");
  const us = BigInt(int || "0") * 1_000_000n + BigInt((frac + "000000").slice(0, 6));
  return neg ? -us : us;
}

function comparable(v: unknown, as: string): unknown {
  if (v === null || v === undefined) return null;
  const s = v instanceof Uint8Array ? Buffer.from(v).toString() : String(v);
  switch (as) {
    case "bigint":
      return BigInt(s);
    case "number":
      return Number(s);
    case "float32":
      return Math.fround(Number(s));
    case "micros":
      return micros(s);
    case "json":
      return JSON.parse(s);
    default:
      return s;
  }
}

describe.each(TARGETS)("values (%s)", (dialect) => {
  test("edge values of every type: MariaDB → binlog → toParam → the target, equal as values", async () => {
    const m = await getMariadb();
    const pg = await getTarget(dialect);
    const db = uniqueName("types");
    const pgdb = uniqueName("typespg");
    await pg.createDatabase(pgdb);
    // The sink's own connection: temporals as text, since postgres.js would pass them through a
    // JS Date (milliseconds); JSON as text too (postgres.js would store a JSON string).
    const sql = pg.productSql(pgdb);
    const my = await m.connect();
    try {
      await my.query(`CREATE DATABASE ${db}`);
      await my.query(`USE ${db}`);
      await my.query("SET time_zone = '+00:00'");
      const create = `CREATE TABLE vals (id INT PRIMARY KEY, ${COLUMNS.map((c) => `${c.name} ${c.type}`).join(", ")}) DEFAULT CHARSET=utf8mb4`;
      await my.query(create);
      const translated = translateDdl(parseDdl(create, { database: db, flavour: "mariadb" }), {
        dialect,
        schemaMapping: {},
        gtid: null,
        position: "test",
        catalog: TargetCatalog.empty(),
        flavour: "mariadb",
      });
      await sql.unsafe(`CREATE SCHEMA "${db}"`);
      for (const s of translated.statements) await sql.unsafe(s);

      const from = await currentPosition(m);
      for (let r = 0; r < 2; r++) await my.query(`INSERT INTO vals VALUES (${r + 1}, ${COLUMNS.map((c) => c.values[r]).join(", ")})`);
      await my.query(`INSERT INTO vals (id) VALUES (3)`);
      const rows = (await readItems([db], from, m)).flatMap((it) => (it.kind === "rows" ? it.rows.map((row) => ({ table: it.table, after: row.after! })) : []));
      expect(rows).toHaveLength(3);
      for (const { table, after } of rows) {
        const params = table.columns.map((col, i) => toParam(describeColumn(col, col.name), after[i]!, { zeroDate: "error" }, () => col.name));
        const names = table.columns.map((c) => `"${c.name}"`).join(", ");
        await sql.unsafe(`INSERT INTO "${db}"."vals" (${names}) VALUES (${params.map((_, i) => `$${i + 1}`).join(", ")})`, params as never[]);
      }

      const [src] = (await my.query(`SELECT id, ${COLUMNS.map((c) => `${c.my} AS ${c.name}`).join(", ")} FROM vals ORDER BY id`)) as unknown as [Array<Record<string, unknown>>];
      // Read back with the tests' client: numerics with their leading zero on openGauss too.
      const read = pg.sql(pgdb);
      const dst = await read.unsafe(`SELECT id, ${COLUMNS.map((c) => `(${c.pg})::text AS ${c.name}`).join(", ")} FROM "${db}"."vals" ORDER BY id`);
      await read.end();
      expect(dst).toHaveLength(3);
      for (let r = 0; r < 3; r++) {
        for (const c of COLUMNS) {
          const where = `row ${r + 1} ${c.name} ${c.type}`;
          expect({ where, value: comparable(dst[r]![c.name], c.as) }).toEqual({ where, value: comparable(src[r]![c.name], c.as) });
        }
      }
    } finally {
      await my.end();
      await sql.end();
    }
  });

  test("MySQL zero dates follow [sink] zero_date: an error naming the row, or NULL", async () => {
    const m = await getMariadb();
    const my = await m.connect();
    const db = uniqueName("zero");
    try {
      await my.query(`CREATE DATABASE ${db}`);
      await my.query(`USE ${db}`);
      await my.query("SET sql_mode = ''");
      await my.query("CREATE TABLE z (id INT PRIMARY KEY, d DATE, dt DATETIME)");
      const from = await currentPosition(m);
      await my.query("INSERT INTO z VALUES (1, '0000-00-00', '2024-02-30 10:00:00')");
      const item = (await readItems([db], from, m)).find((it) => it.kind === "rows");
      if (item?.kind !== "rows") throw new Error("no rows event");
      const [, d, dt] = item.table.columns;
      const row = item.rows[0]!.after!;
      expect(toParam(describeColumn(d!, "d"), row[1]!, { zeroDate: "null" }, () => "z.d")).toBeNull();
      expect(toParam(describeColumn(dt!, "dt"), row[2]!, { zeroDate: "null" }, () => "z.dt")).toBeNull();
      let err: unknown;
      try {
        toParam(describeColumn(d!, "d"), row[1]!, { zeroDate: "error" }, () => "z.d of row (id=1)");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ReplicateError);
      expect((err as ReplicateError).message).toContain("'0000-00-00' has no equivalent on the target (z.d of row (id=1))");
    } finally {
      await my.end();
    }
  });
});
