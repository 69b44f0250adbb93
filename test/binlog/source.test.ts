// The binlog layer end to end against the private MariaDB 10.11: transactions, positions,
// DDL, rotation, starts from file:pos and GTID, reconnect.
import { describe, expect, test } from "bun:test";
import { BinlogSource } from "../../src/binlog/source.ts";
import type { StreamItem } from "../../src/binlog/transactions.ts";
import { ReplicateError } from "../../src/errors.ts";
import { getMariadb, startMariadb, uniqueName } from "../support/servers.ts";
import { currentPosition, readItems, rowObjects, sourceConfigFor } from "../support/binlog.ts";

describe("binlog source (MariaDB)", () => {
  test("a multi-table transaction arrives whole, in order, with GTID and positions", async () => {
    const db = await getMariadb();
    const name = uniqueName("tx");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.a (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE ${name}.b (id BIGINT PRIMARY KEY, n INT)`);
    const from = await currentPosition();
    await c.query(
      `BEGIN; INSERT INTO ${name}.a VALUES (1,'one'),(2,'two'); INSERT INTO ${name}.b VALUES (10, 100); UPDATE ${name}.a SET v='uno' WHERE id=1; DELETE FROM ${name}.b WHERE id=10; COMMIT`,
    );
    const [[{ gtid }]] = (await c.query("SELECT @@gtid_binlog_pos AS gtid")) as unknown as [[{ gtid: string }]];
    await c.end();
    const items = await readItems([name], from);
    expect(items.map((i) => i.kind)).toEqual(["begin", "rows", "rows", "rows", "rows", "commit"]);
    const begin = items[0]!;
    const commit = items.at(-1)!;
    if (begin.kind !== "begin" || commit.kind !== "commit") throw new Error("shape");
    expect(begin.gtid).toBe(gtid);
    expect(begin.file).toBe(from.file);
    expect(begin.pos).toBe(from.pos);
    expect(commit.pos).toBe((await currentPosition()).pos);
    expect(rowObjects(items)).toEqual([
      { op: "insert", table: `${name}.a`, before: undefined, after: { id: 1, v: "one" } },
      { op: "insert", table: `${name}.a`, before: undefined, after: { id: 2, v: "two" } },
      { op: "insert", table: `${name}.b`, before: undefined, after: { id: 10n, n: 100 } },
      { op: "update", table: `${name}.a`, before: { id: 1, v: "one" }, after: { id: 1, v: "uno" } },
      { op: "delete", table: `${name}.b`, before: { id: 10n, n: 100 }, after: undefined },
    ]);
  });

  test("DDL is a one-statement transaction with its default database", async () => {
    const db = await getMariadb();
    const name = uniqueName("ddl");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}`);
    const from = await currentPosition();
    await c.query(`USE ${name}; CREATE TABLE t (id INT PRIMARY KEY); ALTER TABLE t ADD COLUMN x INT`);
    await c.end();
    const items = (await readItems([name], from)).filter((i) => i.kind === "ddl");
    expect(items).toEqual([
      expect.objectContaining({ kind: "ddl", database: name, statement: "CREATE TABLE t (id INT PRIMARY KEY)" }),
      expect.objectContaining({ kind: "ddl", database: name, statement: "ALTER TABLE t ADD COLUMN x INT" }),
    ]);
  });

  test("FLUSH BINARY LOGS mid-stream: reading continues in the next file", async () => {
    const db = await getMariadb();
    const name = uniqueName("rot");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY)`);
    const from = await currentPosition();
    await c.query(`INSERT INTO ${name}.t VALUES (1); FLUSH BINARY LOGS; INSERT INTO ${name}.t VALUES (2)`);
    await c.end();
    const items = await readItems([name], from);
    const commits = items.filter((i) => i.kind === "commit");
    const ids = rowObjects(items).map((r) => r.after?.id);
    expect(ids).toEqual([1, 2]);
    expect(commits.length).toBeGreaterThanOrEqual(2);
    const files = new Set(commits.map((i) => (i.kind === "commit" ? i.file : "")));
    expect(files.size).toBe(2);
  });

  test("rows of other databases are filtered out", async () => {
    const db = await getMariadb();
    const a = uniqueName("keep");
    const b = uniqueName("drop");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${a}; CREATE DATABASE ${b}; CREATE TABLE ${a}.t (id INT PRIMARY KEY); CREATE TABLE ${b}.t (id INT PRIMARY KEY)`);
    const from = await currentPosition();
    await c.query(`INSERT INTO ${a}.t VALUES (1); INSERT INTO ${b}.t VALUES (2)`);
    await c.end();
    expect(rowObjects(await readItems([a], from)).map((r) => r.table)).toEqual([`${a}.t`]);
  });
});

describe("binlog source starts and restarts", () => {
  test("start from a MariaDB GTID continues right after that transaction", async () => {
    const db = await getMariadb();
    const name = uniqueName("gtid");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY)`);
    await c.query(`INSERT INTO ${name}.t VALUES (1)`);
    const [[{ gtid }]] = (await c.query("SELECT @@gtid_binlog_pos AS gtid")) as unknown as [[{ gtid: string }]];
    await c.query(`INSERT INTO ${name}.t VALUES (2); INSERT INTO ${name}.t VALUES (3)`);
    await c.end();
    const source = new BinlogSource({ config: await sourceConfigFor(undefined, { databases: [name] }), start: { kind: "gtid", set: gtid }, stopAtEnd: true, maxRetries: 0 });
    const items: StreamItem[] = [];
    for await (const item of source.items()) items.push(item);
    expect(rowObjects(items).map((r) => r.after?.id)).toEqual([2, 3]);
  });

  test("reconnects after the server restarts and resumes after the last commit, exactly once", async () => {
    const db = await startMariadb();
    try {
      const c = await db.connect();
      await c.query("CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY)");
      const from = await currentPosition(db);
      await c.query("INSERT INTO r.t VALUES (1), (2)");
      await c.end();
      const warnings: string[] = [];
      const abort = new AbortController();
      const source = new BinlogSource({
        config: await sourceConfigFor(db, { databases: ["r"], heartbeat_seconds: 1 }),
        start: { kind: "file", ...from },
        stopAtEnd: false,
        signal: abort.signal,
        onWarning: (w) => warnings.push(w),
      });
      const ids: unknown[] = [];
      let restarted = false;
      for await (const item of source.items()) {
        if (item.kind === "rows") for (const r of item.rows) ids.push(r.after?.[0]);
        if (item.kind === "commit" && ids.length === 2 && !restarted) {
          restarted = true;
          await db.restart();
          const c2 = await db.connect();
          await c2.query("INSERT INTO r.t VALUES (3)");
          await c2.end();
        }
        if (ids.length === 3) abort.abort();
        if (abort.signal.aborted) break;
      }
      expect(ids).toEqual([1, 2, 3]);
      expect(warnings.some((w) => w.includes("reconnecting"))).toBe(true);
    } finally {
      await db.stop();
    }
  });

  test("a start position beyond the server's binlogs is a clear, non-retried error", async () => {
    const source = new BinlogSource({ config: await sourceConfigFor(), start: { kind: "file", file: "binlog.999999", pos: 4 }, stopAtEnd: true });
    const err = await (async () => {
      for await (const _ of source.items()) void _;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicateError);
    expect((err as ReplicateError).code).toBe("SOURCE_POSITION_UNKNOWN");
    expect((err as ReplicateError).message).toContain("binlog.999999:4");
    expect((err as ReplicateError).message).toContain("does not exist on the source, which has not written it");
  });
});

describe("MariaDB CREATE TABLE … SELECT", () => {
  test("the DDL and the rows it copied are one transaction", async () => {
    const db = await getMariadb();
    const name = uniqueName("ctas");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.src (id INT PRIMARY KEY); INSERT INTO ${name}.src VALUES (1), (2)`);
    const from = await currentPosition();
    await c.query(`CREATE TABLE ${name}.copy (PRIMARY KEY (id)) SELECT id FROM ${name}.src`);
    await c.end();
    const items = await readItems([name], from);
    expect(items.map((i) => i.kind)).toEqual(["begin", "ddl", "rows", "commit"]);
    expect(rowObjects(items).map((r) => r.after)).toEqual([{ id: 1 }, { id: 2 }]);
  });
});

describe("large events", () => {
  test("a 20 MiB row arrives in packets over 16 MiB and is reassembled exactly", async () => {
    const db = await getMariadb();
    const name = uniqueName("big");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, b LONGBLOB)`);
    const from = await currentPosition();
    const blob = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < blob.length; i += 4096) blob.writeUInt32LE(i, i);
    await c.query(`INSERT INTO ${name}.t VALUES (1, ?)`, [blob]);
    await c.end();
    const [row] = rowObjects(await readItems([name], from));
    const got = row?.after?.b as Uint8Array;
    expect(got.length).toBe(blob.length);
    expect(Buffer.compare(Buffer.from(got), blob)).toBe(0);
  }, 60_000);
});
