// Throwaway X.509 material for the TLS tests, made with the openssl command line (node:crypto
// cannot sign certificates): a CA, a server certificate it signs for 127.0.0.1 and localhost,
// a server certificate it signs for another name only (to tell verify-ca from verify-full),
// a client certificate it signs, and an unrelated CA that signed nothing the servers present
// (and a client certificate no server trusts).

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "bun";

export interface Certs {
  dir: string;
  /** The CA that signed both server certificates. */
  ca: string;
  /** A CA that signed nothing the servers present. */
  otherCa: string;
  /** Server certificate and key for CN/SAN 127.0.0.1 and localhost. */
  serverCert: string;
  serverKey: string;
  /** Server certificate and key for the name elsewhere.invalid only (same CA). */
  wrongNameCert: string;
  wrongNameKey: string;
  /** Client certificate and key (CN gsr_client, a user name openGauss accepts: no "-"; extendedKeyUsage clientAuth). */
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by the other CA, which no server trusts. */
  strangerCert: string;
  strangerKey: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed (exit ${r.exitCode}): ${r.stderr.toString()}`);
}

function makeCa(dir: string, name: string): void {
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
}

function makeLeaf(dir: string, name: string, cn: string, ext: string, signer = "ca"): void {
  writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n${ext}\n`);
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${cn}`, "-keyout", `${name}.key`, "-out", `${name}.csr`], dir);
  openssl(
    ["x509", "-req", "-in", `${name}.csr`, "-CA", `${signer}.crt`, "-CAkey", `${signer}.key`, "-CAcreateserial", "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.crt`],
    dir,
  );
}

let made: Certs | undefined;

/** Made once per test run (RSA key generation takes a moment). */
export function makeCerts(): Certs {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), "gsr-certs-"));
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  makeLeaf(dir, "server", "127.0.0.1", "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost");
  makeLeaf(dir, "wrong-name", "elsewhere.invalid", "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:elsewhere.invalid");
  makeLeaf(dir, "client", "gsr_client", "extendedKeyUsage=clientAuth");
  makeLeaf(dir, "stranger", "gsr_client", "extendedKeyUsage=clientAuth", "other-ca");
  const p = (f: string) => join(dir, f);
  made = {
    dir,
    ca: p("ca.crt"),
    otherCa: p("other-ca.crt"),
    serverCert: p("server.crt"),
    serverKey: p("server.key"),
    wrongNameCert: p("wrong-name.crt"),
    wrongNameKey: p("wrong-name.key"),
    clientCert: p("client.crt"),
    clientKey: p("client.key"),
    strangerCert: p("stranger.crt"),
    strangerKey: p("stranger.key"),
  };
  return made;
}
