// [target.tls] against a private PostgreSQL that serves a certificate signed by a CA the test
// made and rejects plain connections (pg_hba hostnossl … reject), so every success below went
// through TLS; pg_stat_ssl confirms it from the server's side. Both login paths are covered:
// postgres.js directly (dialect postgresql) and the openGauss login socket (dialect opengauss).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TargetConfig, TlsConfig } from "../../src/config/types.ts";
import { checkTarget, connectTarget } from "../../src/dialect/connect.ts";
import { ReplicateError } from "../../src/errors.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli, writeConfig } from "../support/cli.ts";
import { journalTransport, sourceConfig } from "../support/pipeline.ts";
import { getMariadb, getPostgres, startPostgres, uniqueName, type Postgres } from "../support/servers.ts";
import { makeCerts, type Certs } from "./certs.ts";

let certs: Certs;
let pg: Postgres;
const PGDB = "tls_target";
const CERT_USER = "gsr_client";

beforeAll(async () => {
  certs = makeCerts();
  pg = await startPostgres({
    ssl: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca },
    // The client certificate's CN is the user name of a `cert` login.
    hba: ["hostnossl all all 0.0.0.0/0 reject", `hostssl all "${CERT_USER}" 127.0.0.1/32 cert`],
  });
  await pg.createDatabase(PGDB);
  const admin = pg.sql();
  await admin.unsafe(`CREATE ROLE "${CERT_USER}" LOGIN`);
  await admin.end();
}, 60_000);

afterAll(async () => {
  await pg?.stop();
});

function target(tls: TlsConfig, host = "127.0.0.1", dialect: TargetConfig["dialect"] = "postgresql"): TargetConfig {
  return { host, port: pg.port, user: "postgres", database: PGDB, dialect, schema_mapping: {}, tls };
}

/** Whether the server sees the session opened with these settings as TLS (pg_stat_ssl). */
async function sslThrough(t: TargetConfig): Promise<boolean> {
  const sql = connectTarget(t, 1);
  try {
    await checkTarget(sql, t);
    const [row] = await sql.unsafe("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    return row?.ssl === true;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function connectError(t: TargetConfig): Promise<ReplicateError> {
  const sql = connectTarget(t, 1);
  try {
    const err = await checkTarget(sql, t).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReplicateError);
    return err as ReplicateError;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function tlsToml(t: TlsConfig): string {
  return [`[target.tls]`, `mode = "${t.mode}"`, ...(["ca", "cert", "key"] as const).flatMap((k) => (t[k] ? [`${k} = "${t[k]}"`] : []))].join("\n");
}

function sinkConfig(journal: string, t: TlsConfig): string {
  return writeConfig(`
${journal}

[target]
host = "127.0.0.1"
port = ${pg.port}
user = "postgres"
database = "${PGDB}"
dialect = "postgresql"

${tlsToml(t)}
`);
}

describe("[target.tls] against PostgreSQL with a test CA", () => {
  let journal = "";
  let name = "";

  beforeAll(async () => {
    // A journal written from the shared (plain) MariaDB, for the sink runs below.
    const db = await getMariadb();
    name = uniqueName("tlstgt");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(40))`);
    const from = await currentPosition();
    await c.query(`INSERT INTO ${name}.t VALUES (1, 'a'), (2, 'b'); UPDATE ${name}.t SET v = 'c' WHERE id = 2; DELETE FROM ${name}.t WHERE id = 1`);
    await c.end();
    const j = journalTransport();
    journal = j.toml;
    const s = await runCli(["source", "--config", await sourceConfig(db, name, from, j.toml), "--stop-at-end"]);
    expect(s.code).toBe(0);
    const sql = pg.sql(PGDB);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, v varchar(40))`);
    await sql.end();
  }, 60_000);

  test("verify-full with the right CA: `gs-replicate sink` replays the journal over TLS", async () => {
    const r = await runCli(["sink", "--config", sinkConfig(journal, { mode: "verify-full", ca: certs.ca }), "--stop-at-end"]);
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    const sql = pg.sql(PGDB);
    const rows = await sql.unsafe(`SELECT id, v FROM "${name}".t ORDER BY id`);
    await sql.end();
    expect(rows.map((r) => [r.id as number, r.v as string])).toEqual([[2, "c"]]);
  });

  test("verify-full and verify-ca with the right CA, both login paths, by IP and by name: TLS sessions", async () => {
    for (const dialect of ["postgresql", "opengauss"] as const) {
      expect(await sslThrough(target({ mode: "verify-full", ca: certs.ca }, "127.0.0.1", dialect))).toBe(true);
      expect(await sslThrough(target({ mode: "verify-full", ca: certs.ca }, "localhost", dialect))).toBe(true);
      expect(await sslThrough(target({ mode: "verify-ca", ca: certs.ca }, "127.0.0.1", dialect))).toBe(true);
    }
  });

  test('"required" encrypts without verifying', async () => {
    for (const dialect of ["postgresql", "opengauss"] as const) {
      expect(await sslThrough(target({ mode: "required" }, "127.0.0.1", dialect))).toBe(true);
    }
  });

  test("a wrong CA: sink exit 1 naming the host, that the certificate could not be verified, and what to set", async () => {
    const r = await runCli(["sink", "--config", sinkConfig(journal, { mode: "verify-full", ca: certs.otherCa }), "--stop-at-end"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${pg.port}`);
    expect(r.stderr).toContain("could not be verified");
    expect(r.stderr).toContain("set [target.tls] ca to the PEM file of the CA");
    expect(r.stderr).toContain("TARGET_CONNECTION");
    for (const dialect of ["postgresql", "opengauss"] as const) {
      const e = await connectError(target({ mode: "verify-ca", ca: certs.otherCa }, "127.0.0.1", dialect));
      expect(e.message).toContain("could not be verified");
      // Retrying cannot make a certificate verify.
      expect(e.retriable).toBe(false);
    }
    const system = await connectError(target({ mode: "verify-full" }));
    expect(system.message).toContain("could not be verified against the built-in public CAs");
  });

  test('"disabled" against this server is refused by the server (the other successes were TLS)', async () => {
    const e = await connectError(target({ mode: "disabled" }));
    expect(e.message).toContain("no encryption");
  });

  test("TLS asked of a server without TLS: says so, and is not retried", async () => {
    const plain = await getPostgres();
    for (const dialect of ["postgresql", "opengauss"] as const) {
      const e = await connectError({ ...target({ mode: "required" }, "127.0.0.1", dialect), port: plain.port });
      expect(e.message).toMatch(/does not accept TLS/);
      expect(e.retriable).toBe(false);
    }
  });

  test("a client certificate: a cert login succeeds with cert and key; the server's refusals are reported as such", async () => {
    const as = (tls: TlsConfig, dialect: TargetConfig["dialect"]) => ({ ...target(tls, "127.0.0.1", dialect), user: CERT_USER });
    for (const dialect of ["postgresql", "opengauss"] as const) {
      expect(await sslThrough(as({ mode: "verify-full", ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, dialect))).toBe(true);
      const without = await connectError(as({ mode: "verify-full", ca: certs.ca }, dialect));
      expect(without.code).toBe("TARGET_AUTH");
      expect(without.message).toContain("connection requires a valid client certificate");
      expect(without.message).not.toContain("could not be verified");
      const stranger = await connectError(as({ mode: "verify-full", ca: certs.ca, cert: certs.strangerCert, key: certs.strangerKey }, dialect));
      expect(stranger.message).toContain("the target server 127.0.0.1 refused the TLS handshake");
      expect(stranger.message).toContain("set [target.tls] cert and key");
    }
  });

  test("verify-ca without ca, and ca with disabled: exit 2 naming [target.tls] ca", async () => {
    const cases: Array<[TlsConfig, string]> = [
      [{ mode: "verify-ca" }, 'mode = "verify-ca" needs ca'],
      [{ mode: "disabled", ca: certs.ca }, "ca is not used with"],
    ];
    for (const [t, says] of cases) {
      const r = await runCli(["sink", "--config", sinkConfig(journal, t), "--stop-at-end"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("[target.tls] ca");
      expect(r.stderr).toContain(says);
    }
  });

  test("a certificate for another name: verify-full refuses it naming the host, verify-ca accepts it", async () => {
    const served = (f: string) => join(dirname(pg.datadir), f);
    const full = target({ mode: "verify-full", ca: certs.ca });
    const reload = async (cert: string, key: string, done: () => Promise<boolean>) => {
      copyFileSync(cert, served("server.crt"));
      copyFileSync(key, served("server.key"));
      const sql = pg.sql();
      await sql.unsafe("SELECT pg_reload_conf()");
      await sql.end();
      // The postmaster rereads the files on SIGHUP, shortly after.
      for (let i = 0; i < 50 && !(await done()); i++) await Bun.sleep(100);
    };
    try {
      await reload(certs.wrongNameCert, certs.wrongNameKey, () =>
        sslThrough(full).then(
          () => false,
          () => true,
        ),
      );
      for (const dialect of ["postgresql", "opengauss"] as const) {
        for (const host of ["127.0.0.1", "localhost"]) {
          const e = await connectError(target({ mode: "verify-full", ca: certs.ca }, host, dialect));
          expect(e.message).toContain(`not valid for the host name ${host}`);
          expect(e.message).toContain('[target.tls] mode = "verify-ca"');
        }
        expect(await sslThrough(target({ mode: "verify-ca", ca: certs.ca }, "127.0.0.1", dialect))).toBe(true);
      }
    } finally {
      await reload(certs.serverCert, certs.serverKey, () => sslThrough(full).catch(() => false));
    }
  });
});
