// [source.tls] and [target.tls]: the combinations that cannot do what the file seems to ask
// are refused at load time (exit 2) instead of connecting with less protection than meant,
// and a failed handshake is explained in terms of the key to change.

import { readFileSync, statSync } from "node:fs";
import type { TlsConfig } from "./types.ts";

interface TlsProblem {
  /** The dotted key concerned, e.g. "source.tls.ca". */
  key: string;
  message: string;
}

/**
 * Returns the first problem of a TLS section, or undefined. `warnings` receives non-fatal
 * findings (a private key others can read).
 */
export function checkTls(t: TlsConfig, section: string, warnings: string[], file: string): TlsProblem | undefined {
  const at = (k: string) => `${section}.${k}`;
  const mode = `mode = "${t.mode}"`;
  // verify-ca without a CA would accept any certificate a public CA issued to anyone, for
  // any name: that verifies nothing. verify-full without `ca` uses the runtime's built-in public CAs.
  if (t.mode === "verify-ca" && t.ca === undefined) {
    return { key: at("ca"), message: `${mode} needs ca, the PEM file of the CA that signed the server's certificate (verify-full without ca trusts the built-in public CAs)` };
  }
  // `required` never verifies: a CA given with it would look like protection that is not there.
  if (t.ca !== undefined && (t.mode === "required" || t.mode === "disabled")) {
    return { key: at("ca"), message: `ca is not used with ${mode}; set mode = "verify-full" (or "verify-ca") to verify the server with it, or remove ca` };
  }
  if ((t.cert !== undefined || t.key !== undefined) && t.mode === "disabled") {
    return { key: at(t.cert !== undefined ? "cert" : "key"), message: `a client certificate is only sent over TLS; set mode (e.g. "verify-full") or remove cert and key` };
  }
  if ((t.cert === undefined) !== (t.key === undefined)) {
    return { key: at(t.cert === undefined ? "cert" : "key"), message: "cert and key go together: set both (the client certificate and its private key) or neither" };
  }
  for (const k of ["ca", "cert", "key"] as const) {
    const path = t[k];
    if (path === undefined) continue;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      return { key: at(k), message: `cannot read ${path}: ${(err as Error).message}` };
    }
    if (!text.includes("-----BEGIN ")) return { key: at(k), message: `${path} is not a PEM file (no "-----BEGIN" line)` };
    if (k === "key" && (statSync(path).mode & 0o004) !== 0) {
      warnings.push(`${file}: [${section}] key ${path} is world-readable; chmod 600 it`);
    }
  }
  return undefined;
}

/**
 * What to do about a failed TLS handshake, or undefined when `err` is not one. `who` is
 * "source" or "target"; node:tls and the drivers word these failures as below.
 */
export function explainTlsFailure(err: unknown, who: "source" | "target", t: TlsConfig, host: string): string | undefined {
  const e = (err ?? {}) as { message?: unknown; severity?: unknown; severity_local?: unknown; sqlState?: unknown };
  // An error the server sent is about the login, even when it mentions certificates ("connection
  // requires a valid client certificate"). postgres.js gives PostgreSQL's a severity (field V);
  // openGauss, PostgreSQL 9.2-based, sends only the localized one (S, severity_local); MySQL's
  // carry a SQLSTATE.
  if (e.severity !== undefined || e.severity_local !== undefined || e.sqlState !== undefined) return undefined;
  const message = typeof e.message === "string" ? e.message : String(err);
  const s = `[${who}.tls]`;
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)/i.test(message)) {
    return (
      `the ${who} server ${host} refused the TLS handshake (${message}); if it checks client certificates, ` + `set ${s} cert and key to a certificate signed by a CA it trusts`
    );
  }
  if (/altnames|does not match certificate|ERR_TLS_CERT_ALTNAME/i.test(message)) {
    return (
      `the ${who} server's TLS certificate is not valid for the host name ${host} (${message}); ` +
      `set [${who}] host to a name the certificate lists, or ${s} mode = "verify-ca" to check only who signed it`
    );
  }
  if (/certificate|self[- ]signed|unable to (verify|get)|CERT_/i.test(message)) {
    const ca = t.ca === undefined ? "the built-in public CAs (and NODE_EXTRA_CA_CERTS)" : `the CA in ${t.ca}`;
    return (
      `the ${who} server's TLS certificate at ${host} could not be verified against ${ca} (${message}); ` +
      `set ${s} ca to the PEM file of the CA that signed the server's certificate, or ${s} mode = "required" to encrypt without verifying`
    );
  }
  // mysql2's wording when the server's handshake does not offer TLS.
  if (/does not support secure connection/i.test(message)) {
    return `the ${who} server ${host} does not accept TLS, but ${s} mode = "${t.mode}" requires it; enable TLS on the server or set ${s} mode = "disabled"`;
  }
  // postgres.js starts the handshake even when the server answered "no TLS"; the server then
  // hangs up, and this is all node:tls can say.
  if (/disconnected before secure TLS connection/i.test(message)) {
    return `the ${who} server ${host} closed the connection during the TLS handshake, so it probably does not accept TLS, but ${s} mode = "${t.mode}" requires it; enable TLS on the server or set ${s} mode = "disabled"`;
  }
  return undefined;
}
