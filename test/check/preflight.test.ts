// check (preflight) with the compiled binary against real servers: a correct setup passes with
// exit 0; each failure is provoked for real (a server without binlog, STATEMENT format, a user
// without BINLOG MONITOR, a table name with a hyphen, a 4-partition topic, an unreachable
// target, an openGauss database in compatibility A) and gives its FAIL line and exit 3 while
// the other checks still run. Checks of the target run on both dialects; those of the source
// and transport run once, with the first target (openGauss).
import { describe, expect, test } from "bun:test";
import { runCli, writeConfig } from "../support/cli.ts";
import { journalTransport } from "../support/pipeline.ts";
import { freePort, getKafka, getMariadb, getTarget, type MariaDb, startMariadb, type Target, TARGETS, uniqueName } from "../support/servers.ts";
import { checkLowerCaseNames } from "../../src/check/source.ts";
import { mapType } from "../../src/dialect/types.ts";
import { createDatabaseIn } from "./support.ts";

interface Check {
  id: string;
  status: "ok" | "warn" | "fail";
  object?: string;
  found: string;
  fix?: string;
}

/** Source and transport checks do not depend on the target: they run once, against this one. */
const FIRST = TARGETS[0]!;

interface Setup {
  /** The source database, its schema on the target, and the target database. */
  name: string;
  target: Target;
}

async function config(db: MariaDb, s: Setup, opts: { user?: string; password?: string; transport?: string; target?: string } = {}): Promise<string> {
  return writeConfig(`
[source]
port = ${db.port}
user = "${opts.user ?? "root"}"
password = "${opts.password ?? ""}"
databases = ["${s.name}"]

${opts.transport ?? journalTransport().toml}

${opts.target ?? `[target]\n${s.target.targetToml(s.name)}`}
`);
}

/**
 * A source database with one table and its mapped copy on the target, in a target database of
 * the same name (openGauss: PG compatibility unless `mode` says otherwise).
 */
async function setup(db: MariaDb, dialect = FIRST, table = "t", mode?: "A" | "B" | "C"): Promise<Setup> {
  const name = uniqueName("chk_pre");
  const target = await getTarget(dialect);
  const s = { name, target };
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.\`${table}\` (id INT PRIMARY KEY, v VARCHAR(20), d DECIMAL(10,2), j JSON)`);
  await c.end();
  if (mode) await createDatabaseIn(target, name, mode);
  else await target.createDatabase(name);
  const sql = target.sql(name);
  const v = mapType({ name: "varchar", length: 20, unsigned: false, zerofill: false }, dialect).mapped!.sql;
  await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}"."${table}" (id integer PRIMARY KEY, v ${v}, d numeric(10,2), j jsonb)`);
  await sql.end();
  return s;
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

describe.each(TARGETS)("check preflight, target checks (%s)", (dialect) => {
  test("a correct setup passes: every check ok (or a warning), exit 0; --json lists the same checks", async () => {
    const db = await getMariadb();
    const s = await setup(db, dialect);
    const cfg = await config(db, s);
    const r = await runCli(["check", "--config", cfg]);
    expect(r.stdout).not.toContain("FAIL");
    expect(r.code).toBe(0);
    for (const id of [
      "source.log_bin",
      "source.binlog_format",
      "source.binlog_row_image",
      "source.gtid",
      "source.binlog_row_metadata",
      "source.privileges",
      "source.server_id",
      "source.start_position",
      "source.binlog_retention",
      "source.lower_case_table_names",
      "schema.identifiers",
      "schema.types",
      "transport.journal",
    ]) {
      expect(lineOf(r.stdout, id)).toMatch(/^(ok {3}|warn )/);
    }
    for (const id of ["target.connection", "target.compatibility", "target.encoding", "target.schemas", "target.tables", "target.privileges", "target.checkpoint"]) {
      expect(lineOf(r.stdout, id)).toMatch(/^ok {3}/);
    }
    if (dialect === "opengauss") {
      expect(lineOf(r.stdout, "target.connection")).toMatch(
        new RegExp(`^ok {3}target\\.connection: openGauss 7\\.\\d+\\.\\d+\\S* at 127\\.0\\.0\\.1:${s.target.port}/${s.name} as gsr$`),
      );
      expect(lineOf(r.stdout, "target.compatibility")).toMatch(
        /^ok {3}target\.compatibility: openGauss 7\.\d+\.\d+\S*, compatibility PG: '' and NULL stay distinct, lengths count characters$/,
      );
    } else {
      expect(lineOf(r.stdout, "target.connection")).toMatch(
        new RegExp(`^ok {3}target\\.connection: PostgreSQL \\d+\\.\\d+.* at 127\\.0\\.0\\.1:${s.target.port}/${s.name} as postgres$`),
      );
      expect(lineOf(r.stdout, "target.compatibility")).toBe("ok   target.compatibility: PostgreSQL: no compatibility modes; '' and NULL stay distinct, lengths count characters");
    }
    expect(lineOf(r.stdout, "target.tables")).toBe("ok   target.tables: 1 of 1 table(s) exist with the mapped column types");
    expect(lineOf(r.stdout, "source.gtid")).toContain("MariaDB GTID position");
    expect(r.stdout).toMatch(/passed: \d+ ok, \d+ warnings, 0 failed/);
    const j = await runCli(["check", "--config", cfg, "--json"]);
    expect(j.code).toBe(0);
    const report = JSON.parse(j.stdout) as { passed: boolean; checks: Check[] };
    expect(report.passed).toBe(true);
    expect(report.checks.find((c) => c.id === "source.binlog_format")).toEqual({ id: "source.binlog_format", status: "ok", found: "binlog_format=ROW" });
    expect(report.checks.length).toBe(r.stdout.trim().split("\n").length - 1);
  });

  test("an unreachable target fails target.connection; the source and transport checks still run", async () => {
    const db = await getMariadb();
    const s = await setup(db, dialect);
    const port = await freePort();
    const target = `[target]\n${s.target.targetToml(s.name).replace(/^port = \d+$/m, `port = ${port}`)}`;
    const r = await runCli(["check", "--config", await config(db, s, { target })]);
    expect(r.code).toBe(3);
    expect(lineOf(r.stdout, "target.connection")).toMatch(new RegExp(`^FAIL target\\.connection: cannot reach the target 127\\.0\\.0\\.1:${port}/${s.name}`));
    expect(lineOf(r.stdout, "target.compatibility")).toMatch(/^FAIL target\.compatibility: not checked: the target could not be reached/);
    expect(lineOf(r.stdout, "target.tables")).toMatch(/^FAIL target\.tables: not checked: the target could not be reached/);
    expect(lineOf(r.stdout, "source.binlog_format")).toMatch(/^ok/);
    expect(lineOf(r.stdout, "transport.journal")).toMatch(/^ok/);
  });
});

describe.if(TARGETS.includes("opengauss"))("check preflight, openGauss compatibility", () => {
  test("a database in compatibility A (it stores '' as NULL) fails target.compatibility with the fix, exit 3; check --data refuses it", async () => {
    const db = await getMariadb();
    const s = await setup(db, "opengauss", "t", "A");
    const cfg = await config(db, s);
    const r = await runCli(["check", "--config", cfg]);
    expect(r.code).toBe(3);
    expect(lineOf(r.stdout, "target.compatibility")).toBe(
      `FAIL target.compatibility: database "${s.name}" is in openGauss compatibility A (Oracle): it stores '' as NULL, so MySQL's empty strings would become NULL, and char(n)/varchar(n) count bytes, not characters — fix: create the target database with CREATE DATABASE "${s.name}_pg" DBCOMPATIBILITY 'PG' (or 'B'; a database's compatibility cannot be changed), create the schemas and tables there, load the full copy there and point [target] database at it`,
    );
    expect(lineOf(r.stdout, "target.connection")).toMatch(/^ok {3}target\.connection: openGauss 7\./);
    expect(lineOf(r.stdout, "target.tables")).toMatch(/^ok/);
    expect(r.stderr).toContain("CHECK_FAILED");
    const data = await runCli(["check", "--config", cfg, "--data"]);
    expect(data.code).toBe(3);
    expect(data.stderr).toContain(`cannot compare with the target: database "${s.name}" is in openGauss compatibility A`);
    expect(data.stdout).toBe("");
  });

  test("a database in compatibility C (lengths in bytes) warns; B passes", async () => {
    const db = await getMariadb();
    const c = await setup(db, "opengauss", "t", "C");
    const rc = await runCli(["check", "--config", await config(db, c)]);
    expect(lineOf(rc.stdout, "target.compatibility")).toMatch(
      /^warn target\.compatibility: openGauss 7\.\S+: database "\w+" is in openGauss compatibility C: '' stays '', but char\(n\)\/varchar\(n\) count bytes.* — fix: keep the mapped column types/,
    );
    expect(rc.code).toBe(0);
    const b = await setup(db, "opengauss", "t", "B");
    const rb = await runCli(["check", "--config", await config(db, b)]);
    expect(lineOf(rb.stdout, "target.compatibility")).toMatch(/^ok {3}target\.compatibility: openGauss 7\.\S+, compatibility B: /);
    expect(rb.code).toBe(0);
  });
});

describe.if(TARGETS.includes("postgresql"))("check preflight, dialect and server disagree", () => {
  test('a PostgreSQL server under dialect = "opengauss" warns in target.compatibility', async () => {
    const db = await getMariadb();
    const s = await setup(db, "postgresql");
    const target = `[target]\n${s.target.targetToml(s.name).replace('dialect = "postgresql"', 'dialect = "opengauss"')}`;
    const r = await runCli(["check", "--config", await config(db, s, { target })]);
    expect(lineOf(r.stdout, "target.compatibility")).toBe(
      `warn target.compatibility: database "${s.name}" has no sql_compatibility setting: the server is not openGauss, but [target] dialect is "opengauss" — fix: set [target] dialect = "postgresql" for a PostgreSQL server`,
    );
    expect(r.code).toBe(0);
  });
});

describe(`check preflight, source and transport checks (${FIRST} target)`, () => {
  test("a server without binlog: source.log_bin fails, exit 3", async () => {
    const db = await privateMariadb([]);
    try {
      const s = await setup(db);
      const r = await runCli(["check", "--config", await config(db, s)]);
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
      const s = await setup(db);
      const r = await runCli(["check", "--config", await config(db, s)]);
      expect(r.code).toBe(3);
      expect(lineOf(r.stdout, "source.binlog_format")).toMatch(/^FAIL source\.binlog_format: binlog_format=STATEMENT, ROW is required — fix: set binlog_format=ROW/);
      expect(lineOf(r.stdout, "source.log_bin")).toMatch(/^ok/);
    } finally {
      await db.stop();
    }
  }, 60_000);

  test("a replication user without BINLOG MONITOR: source.privileges fails naming it; the password never shows", async () => {
    const db = await getMariadb();
    const s = await setup(db);
    const user = uniqueName("repl");
    const password = `pw-${uniqueName("secret")}`;
    const c = await db.connect();
    await c.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'; GRANT REPLICATION SLAVE, SELECT ON *.* TO '${user}'@'%'`);
    await c.end();
    const cfg = await config(db, s, { user, password });
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
    const s = await setup(db, FIRST, "order-items");
    const r = await runCli(["check", "--config", await config(db, s)]);
    expect(r.code).toBe(3);
    expect(lineOf(r.stdout, "schema.identifiers")).toBe(
      `FAIL schema.identifiers [${s.name}.order-items]: table name "order-items" breaks the AVRO naming rule [A-Za-z_][A-Za-z0-9_]* — fix: rename it on the source before migrating (AVRO schema and field names allow letters, digits and _ only), or leave it out of [source] databases`,
    );
  });

  test("Kafka: a one-partition topic passes, a 4-partition topic fails", async () => {
    const db = await getMariadb();
    const s = await setup(db);
    const kafka = getKafka();
    const kafkaToml = (topic: string) => `[transport]\nkind = "kafka"\n[transport.kafka]\nbrokers = ["${kafka.bootstrap}"]\ntopic = "${topic}"\ncreate_topic = false`;
    const one = uniqueName("cdc_one");
    kafka.createTopic(one, 1);
    const good = await runCli(["check", "--config", await config(db, s, { transport: kafkaToml(one) })]);
    expect(lineOf(good.stdout, "transport.kafka")).toMatch(/^ok/);
    expect(lineOf(good.stdout, "transport.topic")).toBe(`ok   transport.topic: topic "${one}" has exactly one partition`);
    expect(good.code).toBe(0);
    const four = uniqueName("cdc_four");
    kafka.createTopic(four, 4);
    const bad = await runCli(["check", "--config", await config(db, s, { transport: kafkaToml(four) })]);
    expect(bad.code).toBe(3);
    expect(lineOf(bad.stdout, "transport.topic")).toMatch(new RegExp(`^FAIL transport\\.topic: topic "${four}" has 4 partitions; exactly 1 is required.*--partitions 1`));
  }, 60_000);

  test("only [source] is required: without [transport] and [target] the source and schema are checked", async () => {
    const db = await getMariadb();
    const s = await setup(db);
    const cfg = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["${s.name}"]\n`);
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
