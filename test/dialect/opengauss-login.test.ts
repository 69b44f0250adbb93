// Every openGauss password login the product answers, on the real openGauss 7.0 of the test run
// (the shared harness server), through connectTarget() and through the compiled binary.
//
// Which login the server asks for depends on how the user's password is stored and on the
// pg_hba.conf method (openGauss auth.cpp): SHA256 (request 10) for a SHA256 secret, MD5_SHA256
// (11) for a SHA256 secret under an "md5" line, MD5 (5) for an MD5 secret under either line.
// Secrets other than the server default (password_encryption_type = 2) are given to CREATE USER
// already encrypted, because password_encryption_type and auth_iteration_count are server-wide
// settings this shared server must keep; test/security/tls-target-opengauss.test.ts proves, on a
// private server, that these are exactly the secrets openGauss stores under those settings, and
// covers password_encryption_type = 1 (a combined secret CREATE USER does not take encrypted).
//
// Each user here is the test's own (wrong passwords count towards openGauss's account lock, so
// the shared `gsr` never gets one), with pg_hba lines placed before the server's and removed after.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import type postgres from "postgres";
import { Secret } from "../../src/config/secret.ts";
import type { TargetConfig } from "../../src/config/types.ts";
import { checkTarget, connectTarget } from "../../src/dialect/connect.ts";
import { storedSha256Secret } from "../../src/dialect/opengauss-auth.ts";
import { describeError, ReplicateError } from "../../src/errors.ts";
import { runCli, writeConfig } from "../support/cli.ts";
import { cancelledSleep } from "../support/running.ts";
import { authRequest, hbaFirst, md5Secret, openGaussServerOn } from "../support/opengauss.ts";
import { journalTransport } from "../support/pipeline.ts";
import { getMariadb, getOpenGauss, uniqueName, type Target } from "../support/servers.ts";

const PASSWORD = "Login@Test-7c1e9a";
const WRONG = "Wrong@Test-52b7d0";

let og: Target;
let admin: postgres.Sql;
const undo: Array<() => Promise<void>> = [];

beforeAll(async () => {
  og = await getOpenGauss();
  admin = og.sql("postgres");
});

afterAll(async () => {
  for (const u of undo.reverse()) await u();
  await admin?.end();
});

function target(user: string, password: string | undefined): TargetConfig {
  return {
    host: og.host,
    port: og.port,
    user,
    password: password === undefined ? undefined : new Secret(password),
    database: "postgres",
    dialect: "opengauss",
    schema_mapping: {},
    tls: { mode: "disabled" },
  };
}

/** connectTarget + checkTarget; the session's user, or the error. */
async function login(user: string, password: string | undefined): Promise<{ user?: string; err?: ReplicateError }> {
  const t = target(user, password);
  const sql = connectTarget(t, 1);
  try {
    await checkTarget(sql, t);
    const [row] = await sql.unsafe("SELECT current_user AS u");
    return { user: row?.u as string };
  } catch (err) {
    expect(err).toBeInstanceOf(ReplicateError);
    return { err: err as ReplicateError };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function expectRefused(err: ReplicateError | undefined, ...says: string[]): void {
  expect(err?.code).toBe("TARGET_AUTH");
  expect(err?.retriable).toBe(false);
  for (const s of says) expect(err?.message).toContain(s);
  for (const text of [err?.message ?? "", describeError(err!)]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(WRONG);
  }
}

async function failcount(user: string): Promise<number> {
  const [row] = await admin.unsafe("SELECT s.failcount AS n FROM pg_user_status s JOIN pg_authid a ON a.oid = s.roloid WHERE a.rolname = $1", [user]);
  return Number(row?.n);
}

/**
 * A user of this test with the password as CREATE USER gets it (plain, or a function giving the
 * already encrypted secret for the user's name), and a pg_hba line for it when `method` is set.
 */
async function user(prefix: string, secret: string | ((name: string) => string | Promise<string>), method?: "md5" | "sha256"): Promise<string> {
  const name = uniqueName(prefix);
  const password = typeof secret === "string" ? secret : await secret(name);
  await admin.unsafe(`CREATE USER ${name} PASSWORD '${password}'`);
  undo.push(async () => {
    await admin.unsafe(`DROP USER ${name}`);
  });
  if (method) undo.push(await hbaFirst(openGaussServerOn(og.port), [`host all ${name} 127.0.0.1/32 ${method}`]));
  return name;
}

describe("openGauss logins on the real server", () => {
  test("SHA256 (request 10), the server default: a user created with a plain password logs in; a wrong one is refused once", async () => {
    const name = await user("og_sha", PASSWORD);
    expect(await authRequest(og.port, name)).toEqual({ code: 10, method: 2 });
    expect((await login(name, PASSWORD)).user).toBe(name);
    expectRefused((await login(name, WRONG)).err, "Invalid username/password", `${og.host}:${og.port}`);
    // One attempt per refused login: openGauss counts them towards its account lock.
    expect(await failcount(name)).toBe(1);
  });

  test("the secret openGauss stores for a plain password is the one the SHA256 answer is built from (10000 iterations)", async () => {
    const name = await user("og_stored", PASSWORD);
    const [row] = await admin.unsafe("SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1", [name]);
    const stored = String(row?.p);
    expect(stored).toHaveLength(209);
    expect(await storedSha256Secret(PASSWORD, stored.slice(6, 70), 10000)).toBe(stored);
  });

  test("SHA256 with a secret stored under auth_iteration_count 2048: the count the request carries is used", async () => {
    const name = await user("og_it", () => storedSha256Secret(PASSWORD, randomBytes(32).toString("hex"), 2048));
    expect(await authRequest(og.port, name)).toEqual({ code: 10, method: 2 });
    expect((await login(name, PASSWORD)).user).toBe(name);
  });

  test('MD5_SHA256 (request 11): a SHA256 secret under an "md5" pg_hba line logs in; a wrong password is refused once', async () => {
    const name = await user("og_md5sha", PASSWORD, "md5");
    expect(await authRequest(og.port, name)).toEqual({ code: 11 });
    expect((await login(name, PASSWORD)).user).toBe(name);
    expectRefused((await login(name, WRONG)).err, "Invalid username/password");
    expect(await failcount(name)).toBe(1);
  });

  test("MD5_SHA256 with a secret stored under another iteration count: refused, and the error says which count was assumed", async () => {
    const name = await user("og_md5sha_it", () => storedSha256Secret(PASSWORD, randomBytes(32).toString("hex"), 2048), "md5");
    expect(await authRequest(og.port, name)).toEqual({ code: 11 });
    expectRefused((await login(name, PASSWORD)).err, "Invalid username/password", "auth_iteration_count = 10000", '"sha256" instead of "md5"');
  });

  test('MD5 (request 5): an MD5 secret (password_encryption_type = 0) under an "md5" line logs in; a wrong password is refused once', async () => {
    const name = await user("og_md5", (n) => md5Secret(n, PASSWORD), "md5");
    expect(await authRequest(og.port, name)).toEqual({ code: 5 });
    expect((await login(name, PASSWORD)).user).toBe(name);
    expectRefused((await login(name, WRONG)).err, "Invalid username/password");
    expect(await failcount(name)).toBe(1);
  });

  test('an MD5 secret under a "sha256" line: openGauss still asks for MD5, which logs in', async () => {
    const name = await user("og_md5_sha", (n) => md5Secret(n, PASSWORD), "sha256");
    expect(await authRequest(og.port, name)).toEqual({ code: 5 });
    expect((await login(name, PASSWORD)).user).toBe(name);
  });

  test("no [target] password: TARGET_AUTH naming the key, and nothing is sent (no failed attempt counted)", async () => {
    const name = await user("og_nopw", PASSWORD);
    expectRefused((await login(name, undefined)).err, "[target] password");
    expect(await failcount(name)).toBe(0);
  });

  test("a CancelRequest goes through the login shim to openGauss", async () => {
    const t = target(og.user, og.password);
    const sql = connectTarget(t, 1);
    try {
      await checkTarget(sql, t);
      // Its one connection is busy sleeping: a second one watches.
      const watch = connectTarget(t, 1);
      const err = await cancelledSleep(sql, watch).finally(() => watch.end({ timeout: 1 }));
      expect((err as { code?: string }).code).toBe("57014");
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

describe("openGauss logins through the binary (gs-replicate check)", () => {
  async function connectionCheck(name: string, password: string): Promise<{ status: string; found: string; output: string }> {
    const db = await getMariadb();
    const cfg = writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["${uniqueName("none")}"]

${journalTransport().toml}

[target]
host = "${og.host}"
port = ${og.port}
user = "${name}"
password = "${password}"
database = "postgres"
dialect = "opengauss"
`);
    const r = await runCli(["check", "--config", cfg, "--json"]);
    const out = r.stdout + r.stderr;
    const report = JSON.parse(r.stdout) as { checks: Array<{ id: string; status: string; found: string }> };
    const c = report.checks.find((x) => x.id === "target.connection");
    return { status: c?.status ?? "missing", found: c?.found ?? "", output: out };
  }

  test("SHA256, MD5_SHA256 and MD5 users pass target.connection; wrong passwords fail it, printing no password", async () => {
    const users = [await user("og_bin_sha", PASSWORD), await user("og_bin_md5sha", PASSWORD, "md5"), await user("og_bin_md5", (n) => md5Secret(n, PASSWORD), "md5")];
    for (const name of users) {
      const ok = await connectionCheck(name, PASSWORD);
      expect(ok.status).toBe("ok");
      expect(ok.found).toContain(`as ${name}`);
      expect(ok.output).not.toContain(PASSWORD);
      const bad = await connectionCheck(name, WRONG);
      expect(bad.status).toBe("fail");
      expect(bad.found).toContain("Invalid username/password");
      expect(bad.output).not.toContain(WRONG);
    }
  });
});
