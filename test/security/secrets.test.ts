// Passwords never leave the process: for each way of giving them (password, password_env,
// password_file) on both sides, a real run with the right ones and a refused login with wrong
// ones are scanned, stdout and stderr, at debug level with GS_REPLICATE_DEBUG=1 (which logs
// error causes). The target side runs on openGauss (through the product's own SHA256,
// MD5_SHA256 and MD5 answers) and on PostgreSQL (SCRAM). Also --help, `check --json`
// (preflight and --data), the process command line, config errors, and the world-readable
// password_file warning.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentPosition } from "../support/binlog.ts";
import { BINARY, runCli, writeConfig, type CliResult } from "../support/cli.ts";
import { journalTransport } from "../support/pipeline.ts";
import { hbaFirst, md5Secret, openGaussServerOn } from "../support/opengauss.ts";
import { getMariadb, getOpenGauss, startPostgres, TARGETS, uniqueName, type MariaDb, type TargetDialect } from "../support/servers.ts";

// Distinctive values: any occurrence in output is a leak, never a coincidence.
const SECRETS = {
  source: "SrcSecret-7f3a9c-Qz",
  target: "TgtSecret-e41b06-Wx",
  wrongSource: "WrongSrc-2d8c51-Jv",
  wrongTarget: "WrongTgt-90a7fe-Lk",
};
const ALL = Object.values(SECRETS);

function expectNoSecret(r: CliResult, what: string): void {
  for (const s of ALL) {
    for (const form of [s, Buffer.from(s).toString("base64"), Buffer.from(s).toString("hex")]) {
      if (r.stdout.includes(form) || r.stderr.includes(form)) throw new Error(`${what}: output contains a password (${form.slice(0, 6)}…)`);
    }
  }
}

type Via = "password" | "password_env" | "password_file";
const VIAS: Via[] = ["password", "password_env", "password_file"];

let db: MariaDb;
const srcUser = `gsr_sec_${process.pid}`;
let name = "";
let from = { file: "", pos: 0 };

beforeAll(async () => {
  db = await getMariadb();
  name = uniqueName("secrets");
  const c = await db.connect();
  await c.query(`CREATE USER ${srcUser}@'%' IDENTIFIED BY '${SECRETS.source}';
    GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO ${srcUser}@'%';
    CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(40))`);
  from = await currentPosition();
  await c.query(`INSERT INTO ${name}.t VALUES (1, 'one'), (2, 'two'); UPDATE ${name}.t SET v = 'deux' WHERE id = 2`);
  await c.end();
}, 60_000);

/**
 * A target that asks for a password: one user and one database per way of giving it, so each
 * sink run applies the rows, and refused logins of one way do not add up towards openGauss's
 * account lock (failed_login_attempts, 10 by default) for another.
 */
interface PasswordTarget {
  dialect: TargetDialect;
  host: string;
  port: number;
  user(via: Via): string;
  database(via: Via): string;
  /** What the server says to a wrong password. */
  refusal(via: Via): string;
  sql(database: string): postgres.Sql;
  stop(): Promise<void>;
}

/**
 * PostgreSQL: a private server demanding SCRAM for the test's users (postgres stays trusted for
 * setup). openGauss: the shared server with the test's own users, one per login the product
 * answers itself: SHA256 (password), MD5_SHA256 (password_env, an "md5" pg_hba line), MD5
 * (password_file, an MD5 secret under an "md5" line).
 */
async function passwordTarget(dialect: TargetDialect): Promise<PasswordTarget> {
  const user = (via: Via) => `gsr_sec_${process.pid}_${via}`;
  const database = (via: Via) => `${name}_${via}`;
  const owned = async (admin: (d: string) => postgres.Sql, createDatabase: (d: string) => Promise<void>) => {
    for (const via of VIAS) {
      await createDatabase(database(via));
      const sql = admin(database(via));
      await sql.unsafe(`ALTER DATABASE ${database(via)} OWNER TO ${user(via)}; CREATE SCHEMA "${name}" AUTHORIZATION ${user(via)};
        CREATE TABLE "${name}".t (id int PRIMARY KEY, v varchar(40)); ALTER TABLE "${name}".t OWNER TO ${user(via)}`);
      await sql.end();
    }
  };
  if (dialect === "postgresql") {
    const pg = await startPostgres({ hba: VIAS.map((v) => `host all ${user(v)} 127.0.0.1/32 scram-sha-256`) });
    const admin = pg.sql();
    for (const via of VIAS) await admin.unsafe(`CREATE ROLE ${user(via)} LOGIN PASSWORD '${SECRETS.target}'`);
    await admin.end();
    await owned(
      (d) => pg.sql(d),
      (d) => pg.createDatabase(d),
    );
    return {
      dialect,
      host: pg.host,
      port: pg.port,
      user,
      database,
      refusal: (v) => `password authentication failed for user "${user(v)}"`,
      sql: (d) => pg.sql(d),
      stop: () => pg.stop(),
    };
  }
  const og = await getOpenGauss();
  const server = openGaussServerOn(og.port);
  const admin = og.sql("postgres");
  await admin.unsafe(`CREATE USER ${user("password")} PASSWORD '${SECRETS.target}'`);
  await admin.unsafe(`CREATE USER ${user("password_env")} PASSWORD '${SECRETS.target}'`);
  await admin.unsafe(`CREATE USER ${user("password_file")} PASSWORD '${md5Secret(user("password_file"), SECRETS.target)}'`);
  const undoHba = await hbaFirst(server, [`host all ${user("password_env")} 127.0.0.1/32 md5`, `host all ${user("password_file")} 127.0.0.1/32 md5`]);
  await owned(
    (d) => og.sql(d),
    (d) => og.createDatabase(d),
  );
  return {
    dialect,
    host: og.host,
    port: og.port,
    user,
    database,
    refusal: () => "Invalid username/password,login denied.",
    sql: (d) => og.sql(d),
    async stop() {
      await undoHba();
      for (const via of VIAS) {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${database(via)}`).catch(() => {});
        await admin.unsafe(`DROP USER IF EXISTS ${user(via)} CASCADE`).catch(() => {});
      }
      await admin.end();
    },
  };
}

const UNUSED_TARGET: PasswordTarget = {
  dialect: "opengauss",
  host: "127.0.0.1",
  port: 1,
  user: () => "nobody",
  database: () => "none",
  refusal: () => "",
  sql: () => {
    throw new Error("not a server");
  },
  stop: async () => {},
};

interface Setup {
  config: string;
  env: Record<string, string>;
  journalDir: string;
}

/** A whole-pipeline config giving both passwords `via`, and the environment it needs. */
function setup(t: PasswordTarget, via: Via, passwords: { source: string; target: string }): Setup {
  const journal = journalTransport();
  const dir = mkdtempSync(join(tmpdir(), "gsr-secret-"));
  const env: Record<string, string> = { GS_REPLICATE_DEBUG: "1" };
  const give = (side: "source" | "target", value: string): string => {
    if (via === "password") return `password = "${value}"`;
    if (via === "password_env") {
      env[`GSR_TEST_${side.toUpperCase()}_PW`] = value;
      return `password_env = "GSR_TEST_${side.toUpperCase()}_PW"`;
    }
    const file = join(dir, `${side}.pw`);
    writeFileSync(file, `${value}\n`, { mode: 0o600 });
    return `password_file = "${file}"`;
  };
  const config = writeConfig(`
[source]
port = ${db.port}
user = "${srcUser}"
${give("source", passwords.source)}
databases = ["${name}"]
start = "file:${from.file}:${from.pos}"

${journal.toml}

[target]
host = "${t.host}"
port = ${t.port}
user = "${t.user(via)}"
${give("target", passwords.target)}
database = "${t.database(via)}"
dialect = "${t.dialect}"

[log]
level = "debug"
progress_seconds = 1
`);
  return { config, env, journalDir: journal.dir };
}

describe.each(TARGETS)("passwords never appear in output (target %s)", (dialect) => {
  let t: PasswordTarget;
  beforeAll(async () => {
    t = await passwordTarget(dialect);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  for (const via of VIAS) {
    test(`${via}: a real source → sink run, and refused logins with wrong passwords, print no password`, async () => {
      const ok = setup(t, via, { source: SECRETS.source, target: SECRETS.target });
      const s = await runCli(["source", "--config", ok.config, "--stop-at-end"], { env: ok.env });
      expectNoSecret(s, `${via} source`);
      expect(s.code).toBe(0);
      const k = await runCli(["sink", "--config", ok.config, "--stop-at-end"], { env: ok.env });
      expectNoSecret(k, `${via} sink`);
      expect(k.code).toBe(0);
      const sql = t.sql(t.database(via));
      const rows = await sql.unsafe(`SELECT id, v FROM "${name}".t ORDER BY id`);
      await sql.end();
      expect(rows.map((r) => [r.id as number, r.v as string])).toEqual([
        [1, "one"],
        [2, "deux"],
      ]);

      const bad = setup(t, via, { source: SECRETS.wrongSource, target: SECRETS.wrongTarget });
      const bs = await runCli(["source", "--config", bad.config, "--stop-at-end"], { env: bad.env });
      expectNoSecret(bs, `${via} source, wrong password`);
      expect(bs.code).toBe(1);
      expect(bs.stderr).toContain(`Access denied for user '${srcUser}'`);
      const bk = await runCli(["sink", "--config", bad.config, "--stop-at-end"], { env: bad.env });
      expectNoSecret(bk, `${via} sink, wrong password`);
      expect(bk.code).toBe(1);
      expect(bk.stderr).toContain("TARGET_AUTH");
      expect(bk.stderr).toContain(t.refusal(via));
    });
  }

  test("check --json, logged in with each way of giving passwords, and refused with wrong ones, prints no password", async () => {
    for (const via of VIAS) {
      const ok = setup(t, via, { source: SECRETS.source, target: SECRETS.target });
      const pre = await runCli(["check", "--config", ok.config, "--json"], { env: ok.env });
      expectNoSecret(pre, `${via} check --json`);
      expect(pre.code).toBe(0);
      expect((JSON.parse(pre.stdout) as { passed: boolean }).passed).toBe(true);
      const data = await runCli(["check", "--config", ok.config, "--json", "--data"], { env: ok.env });
      expectNoSecret(data, `${via} check --json --data`);
      expect([0, 3]).toContain(data.code);
      const bad = setup(t, via, { source: SECRETS.wrongSource, target: SECRETS.wrongTarget });
      for (const args of [
        ["check", "--config", bad.config, "--json"],
        ["check", "--config", bad.config, "--json", "--data"],
      ]) {
        const r = await runCli(args, { env: bad.env });
        expectNoSecret(r, `${via} ${args.join(" ")}, wrong passwords`);
        expect(r.code).not.toBe(0);
      }
    }
  });

  test("the command line of running source and sink processes holds no password", async () => {
    for (const via of VIAS) {
      const ok = setup(t, via, { source: SECRETS.source, target: SECRETS.target });
      for (const command of ["source", "sink"]) {
        const proc = Bun.spawn([BINARY, command, "--config", ok.config], { stdout: "ignore", stderr: "pipe", env: { ...process.env, ...ok.env } });
        try {
          // Running (logged in, following) once the first progress line is out.
          const reader = proc.stderr.getReader();
          let seen = "";
          const deadline = Date.now() + 15_000;
          while (!/events\/s|tx\/s/.test(seen) && Date.now() < deadline) {
            const { value, done } = await reader.read();
            if (done) break;
            seen += new TextDecoder().decode(value);
          }
          reader.releaseLock();
          expect(proc.exitCode).toBeNull();
          const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, "utf8").split("\0");
          expect(cmdline).toContain("--config");
          expect(cmdline).toContain(ok.config);
          const title = readFileSync(`/proc/${proc.pid}/comm`, "utf8");
          for (const s of ALL) {
            expect(cmdline.join(" ")).not.toContain(s);
            expect(title).not.toContain(s);
          }
          expect(seen).not.toContain(SECRETS.source);
          expect(seen).not.toContain(SECRETS.target);
        } finally {
          proc.kill("SIGTERM");
          await proc.exited;
        }
      }
    }
  });
});

describe("passwords never appear in output", () => {
  test("--help of every command, with the passwords in the environment", async () => {
    const env = { GSR_TEST_SOURCE_PW: SECRETS.source, GSR_TEST_TARGET_PW: SECRETS.target };
    for (const args of [["--help"], ["source", "--help"], ["sink", "--help"], ["check", "--help"], ["--version"]]) {
      const r = await runCli(args, { env });
      expect(r.code).toBe(0);
      expectNoSecret(r, args.join(" "));
    }
  });

  test("configuration errors around a password name keys, never the value", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsr-secret-"));
    const file = join(dir, "pw");
    writeFileSync(file, SECRETS.source, { mode: 0o600 });
    const cases = [
      `[source]\nuser = "u"\npassword = "${SECRETS.source}"\npassword_file = "${file}"\n[transport.journal]\ndir = "${dir}/j"\n`,
      `[source]\nuser = "u"\npassword = "${SECRETS.source}"\nprot = 1\n[transport.journal]\ndir = "${dir}/j"\n`,
      `[source]\nuser = "u"\npassword = "${SECRETS.source}"\nport = "${SECRETS.target}"\n[transport.journal]\ndir = "${dir}/j"\n`,
      `[source]\nuser = "u"\npassword = ["${SECRETS.source}"]\n[transport.journal]\ndir = "${dir}/j"\n`,
    ];
    for (const toml of cases) {
      const r = await runCli(["source", "--config", writeConfig(toml), "--stop-at-end"], { env: { GS_REPLICATE_DEBUG: "1" } });
      expect(r.code).toBe(2);
      // The port case names the wrong value of a non-secret key; only the password must not show.
      const leaked = [SECRETS.source].filter((s) => r.stderr.includes(s) || r.stdout.includes(s));
      expect(leaked).toEqual([]);
    }
  });

  test("a world-readable password_file is reported (without its content); chmod 600 silences it", async () => {
    // Only the source runs: the target section is never used.
    const ok = setup(UNUSED_TARGET, "password_file", { source: SECRETS.source, target: SECRETS.target });
    const file = readFileSync(ok.config, "utf8").match(/password_file = "([^"]*source\.pw)"/)?.[1];
    expect(file).toBeDefined();
    chmodSync(file!, 0o644);
    const loud = await runCli(["source", "--config", ok.config, "--stop-at-end"], { env: ok.env });
    expect(loud.code).toBe(0);
    expect(loud.stderr).toContain(`[source] password_file ${file} is world-readable; chmod 600 it`);
    expectNoSecret(loud, "world-readable password_file");
    chmodSync(file!, 0o600);
    const quiet = await runCli(["source", "--config", ok.config, "--stop-at-end"], { env: ok.env });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain("world-readable");
  });
});
