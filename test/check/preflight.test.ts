// check (preflight) with the compiled binary against real servers: a correct setup passes with
// exit 0; each failure is provoked for real (a server without binlog, STATEMENT format, a user
// without BINLOG MONITOR, a table name with a hyphen, a 4-partition topic, an unreachable
// target) and gives its FAIL line and exit 3 while the other checks still run.
import { describe, expect, test } from "bun:test";
import { runCli, writeConfig } from "../support/cli.ts";
import { journalTransport } from "../support/pipeline.ts";
import { freePort, getKafka, getMariadb, getPostgres, type MariaDb, startMariadb, uniqueName } from "../support/servers.ts";
import { checkLowerCaseNames } from "../../src/check/source.ts";

interface Check {
  id: string;
  status: "ok" | "warn" | "fail";
  object?: string;
  found: string;
  fix?: string;
}

async function config(db: MariaDb, database: string, opts: { user?: string; password?: string; transport?: string; target?: string } = {}): Promise<string> {
  const pg = await getPostgres();
  return writeConfig(`
[source]
port = ${db.port}
user = "${opts.user ?? "root"}"
password = "${opts.password ?? ""}"
databases = ["${database}"]

${opts.transport ?? journalTransport().toml}

${
  opts.target ??
  `[target]
port = ${pg.port}
user = "postgres"
database = "postgres"
dialect = "postgresql"`
}
`);
}

/** A source database with one table and its mapped copy on the target. */
async function setup(db: MariaDb, table = "t"): Promise<string> {
  const name = uniqueName("chk_pre");
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.\`${table}\` (id INT PRIMARY KEY, v VARCHAR(20), d DECIMAL(10,2), j JSON)`);
  await c.end();
  const sql = (await getPostgres()).sql();
  await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}"."${table}" (id integer PRIMARY KEY, v character varying(20), d numeric(10,2), j jsonb)`);
  await sql.end();
  return name;
}

/** A private server; mariadb-install-db can trip over another run's temporary files in /tmp, so once more. */
async function privateMariadb(binlogArgs: string[]): Promise<MariaDb> {
  try {
    return await startMariadb({ binlogArgs });
  } catch {
    return await startMariadb({ binlogArgs });
  }
}

function lineOf(stdout: string, id: string): string {
  return stdout.split("\n").find((l) => l.includes(` ${id}`)) ?? `(no line for ${id})`;
}

describe("check preflight", () => {
  test("a correct setup passes: every check ok (or a warning), exit 0; --json lists the same checks", async () => {
    const db = await getMariadb();
    const name = await setup(db);
    const cfg = await config(db, name);
    const r = await runCli(["check", "--config", cfg]);
    expect(r.stdout).not.toContain("FAIL");
    expect(r.code).toBe(0);
    for (const id of ["source.log_bin", "source.binlog_format", "source.binlog_row_image", "source.gtid", "source.binlog_row_metadata", "source.privileges", "source.server_id", "source.start_position", "source.binlog_retention", "source.lower_case_table_names", "schema.identifiers", "schema.types", "transport.journal", "target.tables", "target.privileges", "target.checkpoint"]) {
      expect(lineOf(r.stdout, id)).toMatch(/^(ok {3}|warn )/);
    }
    expect(lineOf(r.stdout, "source.gtid")).toContain("MariaDB GTID position");
    expect(r.stdout).toMatch(/passed: \d+ ok, \d+ warnings, 0 failed/);
    const j = await runCli(["check", "--config", cfg, "--json"]);
    expect(j.code).toBe(0);
    const report = JSON.parse(j.stdout) as { passed: boolean; checks: Check[] };
    expect(report.passed).toBe(true);
    expect(report.checks.find((c) => c.id === "source.binlog_format")).toEqual({ id: "source.binlog_format", status: "ok", found: "binlog_format=ROW" });
    expect(report.checks.length).toBe(r.stdout.trim().split("\n").length - 1);
  });

  test("a server without binlog: source.log_bin fails, exit 3", async () => {
    const db = await privateMariadb([]);
    try {
      const name = await setup(db);
      const r = await runCli(["check", "--config", await config(db, name)]);
      expect(r.code).toBe(3);
      expect(lineOf(r.stdout, "source.log_bin")).toMatch(/^FAIL source\.log_bin: log_bin is OFF.*fix: add log_bin/);
      expect(lineOf(r.stdout, "source.privileges")).toMatch(/^ok/);
      expect(r.stderr).toContain("CHECK_FAILED");
    } finally {
      await db.stop();
    }
  }, 60_000);

  test("binlog_format=STATEMENT: source.binlog_format fails, exit 3", async () => {
    const db = await privateMariadb(["--log-bin=binlog", "--binlog-format=STATEMENT"]);
    try {
      const name = await setup(db);
      const r = await runCli(["check", "--config", await config(db, name)]);
      expect(r.code).toBe(3);
      expect(lineOf(r.stdout, "source.binlog_format")).toMatch(/^FAIL source\.binlog_format: binlog_format=STATEMENT, ROW is required — fix: set binlog_format=ROW/);
      expect(lineOf(r.stdout, "source.log_bin")).toMatch(/^ok/);
    } finally {
      await db.stop();
    }
  }, 60_000);

  test("a replication user without BINLOG MONITOR: source.privileges fails naming it; the password never shows", async () => {
    const db = await getMariadb();
    const name = await setup(db);
    const user = uniqueName("repl");
    const password = `pw-${uniqueName("secret")}`;
    const c = await db.connect();
    await c.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'; GRANT REPLICATION SLAVE, SELECT ON *.* TO '${user}'@'%'`);
    await c.end();
    const cfg = await config(db, name, { user, password });
    const r = await runCli(["check", "--config", cfg]);
    expect(r.code).toBe(3);
    expect(lineOf(r.stdout, "source.privileges")).toMatch(/^FAIL source\.privileges: missing BINLOG MONITOR.*fix: GRANT BINLOG MONITOR ON/);
    const j = await runCli(["check", "--config", cfg, "--json"]);
    expect(j.code).toBe(3);
    expect(j.stdout + j.stderr + r.stdout + r.stderr).not.toContain(password);
    const checks = (JSON.parse(j.stdout) as { checks: Check[] }).checks;
    expect(checks.find((x) => x.id === "source.privileges")?.status).toBe("fail");
  });

  test("a table named with a hyphen: schema.identifiers fails naming the table", async () => {
    const db = await getMariadb();
    const name = await setup(db, "order-items");
    const r = await runCli(["check", "--config", await config(db, name)]);
    expect(r.code).toBe(3);
    expect(lineOf(r.stdout, "schema.identifiers")).toBe(
      `FAIL schema.identifiers [${name}.order-items]: table name "order-items" breaks the AVRO naming rule [A-Za-z_][A-Za-z0-9_]* — fix: rename it on the source before migrating (AVRO schema and field names allow letters, digits and _ only), or leave it out of [source] databases`,
    );
  });

  test("Kafka: a one-partition topic passes, a 4-partition topic fails", async () => {
    const db = await getMariadb();
    const name = await setup(db);
    const kafka = getKafka();
    const kafkaToml = (topic: string) => `[transport]\nkind = "kafka"\n[transport.kafka]\nbrokers = ["${kafka.bootstrap}"]\ntopic = "${topic}"\ncreate_topic = false`;
    const one = uniqueName("cdc_one");
    kafka.createTopic(one, 1);
    const good = await runCli(["check", "--config", await config(db, name, { transport: kafkaToml(one) })]);
    expect(lineOf(good.stdout, "transport.kafka")).toMatch(/^ok/);
    expect(lineOf(good.stdout, "transport.topic")).toBe(`ok   transport.topic: topic "${one}" has exactly one partition`);
    expect(good.code).toBe(0);
    const four = uniqueName("cdc_four");
    kafka.createTopic(four, 4);
    const bad = await runCli(["check", "--config", await config(db, name, { transport: kafkaToml(four) })]);
    expect(bad.code).toBe(3);
    expect(lineOf(bad.stdout, "transport.topic")).toMatch(new RegExp(`^FAIL transport\\.topic: topic "${four}" has 4 partitions; exactly 1 is required.*--partitions 1`));
  }, 60_000);

  test("an unreachable target fails target.connection; the source and transport checks still run", async () => {
    const db = await getMariadb();
    const name = await setup(db);
    const port = await freePort();
    const target = `[target]\nport = ${port}\nuser = "postgres"\ndatabase = "postgres"\ndialect = "postgresql"`;
    const r = await runCli(["check", "--config", await config(db, name, { target })]);
    expect(r.code).toBe(3);
    expect(lineOf(r.stdout, "target.connection")).toMatch(new RegExp(`^FAIL target\\.connection: cannot reach the target 127\\.0\\.0\\.1:${port}/postgres`));
    expect(lineOf(r.stdout, "target.tables")).toMatch(/^FAIL target\.tables: not checked: the target could not be reached/);
    expect(lineOf(r.stdout, "source.binlog_format")).toMatch(/^ok/);
    expect(lineOf(r.stdout, "transport.journal")).toMatch(/^ok/);
  });

  test("only [source] is required: without [transport] and [target] the source and schema are checked", async () => {
    const db = await getMariadb();
    const name = await setup(db);
    const cfg = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["${name}"]\n`);
    const r = await runCli(["check", "--config", cfg]);
    expect(r.stdout).not.toContain("transport.");
    expect(r.stdout).not.toContain("target.");
    expect(r.stdout).toContain("ok   schema.types");
    expect(r.code).toBe(0);
  });
});

describe("source.lower_case_table_names", () => {
  test("0 keeps names as written; otherwise schema_mapping keys with capitals fail, naming the fix", () => {
    expect(checkLowerCaseNames(0, ["Shop"])).toMatchObject({ id: "source.lower_case_table_names", status: "ok" });
    expect(checkLowerCaseNames(1, ["shop", "crm"])).toMatchObject({ status: "ok", found: expect.stringContaining("stored in lower case") });
    expect(checkLowerCaseNames(1, ["shop", "MixedDb"])).toEqual({
      id: "source.lower_case_table_names",
      status: "fail",
      object: "[target] schema_mapping",
      found: 'lower_case_table_names=1: the source names databases in lower case, but [target] schema_mapping names "MixedDb"',
      fix: "write those keys in lower case (mixeddb = …)",
    });
  });
});
