// What the copy tests share: a source database with existing data (sysbench's tables, foreign
// keys, a table without a primary key, every type of the type table, a view and a trigger), a
// second writer, the configuration, and the comparison of both sides (check --data, and
// sysbench's tables compared independently of gs-replicate).
import { expect } from "bun:test";
import { runCli, writeConfig } from "../support/cli.ts";
import type { MariaDb, Target } from "../support/servers.ts";
import { differences, mariadbSums, postgresSums } from "../../bench/support/sbtest.ts";
import { COLUMNS, ROWS } from "../support/every-type.ts";
import { bothSides } from "../support/pipeline.ts";

const SB_TABLES = ["sbtest1", "sbtest2"];

export function sysbenchArgs(db: MariaDb, name: string): string[] {
  return [
    "--db-driver=mysql",
    "--mysql-host=127.0.0.1",
    `--mysql-port=${db.port}`,
    "--mysql-user=root",
    "--mysql-password=",
    `--mysql-db=${name}`,
    "--tables=2",
    "--table-size=20000",
  ];
}

export async function prepare(db: MariaDb, name: string): Promise<void> {
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const r = Bun.spawnSync(["sysbench", "oltp_write_only", ...sysbenchArgs(db, name), "--threads=1", "prepare"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`sysbench prepare: ${r.stderr.toString()}`);
  const a = await db.connect();
  await a.query(`
    CREATE TABLE ${name}.parent (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, UNIQUE KEY uname (name)) ENGINE=InnoDB;
    CREATE TABLE ${name}.child (id BIGINT AUTO_INCREMENT PRIMARY KEY, parent_id INT NOT NULL, note TEXT, created DATETIME(3),
      KEY kp (parent_id), CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES ${name}.parent (id) ON DELETE CASCADE) ENGINE=InnoDB;
    CREATE TABLE ${name}.nokey (a INT, b VARCHAR(20)) ENGINE=InnoDB;
    CREATE TABLE ${name}.kinds (id INT PRIMARY KEY, e ENUM('x','y',''), s SET('a','b'), j JSON, bl BLOB, d DECIMAL(10,3), f FLOAT, dbl DOUBLE,
      bt BIT(5), dt DATE, ts TIMESTAMP(6) NULL, tm TIME(2), y YEAR, u BIGINT UNSIGNED, t TEXT CHARACTER SET latin1) ENGINE=InnoDB;
    CREATE VIEW ${name}.v AS SELECT id FROM ${name}.parent;
    CREATE TRIGGER ${name}.trg BEFORE INSERT ON ${name}.nokey FOR EACH ROW SET NEW.b = NEW.b;
  `);
  for (let i = 1; i <= 200; i++) await a.query(`INSERT INTO ${name}.parent VALUES (${i}, 'p${i}')`);
  await a.query(`INSERT INTO ${name}.child (parent_id, note, created) SELECT id, CONCAT('note ', id), '2024-01-02 03:04:05.678' FROM ${name}.parent`);
  await a.query(`INSERT INTO ${name}.nokey VALUES (1, 'a'), (1, 'a'), (2, NULL), (NULL, 'z')`);
  await a.query(`INSERT INTO ${name}.kinds VALUES
    (1, 'x', 'a,b', '{"k": [1, 2.5, "é"]}', x'00ff10', -12.500, 0.1, 1.7976931348623157e308, b'10101', '2024-02-29', '2024-05-06 07:08:09.123456', '-838:59:59.99', 2155, 18446744073709551615, 'café'),
    (2, '', '', 'null', '', 0.000, -0, 5e-324, b'0', '1000-01-01', NULL, '00:00:00', 1901, 0, ''),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
  // Every type of the type table, with edge values (zero dates: zero_date = "null" below).
  await a.query(`SET time_zone = '+00:00', sql_mode = ''`);
  await a.query(`CREATE TABLE ${name}.types (${COLUMNS}) CHARACTER SET utf8mb4`);
  await a.query(`INSERT INTO ${name}.types VALUES ${ROWS.join(", ")}`);
  await a.query(`ANALYZE TABLE ${name}.sbtest1, ${name}.sbtest2`);
  await a.end();
}

/** A second writer over the other tables while copy runs: inserts, updates, deletes, a parent's cascade. */
export async function otherWrites(db: MariaDb, name: string, stop: () => boolean): Promise<number> {
  const c = await db.connect();
  let n = 0;
  try {
    for (let i = 1; !stop(); i++) {
      const p = 1 + (i % 200);
      await c.query(`BEGIN; UPDATE ${name}.parent SET name = CONCAT('p', id, '-', ${i}) WHERE id = ${p};
        INSERT INTO ${name}.child (parent_id, note) VALUES (${p}, 'w${i}');
        INSERT INTO ${name}.nokey VALUES (${i}, 'w');
        UPDATE ${name}.kinds SET d = d + 1, j = JSON_OBJECT('i', ${i}) WHERE id = 1; COMMIT`);
      if (i % 7 === 0) await c.query(`DELETE FROM ${name}.nokey WHERE a = ${i - 5} LIMIT 1`);
      if (i % 50 === 0) await c.query(`INSERT INTO ${name}.parent VALUES (${1000 + i}, 'new${i}')`);
      n++;
      await Bun.sleep(5);
    }
  } finally {
    await c.end();
  }
  return n;
}

export function config(db: MariaDb, pg: Target, name: string, journal: string, copy = ""): string {
  return writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["${name}"]

${journal}

[target]
${pg.targetToml(name)}

[copy]
chunk_rows = 2000
${copy || "parallel = 4"}

[sink]
zero_date = "null"

[log]
progress_seconds = 1
`);
}

export async function expectEqual(db: MariaDb, pg: Target, name: string, cfg: string): Promise<void> {
  const sql = pg.sql(name);
  try {
    expect(differences(await mariadbSums(db, SB_TABLES, name), await postgresSums(sql, SB_TABLES, `"${name}"`))).toEqual([]);
  } finally {
    await sql.end();
  }
  // The tables the second writer changed, row by row, each side's own text (no gs-replicate code).
  for (const [table, my, pgCols] of [
    ["parent", "id, name", "id, name"],
    ["child", "id, parent_id, note, DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s.%f')", "id, parent_id, note, to_char(created, 'YYYY-MM-DD HH24:MI:SS.US')"],
    ["nokey", "a, b", "a, b"],
    ["kinds", "id, CAST(d AS CHAR)", "id, to_char(d, 'FM9999999990.000')"],
  ] as const) {
    const { src, dst } = await bothSides(db, pg, name, name, table, my, pgCols);
    expect({ table, rows: dst }).toEqual({ table, rows: src });
  }
  const check = await runCli(["check", "--config", cfg, "--data"], { timeoutMs: 120_000 });
  expect({ code: check.code, out: check.code === 0 ? "" : check.stdout + check.stderr }).toEqual({ code: 0, out: "" });
}
