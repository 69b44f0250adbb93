// Connections to the target. openGauss differences (its SHA256 login, its SQL) stay in
// src/dialect/; this file picks the options both dialects share.

import postgres from "postgres";
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import type { TargetConfig } from "../config/types.ts";
import { ReplicateError } from "../errors.ts";
import { explainTlsFailure } from "../config/tls.ts";
import { type LoginSocket, loginSockets, OPENGAUSS_PROTOCOL } from "./opengauss-login-shim.ts";

/** @param settings more session settings sent at login (the tests' own clients use it for output formats) */
export function connectTarget(t: TargetConfig, max: number, settings: Record<string, string> = {}): postgres.Sql {
  const common = {
    host: t.host,
    port: t.port,
    user: t.user,
    database: t.database,
    max,
    prepare: true,
    onnotice: () => {},
    // openGauss prints floats with 15 significant digits by default (extra_float_digits 0, as
    // PostgreSQL before 12 did): a double read back then differs from the one stored, and
    // DBL_MAX reads back as Infinity. 3 gives every digit on both (PostgreSQL 12+ prints the
    // shortest exact form at its default 1 already).
    connection: { application_name: "gs-replicate", ...(t.dialect === "opengauss" ? { extra_float_digits: "3" } : {}), ...settings },
    connect_timeout: 10,
    idle_timeout: 0,
    types: TEXT_TYPES,
  };
  if (t.dialect === "opengauss") {
    // postgres.js cannot answer openGauss's SHA256 login: it talks in plain to an in-process
    // LoginSocket, which logs in (over TLS if configured) and then forwards bytes.
    // `socket` is a documented postgres.js option its typings lack.
    const viaLogin: typeof common & { ssl: false; socket: () => LoginSocket } = {
      ...common,
      ssl: false,
      socket: loginSockets({ host: t.host, port: t.port, user: t.user, password: t.password, tls: tls(t) || undefined, protocolMinor: OPENGAUSS_PROTOCOL.minor }),
    };
    return postgres(viaLogin);
  }
  return postgres({ ...common, password: t.password?.reveal(), ssl: tls(t) });
}

// postgres.js serializes date/time parameters through JS Date, which keeps milliseconds only;
// MySQL values carry microseconds. Sending (and reading) them as text keeps every digit.
const asText = (oid: number) => ({ to: oid, from: [oid], serialize: (x: unknown) => String(x), parse: (x: string) => x });
const TEXT_TYPES = {
  date: asText(1082),
  time: asText(1083),
  timestamp: asText(1114),
  timestamptz: asText(1184),
  interval: asText(1186),
  // postgres.js JSON.stringify()s json/jsonb parameters; the sink already holds JSON text,
  // which would be stored as one JSON string instead of the document.
  json: asText(114),
  jsonb: asText(3802),
};

function tls(t: TargetConfig): ConnectionOptions | false {
  const m = t.tls.mode;
  if (m === "disabled") return false;
  const read = (p?: string) => (p ? readFileSync(p, "utf8") : undefined);
  return {
    ca: read(t.tls.ca),
    cert: read(t.tls.cert),
    key: read(t.tls.key),
    rejectUnauthorized: m !== "required",
    ...(m === "verify-ca" ? { checkServerIdentity: () => undefined } : {}),
  };
}

/** Fails fast, with the reason, when the target cannot be reached or refuses the login. */
export async function checkTarget(sql: postgres.Sql, t: TargetConfig): Promise<void> {
  try {
    await sql.unsafe("SELECT 1");
  } catch (cause) {
    // The openGauss login shim already says what went wrong, with the right code.
    if (cause instanceof ReplicateError) throw cause;
    const e = cause as { code?: string; message?: string };
    const auth = e.code === "28P01" || e.code === "28000";
    const said = e.message ?? String(cause);
    // A certificate that fails verification fails the same way on every retry.
    const tls = t.tls.mode === "disabled" ? undefined : explainTlsFailure(cause, "target", t.tls, t.host);
    throw new ReplicateError(
      auth ? "TARGET_AUTH" : "TARGET_CONNECTION",
      `cannot ${auth ? "log in to" : "reach"} the target ${t.host}:${t.port}/${t.database} as ${t.user}: ${tls ?? said}`,
      { retriable: !auth && tls === undefined, where: `${t.host}:${t.port}`, cause },
    );
  }
}
