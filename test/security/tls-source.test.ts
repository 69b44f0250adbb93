// [source.tls] against a private MariaDB that serves a certificate signed by a CA the test
// made, and refuses plain connections (require_secure_transport), so every success below
// went through TLS. The modes are checked by what they accept and refuse, through the
// compiled binary and through BinlogConnection (the source's only MySQL connection).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BinlogConnection } from "../../src/binlog/connection.ts";
import type { TlsConfig } from "../../src/config/types.ts";
import { ReplicateError } from "../../src/errors.ts";
import { currentPosition, sourceConfigFor } from "../support/binlog.ts";
import { runCli, writeConfig } from "../support/cli.ts";
import { getMariadb, startMariadb, type MariaDb } from "../support/servers.ts";
import { makeCerts, type Certs } from "./certs.ts";

let certs: Certs;
let db: MariaDb;
/** The server reads its certificate from here, so a test can swap it and FLUSH SSL. */
let served = { cert: "", key: "" };
const DB = "tls_src";
let from = { file: "", pos: 0 };

beforeAll(async () => {
  certs = makeCerts();
  const dir = mkdtempSync(join(tmpdir(), "gsr-mariadb-tls-"));
  served = { cert: join(dir, "server.crt"), key: join(dir, "server.key") };
  copyFileSync(certs.serverCert, served.cert);
  copyFileSync(certs.serverKey, served.key);
  // With ssl-ca the server also verifies client certificates (REQUIRE X509 below).
  db = await startMariadb({ tls: { ...served, ca: certs.ca, requireSecure: true } });
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${DB}; CREATE TABLE ${DB}.t (id INT PRIMARY KEY, v VARCHAR(40))`);
  from = await currentPosition(db);
  await c.query(`INSERT INTO ${DB}.t VALUES (1, 'over-tls-1'), (2, 'over-tls-2'); UPDATE ${DB}.t SET v = 'over-tls-3' WHERE id = 2`);
  await c.end();
}, 60_000);

afterAll(async () => {
  await db?.stop();
  if (served.cert) rmSync(dirname(served.cert), { recursive: true, force: true });
});

function tlsToml(t: TlsConfig): string {
  return [`[source.tls]`, `mode = "${t.mode}"`, ...(["ca", "cert", "key"] as const).flatMap((k) => (t[k] ? [`${k} = "${t[k]}"`] : []))].join("\n");
}

function config(t: TlsConfig, host = "127.0.0.1", user = "root"): string {
  return writeConfig(`
[source]
host = "${host}"
port = ${db.port}
user = "${user}"
password = ""
databases = ["${DB}"]
start = "file:${from.file}:${from.pos}"

${tlsToml(t)}
`);
}

/** The server's view of a connection opened with these settings: its TLS cipher. */
async function cipherThrough(t: TlsConfig, host = "127.0.0.1"): Promise<string> {
  const conn = await BinlogConnection.open(await sourceConfigFor(db, { host, tls: t }));
  try {
    const [row] = await conn.query<{ Value: string }>("SHOW STATUS LIKE 'Ssl_cipher'");
    return row?.Value ?? "";
  } finally {
    conn.close();
  }
}

async function openError(t: TlsConfig, host = "127.0.0.1"): Promise<ReplicateError> {
  const err = await BinlogConnection.open(await sourceConfigFor(db, { host, tls: t })).then(
    (c) => {
      c.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ReplicateError);
  return err as ReplicateError;
}

describe("[source.tls] against MariaDB with a test CA", () => {
  test("verify-full with the right CA: `source --stdout --stop-at-end` replicates every change", async () => {
    const r = await runCli(["source", "--config", config({ mode: "verify-full", ca: certs.ca }), "--stdout", "--stop-at-end"]);
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; after?: { v?: string } });
    expect(events.filter((e) => e.type === "change").map((e) => e.after?.v)).toEqual(["over-tls-1", "over-tls-2", "over-tls-3"]);
    expect(await cipherThrough({ mode: "verify-full", ca: certs.ca })).not.toBe("");
    // The DNS name in the certificate is checked as well as its IP address.
    expect(await cipherThrough({ mode: "verify-full", ca: certs.ca }, "localhost")).not.toBe("");
  });

  test("verify-ca with the right CA replicates too", async () => {
    const r = await runCli(["source", "--config", config({ mode: "verify-ca", ca: certs.ca }), "--stdout", "--stop-at-end"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("over-tls-3");
    expect(await cipherThrough({ mode: "verify-ca", ca: certs.ca })).not.toBe("");
  });

  test("a wrong CA: exit 1 naming the host, that the certificate could not be verified, and what to set", async () => {
    const r = await runCli(["source", "--config", config({ mode: "verify-full", ca: certs.otherCa }), "--stdout", "--stop-at-end"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`127.0.0.1:${db.port}`);
    expect(r.stderr).toContain("could not be verified");
    expect(r.stderr).toContain("set [source.tls] ca to the PEM file of the CA");
    expect(r.stderr).toContain("SOURCE_CONNECTION");
    const e = await openError({ mode: "verify-ca", ca: certs.otherCa });
    expect(e.code).toBe("SOURCE_CONNECTION");
    expect(e.retriable).toBe(false);
  });

  test("verify-full without ca trusts the built-in public CAs, which did not sign the test certificate", async () => {
    const r = await runCli(["source", "--config", config({ mode: "verify-full" }), "--stdout", "--stop-at-end"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("could not be verified against the built-in public CAs");
    // The trusted set is the runtime's: NODE_EXTRA_CA_CERTS extends it (README).
    const extra = await runCli(["source", "--config", config({ mode: "verify-full" }), "--stdout", "--stop-at-end"], { env: { NODE_EXTRA_CA_CERTS: certs.ca } });
    expect(extra.stderr).not.toContain("ERROR");
    expect(extra.code).toBe(0);
  });

  test('"required" encrypts without verifying: any certificate is accepted, and the session is TLS', async () => {
    expect(await cipherThrough({ mode: "required" })).not.toBe("");
    const r = await runCli(["source", "--config", config({ mode: "required" }), "--stdout", "--stop-at-end"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("over-tls-3");
  });

  test("a client certificate: a REQUIRE X509 user logs in with cert and key, not without; a key others can read is reported", async () => {
    const c = await db.connect();
    await c.query(`CREATE USER x509_repl@'%' REQUIRE X509; GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO x509_repl@'%'`);
    await c.end();
    const key = join(mkdtempSync(join(tmpdir(), "gsr-key-")), "client.key");
    copyFileSync(certs.clientKey, key);
    chmodSync(key, 0o644);
    const t: TlsConfig = { mode: "verify-full", ca: certs.ca, cert: certs.clientCert, key };
    const asX509 = (t: TlsConfig) => config(t, "127.0.0.1", "x509_repl");
    const r = await runCli(["source", "--config", asX509(t), "--stdout", "--stop-at-end"]);
    expect(r.stderr).toContain(`[source.tls] key ${key} is world-readable; chmod 600 it`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("over-tls-3");
    chmodSync(key, 0o600);
    const quiet = await runCli(["source", "--config", asX509(t), "--stdout", "--stop-at-end"]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain("world-readable");
    const without = await runCli(["source", "--config", asX509({ mode: "verify-full", ca: certs.ca }), "--stdout", "--stop-at-end"]);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain("Access denied for user 'x509_repl'");
    const stranger = await runCli(["source", "--config", asX509({ ...t, cert: certs.strangerCert, key: certs.strangerKey }), "--stdout", "--stop-at-end"]);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain(`the source server 127.0.0.1 refused the TLS handshake`);
    expect(stranger.stderr).toContain("set [source.tls] cert and key to a certificate signed by a CA it trusts");
  });

  test("TLS asked of a server without TLS: refused, saying so", async () => {
    const plain = await getMariadb();
    const err = await BinlogConnection.open(await sourceConfigFor(plain, { tls: { mode: "required" } })).then(
      (c) => c.close(),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReplicateError);
    expect((err as Error).message).toContain('does not accept TLS, but [source.tls] mode = "required" requires it');
  });

  test('"disabled" against this server is refused by the server (the other successes were TLS)', async () => {
    const r = await runCli(["source", "--config", config({ mode: "disabled" }), "--stdout", "--stop-at-end"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("SOURCE_CONNECTION");
  });

  test("verify-ca without ca, ca with required, cert without key, an unreadable ca: exit 2 naming the key", async () => {
    const cases: Array<[TlsConfig, string, string]> = [
      [{ mode: "verify-ca" }, "[source.tls] ca", 'mode = "verify-ca" needs ca'],
      [{ mode: "required", ca: certs.ca }, "[source.tls] ca", "ca is not used with"],
      [{ mode: "verify-full", ca: certs.ca, cert: certs.serverCert }, "[source.tls] key", "cert and key go together"],
      [{ mode: "verify-full", ca: "/nonexistent/ca.pem" }, "[source.tls] ca", "cannot read /nonexistent/ca.pem"],
      [{ mode: "verify-full", ca: certs.dir }, "[source.tls] ca", "cannot read"],
    ];
    for (const [t, key, says] of cases) {
      const r = await runCli(["source", "--config", config(t), "--stdout", "--stop-at-end"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(key);
      expect(r.stderr).toContain(says);
      expect(r.stderr).toContain("CONFIG_BAD_VALUE");
    }
  });

  test("a certificate for another name: verify-full refuses it naming the host, verify-ca accepts it", async () => {
    const c = await db.connect();
    try {
      copyFileSync(certs.wrongNameCert, served.cert);
      copyFileSync(certs.wrongNameKey, served.key);
      await c.query("FLUSH SSL");
      for (const host of ["127.0.0.1", "localhost"]) {
        const e = await openError({ mode: "verify-full", ca: certs.ca }, host);
        expect(e.message).toContain(`not valid for the host name ${host}`);
        expect(e.message).toContain('[source.tls] mode = "verify-ca"');
        expect(e.retriable).toBe(false);
      }
      const r = await runCli(["source", "--config", config({ mode: "verify-full", ca: certs.ca }), "--stdout", "--stop-at-end"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("not valid for the host name 127.0.0.1");
      expect(await cipherThrough({ mode: "verify-ca", ca: certs.ca })).not.toBe("");
      const ok = await runCli(["source", "--config", config({ mode: "verify-ca", ca: certs.ca }), "--stdout", "--stop-at-end"]);
      expect(ok.code).toBe(0);
    } finally {
      copyFileSync(certs.serverCert, served.cert);
      copyFileSync(certs.serverKey, served.key);
      await c.query("FLUSH SSL");
      await c.end();
    }
  });
});
