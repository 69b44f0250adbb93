// [target.tls] against a real openGauss 7.0 of this suite's own: openGauss reads ssl and its
// certificate files only at start, so the shared server (which other suites use, TLS off) is
// left alone and a private one is started with a certificate signed by the test CA, also
// listening on 127.0.0.2, an address the certificate does not list (the wrong host name).
// openGauss has no pg_stat_ssl; its pg_hba.conf refuses TLS_USER without TLS (hostnossl …
// reject), so every success of TLS_USER below went through TLS. The CN of the client certificate
// is a user with a `cert` login.
//
// The same private server proves what the shared one must not be changed for: passwords set
// under other server-wide settings (password_encryption_type 0, 1, 3; auth_iteration_count)
// are stored as test/dialect/opengauss-login.test.ts builds them, and log in (or are refused
// with what to change).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import { Secret } from "../../src/config/secret.ts";
import type { TargetConfig, TlsConfig } from "../../src/config/types.ts";
import { checkTarget, connectTarget } from "../../src/dialect/connect.ts";
import { storedSha256Secret } from "../../src/dialect/opengauss-auth.ts";
import { ReplicateError } from "../../src/errors.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli, writeConfig } from "../support/cli.ts";
import { authRequest, hbaFirst, md5Secret, setReloadable, startPrivateOpenGauss, type OpenGaussServer } from "../support/opengauss.ts";
import { journalTransport, sourceConfig } from "../support/pipeline.ts";
import { getMariadb, getOpenGauss, uniqueName } from "../support/servers.ts";
import { makeCerts, type Certs } from "./certs.ts";

const TLS_USER = "tls_user";
const CERT_USER = "gsr_client";
const PASSWORD = "Tls@Target-3f9b2e";
const DB = "tls_target";

let certs: Certs;
let og: OpenGaussServer;
let admin: postgres.Sql;

beforeAll(async () => {
  certs = makeCerts();
  og = startPrivateOpenGauss({
    ssl: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca },
    listen: ["127.0.0.2"],
    // Connections to 127.0.0.2 come from 127.0.0.1 (Linux picks lo's primary address).
    hba: [`hostnossl all ${TLS_USER} 127.0.0.1/32 reject`, `hostssl all ${CERT_USER} 127.0.0.1/32 cert`],
  });
  admin = og.sql("postgres");
  await admin.unsafe(`CREATE USER ${TLS_USER} WITH SYSADMIN PASSWORD '${PASSWORD}'`);
  // A cert login still needs a user with a password: openGauss refuses CREATE ROLE … LOGIN without one.
  await admin.unsafe(`CREATE USER ${CERT_USER} PASSWORD 'Unused@pass-81c4d7'`);
  await admin.unsafe(`CREATE DATABASE ${DB} DBCOMPATIBILITY 'PG' OWNER ${TLS_USER}`);
}, 300_000);

afterAll(async () => {
  await admin?.end();
  og?.stop();
});

function target(tls: TlsConfig, host = "127.0.0.1", user = TLS_USER): TargetConfig {
  return { host, port: og.port, user, password: new Secret(PASSWORD), database: DB, dialect: "opengauss", schema_mapping: {}, tls };
}

/** Logs in with these settings; the session's user (TLS_USER gets one only over TLS). */
async function sessionUser(t: TargetConfig): Promise<string> {
  const sql = connectTarget(t, 1);
  try {
    await checkTarget(sql, t);
    const [row] = await sql.unsafe("SELECT current_user AS u");
    return String(row?.u);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function connectError(t: TargetConfig): Promise<ReplicateError> {
  const err = await sessionUser(t).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ReplicateError);
  return err as ReplicateError;
}

function tlsToml(t: TlsConfig): string {
  return [`[target.tls]`, `mode = "${t.mode}"`, ...(["ca", "cert", "key"] as const).flatMap((k) => (t[k] ? [`${k} = "${t[k]}"`] : []))].join("\n");
}

describe("[target.tls] against openGauss with a test CA", () => {
  let journal = "";
  let name = "";

  beforeAll(async () => {
    const db = await getMariadb();
    name = uniqueName("tlsog");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(40))`);
    const from = await currentPosition();
    await c.query(`INSERT INTO ${name}.t VALUES (1, 'a'), (2, 'b'); UPDATE ${name}.t SET v = 'c' WHERE id = 2; DELETE FROM ${name}.t WHERE id = 1`);
    await c.end();
    const j = journalTransport();
    journal = j.toml;
    expect((await runCli(["source", "--config", await sourceConfig(db, name, from, j.toml), "--stop-at-end"])).code).toBe(0);
    const sql = og.sql(DB);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, v varchar(40))`);
    await sql.end();
  }, 60_000);

  const sinkConfig = (t: TlsConfig) =>
    writeConfig(`
${journal}

[target]
host = "127.0.0.1"
port = ${og.port}
user = "${TLS_USER}"
password = "${PASSWORD}"
database = "${DB}"
dialect = "opengauss"

${tlsToml(t)}
`);

  test("verify-full with the right CA: `gs-replicate sink` replays the journal over TLS", async () => {
    const r = await runCli(["sink", "--config", sinkConfig({ mode: "verify-full", ca: certs.ca }), "--stop-at-end"]);
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    const sql = og.sql(DB);
    const rows = await sql.unsafe(`SELECT id, v FROM "${name}".t ORDER BY id`);
    await sql.end();
    expect(rows.map((x) => [x.id as number, x.v as string])).toEqual([[2, "c"]]);
  });

  test("verify-full by IP and by name, verify-ca, and required: TLS sessions", async () => {
    expect(await sessionUser(target({ mode: "verify-full", ca: certs.ca }))).toBe(TLS_USER);
    expect(await sessionUser(target({ mode: "verify-full", ca: certs.ca }, "localhost"))).toBe(TLS_USER);
    expect(await sessionUser(target({ mode: "verify-ca", ca: certs.ca }))).toBe(TLS_USER);
    expect(await sessionUser(target({ mode: "required" }))).toBe(TLS_USER);
  });

  test('"disabled" is refused by this server (the successes above were TLS)', async () => {
    const e = await connectError(target({ mode: "disabled" }));
    expect(e.code).toBe("TARGET_AUTH");
    expect(e.message).toContain(`pg_hba.conf rejects connection for host "127.0.0.1", user "${TLS_USER}"`);
    expect(e.message).toContain("SSL off");
  });

  test("a host name the certificate does not list: verify-full refuses it naming the host, verify-ca accepts it", async () => {
    const e = await connectError(target({ mode: "verify-full", ca: certs.ca }, "127.0.0.2"));
    expect(e.code).toBe("TARGET_CONNECTION");
    expect(e.retriable).toBe(false);
    expect(e.message).toContain("not valid for the host name 127.0.0.2");
    expect(e.message).toContain('[target.tls] mode = "verify-ca"');
    expect(await sessionUser(target({ mode: "verify-ca", ca: certs.ca }, "127.0.0.2"))).toBe(TLS_USER);
  });

  test("a wrong CA: sink exit 1 naming the host, that the certificate could not be verified, and what to set", async () => {
    const r = await runCli(["sink", "--config", sinkConfig({ mode: "verify-full", ca: certs.otherCa }), "--stop-at-end"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${og.port}`);
    expect(r.stderr).toContain("could not be verified");
    expect(r.stderr).toContain("set [target.tls] ca to the PEM file of the CA");
    expect(r.stderr).toContain("TARGET_CONNECTION");
    expect(r.stderr).not.toContain(PASSWORD);
    const e = await connectError(target({ mode: "verify-ca", ca: certs.otherCa }));
    expect(e.message).toContain("could not be verified");
    expect(e.retriable).toBe(false);
  });

  test("TLS asked of an openGauss without TLS (the shared server): says so, and is not retried", async () => {
    const plain = await getOpenGauss();
    const e = await connectError({ ...target({ mode: "required" }), port: plain.port, user: plain.user, password: new Secret(plain.password ?? "") });
    expect(e.code).toBe("TARGET_CONNECTION");
    expect(e.message).toContain("does not accept TLS");
    expect(e.retriable).toBe(false);
  });

  test("a client certificate: a cert login succeeds with cert and key; the server's refusals are reported as such", async () => {
    const as = (tls: TlsConfig) => ({ ...target(tls, "127.0.0.1", CERT_USER), password: undefined });
    expect(await sessionUser(as({ mode: "verify-full", ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }))).toBe(CERT_USER);
    const without = await connectError(as({ mode: "verify-full", ca: certs.ca }));
    expect(without.code).toBe("TARGET_AUTH");
    expect(without.message).toContain("connection requires a valid client certificate");
    expect(without.message).not.toContain("could not be verified");
    const stranger = await connectError(as({ mode: "verify-full", ca: certs.ca, cert: certs.strangerCert, key: certs.strangerKey }));
    expect(stranger.message).toContain("the target server 127.0.0.1 refused the TLS handshake");
    expect(stranger.message).toContain("set [target.tls] cert and key");
  });
});

describe("passwords set under other server settings (this private server only)", () => {
  const plain = (user: string): TargetConfig => ({ ...target({ mode: "disabled" }, "127.0.0.1", user), database: "postgres" });

  /** Creates a user while `name` = `value`, then restores `back`; returns pg_authid's secret. */
  async function userUnder(user: string, name: string, value: string, back: string): Promise<string> {
    await setReloadable(og, name, value);
    try {
      await admin.unsafe(`CREATE USER ${user} PASSWORD '${PASSWORD}'`);
    } finally {
      await setReloadable(og, name, back);
    }
    const [row] = await admin.unsafe("SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1", [user]);
    return String(row?.p);
  }

  test("password_encryption_type = 0: the MD5 secret, asked for and answered as MD5 under an md5 line", async () => {
    const user = "pw_type0";
    expect(await userUnder(user, "password_encryption_type", "0", "2")).toBe(md5Secret(user, PASSWORD));
    const undo = await hbaFirst(og, [`host all ${user} 127.0.0.1/32 md5`]);
    try {
      expect(await authRequest(og.port, user)).toEqual({ code: 5 });
      expect(await sessionUser(plain(user))).toBe(user);
    } finally {
      await undo();
    }
  });

  test("password_encryption_type = 1: SHA256 and MD5 secrets combined; MD5 under an md5 line, SHA256 under a sha256 line", async () => {
    const user = "pw_type1";
    const stored = await userUnder(user, "password_encryption_type", "1", "2");
    // The iteration count's encoding comes last, after the MD5 secret.
    const sha = await storedSha256Secret(PASSWORD, stored.slice(6, 70), 10000);
    expect(stored).toBe(sha.slice(0, -11) + md5Secret(user, PASSWORD) + sha.slice(-11));
    for (const [method, asked] of [
      ["md5", { code: 5 }],
      ["sha256", { code: 10, method: 2 }],
    ] as const) {
      const undo = await hbaFirst(og, [`host all ${user} 127.0.0.1/32 ${method}`]);
      try {
        expect(await authRequest(og.port, user)).toEqual(asked);
        expect(await sessionUser(plain(user))).toBe(user);
      } finally {
        await undo();
      }
    }
  });

  test("auth_iteration_count = 2048: the secret the SHA256 answer is built from; SHA256 logs in, MD5_SHA256 is refused naming the count", async () => {
    const user = "pw_it2048";
    const stored = await userUnder(user, "auth_iteration_count", "2048", "10000");
    expect(stored).toBe(await storedSha256Secret(PASSWORD, stored.slice(6, 70), 2048));
    expect(await sessionUser(plain(user))).toBe(user);
    const undo = await hbaFirst(og, [`host all ${user} 127.0.0.1/32 md5`]);
    try {
      const e = await connectError(plain(user));
      expect(e.code).toBe("TARGET_AUTH");
      expect(e.message).toContain("auth_iteration_count = 10000");
    } finally {
      await undo();
    }
  });

  test("password_encryption_type = 3 (SM3) under an sm3 line: refused before any answer, naming the setting to change", async () => {
    const user = "pw_sm3";
    expect((await userUnder(user, "password_encryption_type", "3", "2")).slice(0, 3)).toBe("sm3");
    const undo = await hbaFirst(og, [`host all ${user} 127.0.0.1/32 sm3`]);
    try {
      expect(await authRequest(og.port, user)).toEqual({ code: 13 });
      const e = await connectError(plain(user));
      expect(e.code).toBe("TARGET_AUTH");
      expect(e.message).toContain("SM3");
      expect(e.message).toContain("password_encryption_type = 2");
    } finally {
      await undo();
    }
  });
});
