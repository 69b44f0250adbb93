// The copy's row reader against the binlog path, on a real MariaDB: for a table with every type
// of src/dialect/types.ts and edge values, the values rowReader decodes from a SELECT equal the
// values the binlog decoder gives for the same rows (after their AVRO round trip, as the sink
// reads them), descriptorOf equals the log's descriptors, and COPY … FROM STDIN of copyText's
// lines gives a target table equal, row by row as text, to the one the sink filled from the log.
import { describe, expect, test } from "bun:test";
import type mysql from "mysql2/promise";
import { SchemaHistory } from "../../src/binlog/schema.ts";
import type { BinlogValue } from "../../src/binlog/types.ts";
import { copyText } from "../../src/copy/copy-text.ts";
import { descriptorOf, QUERY_OPTIONS, rowReader, SESSION_SETUP } from "../../src/copy/rows.ts";
import { ReplicateError } from "../../src/errors.ts";
import { describeColumn, fromAvro, toAvro } from "../../src/events/values.ts";
import { currentPosition, readItems } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, type MariaDb, TARGETS, uniqueName } from "../support/servers.ts";
import { COLUMNS, ROWS } from "../support/every-type.ts";

/** Doubles from random bit patterns (finite ones), each written as JavaScript's shortest text. */
function randomDoubles(n: number): number[] {
  const out: number[] = [];
  const view = new DataView(new ArrayBuffer(8));
  while (out.length < n) {
    for (let i = 0; i < 8; i++) view.setUint8(i, Math.floor(Math.random() * 256));
    const x = view.getFloat64(0);
    if (Number.isFinite(x) && !Object.is(x, -0)) out.push(x);
  }
  return out;
}

interface Source {
  name: string;
  from: { file: string; pos: number };
}

async function sourceTables(db: MariaDb, c: mysql.Connection): Promise<Source> {
  const name = uniqueName("copyrows");
  await c.query(`CREATE DATABASE ${name}`);
  const from = await currentPosition(db);
  await c.query(`SET time_zone = '+00:00', sql_mode = ''`);
  await c.query(`CREATE TABLE ${name}.t (${COLUMNS}) CHARACTER SET utf8mb4`);
  await c.query(`INSERT INTO ${name}.t VALUES ${ROWS.join(", ")}`);
  await c.query(`CREATE TABLE ${name}.fl (id INT PRIMARY KEY, d DOUBLE, f FLOAT)`);
  const values = randomDoubles(2000).map((x, i) => `(${i}, ${String(x)}, ${Math.abs(x) < 3.4e38 ? String(x) : "NULL"})`);
  await c.query(`INSERT INTO ${name}.fl VALUES ${values.join(", ")}`);
  // -0.0 by underflow (a literal -0.0 is stored as 0), and the extremes of FLOAT.
  await c.query(
    `INSERT INTO ${name}.fl VALUES (5000, -1e-300 * 1e-300, -1e-60), (5001, 1e-300 * 1e-300, 1e-60), (5002, -0e0, -0e0), (5003, 2.2250738585072014e-308, 1.17549435e-38), (5004, 2.225073858507201e-308, 3.4028235e38)`,
  );
  return { name, from };
}

/** Each table's rows as the binlog path gives them: decoded, through AVRO and back, by id. */
async function binlogRows(db: MariaDb, src: Source) {
  const out = new Map<string, { descriptors: ReturnType<typeof describeColumn>[]; rows: BinlogValue[][] }>();
  for (const it of await readItems([src.name], src.from, db)) {
    if (it.kind !== "rows") continue;
    const descriptors = it.table.columns.map((col) => describeColumn(col, col.name));
    const entry = out.get(it.table.table) ?? { descriptors, rows: [] };
    for (const r of it.rows) entry.rows.push(r.after!.map((v, i) => fromAvro(descriptors[i]!, toAvro(descriptors[i]!, v, it.table.columns[i]!.name))));
    out.set(it.table.table, entry);
  }
  for (const e of out.values()) e.rows.sort((a, b) => Number(a[0]) - Number(b[0]));
  return out;
}

async function readerRows(c: mysql.Connection, src: Source, table: string) {
  const history = await SchemaHistory.snapshot(async (q) => ((await c.query(q)) as unknown as [Array<Record<string, unknown>>])[0], [src.name]);
  const def = history.table(src.name, table)!;
  const reader = rowReader(def, "mariadb");
  for (const s of SESSION_SETUP) await c.query(s);
  const [rows] = (await c.query({ sql: `SELECT ${reader.selectList} FROM ${src.name}.${table} ORDER BY id`, ...QUERY_OPTIONS })) as unknown as [unknown[][]];
  return { def, reader, rows: rows.map((r) => reader.decode(r)) };
}

describe("copy row reader: SELECT = binlog", () => {
  test("every type: rowReader's values and descriptorOf equal the binlog path's", async () => {
    const db = await getMariadb();
    const c = await db.connect();
    const src = await sourceTables(db, c);
    const logged = await binlogRows(db, src);
    for (const table of ["t", "fl"]) {
      const { def, reader, rows } = await readerRows(c, src, table);
      const log = logged.get(table)!;
      // The underflow row does hold -0.0 in the binlog's FLOAT (a DOUBLE's underflow here gave 0), so the comparison below covers it.
      if (table === "fl") expect(Object.is(log.rows.find((r) => r[0] === 5000)![2], -0)).toBe(true);
      expect(def.columns.map(descriptorOf)).toEqual(log.descriptors);
      expect(reader.descriptors).toEqual(log.descriptors);
      expect(rows.length).toBe(log.rows.length);
      for (let r = 0; r < rows.length; r++) {
        for (let i = 0; i < def.columns.length; i++) {
          const a = rows[r]![i];
          const b = log.rows[r]![i];
          const where = `${table} row ${String(log.rows[r]![0])} column ${def.columns[i]!.name}: ${Object.is(a, -0) ? "-0" : String(a)} vs ${Object.is(b, -0) ? "-0" : String(b)}`;
          // Same JS type and value; Object.is tells -0 from 0.
          expect([where, typeof a, a instanceof Uint8Array ? "bytes" : "", typeof a === "number" ? Object.is(a, b) : a]).toEqual([
            where,
            typeof b,
            b instanceof Uint8Array ? "bytes" : "",
            typeof b === "number" ? true : b,
          ]);
        }
      }
    }
    await c.end();
  }, 120_000);

  test("a NUL in text is refused with the sink's error; zero dates follow zero_date", async () => {
    const db = await getMariadb();
    const c = await db.connect();
    const name = uniqueName("copynul");
    await c.query(`SET sql_mode = ''`);
    await c.query(`CREATE DATABASE ${name}`);
    await c.query(`CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(10), dt DATE)`);
    await c.query(`INSERT INTO ${name}.t VALUES (1, 'a\\0b', '2024-01-01'), (2, 'ok', '0000-00-00'), (3, 'ok', '2024-00-10')`);
    const { reader, rows } = await readerRows(c, { name, from: { file: "", pos: 0 } }, "t");
    await c.end();
    const attempt = (row: BinlogValue[], zeroDate: "error" | "null", inKey = [true, false, false]) => {
      try {
        return copyText(reader.descriptors, row, { zeroDate }, inKey, () => `${name}.t row ${String(row[0])}`);
      } catch (e) {
        return e;
      }
    };
    const nul = attempt(rows[0]!, "null") as ReplicateError;
    expect(nul).toBeInstanceOf(ReplicateError);
    expect([nul.code, nul.message]).toEqual(["TARGET_DATA", `a text value contains a NUL character, which the target cannot store (${name}.t row 1)`]);
    const zero = attempt(rows[1]!, "error") as ReplicateError;
    expect([zero.code, zero.message.startsWith(`MySQL zero or invalid date '0000-00-00' has no equivalent on the target (${name}.t row 2)`)]).toEqual(["TARGET_DATA", true]);
    expect((attempt(rows[2]!, "error") as ReplicateError).code).toBe("TARGET_DATA");
    expect(attempt(rows[1]!, "null")).toBe("2\tok\t\\N\n");
    expect(attempt(rows[2]!, "null")).toBe("3\tok\t\\N\n");
    // In a key column the all-zero date is -infinity, an invalid one has no key value at all.
    expect(attempt(rows[1]!, "null", [true, false, true])).toBe("2\tok\t-infinity\n");
    expect((attempt(rows[2]!, "null", [true, false, true]) as ReplicateError).code).toBe("TARGET_DATA");
  }, 60_000);
});

describe.each(TARGETS)("copy row reader: COPY FROM STDIN = sink (%s)", (dialect) => {
  test("the table COPY filled equals, row by row as text, the table the sink filled", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const c = await db.connect();
    const src = await sourceTables(db, c);
    await pg.createDatabase(src.name);
    const sql = pg.sql(src.name);
    await sql.unsafe(`CREATE SCHEMA "${src.name}"`);
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, src.name, src.name, src.from, j.toml, `zero_date = "null"`);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.stderr).not.toContain("ERROR");
    expect(k.code).toBe(0);
    for (const table of ["t", "fl"]) {
      const { reader, rows } = await readerRows(c, src, table);
      const copy = `${table}_copy`;
      // The sink's own table shape (column types), without its rows.
      await sql.unsafe(`CREATE TABLE "${src.name}"."${copy}" AS SELECT * FROM "${src.name}"."${table}" WHERE false`);
      const inKey = reader.descriptors.map((_, i) => i === 0);
      const stream = await sql`COPY ${sql(src.name)}.${sql(copy)} FROM STDIN`.writable();
      for (const row of rows) stream.write(copyText(reader.descriptors, row, { zeroDate: "null" }, inKey, () => `${table} row ${String(row[0])}`));
      await new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())).on("error", reject));
      const text = (t: string) => sql.unsafe(`SELECT x::text AS r FROM "${src.name}"."${t}" x ORDER BY id`);
      const sunk = (await text(table)).map((r) => r.r as string);
      const copied = (await text(copy)).map((r) => r.r as string);
      expect(copied.length).toBe(rows.length);
      expect(copied).toEqual(sunk);
    }
    await c.end();
    await sql.end();
  }, 180_000);
});
