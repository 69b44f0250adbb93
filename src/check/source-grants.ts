// The replication user's privileges, read from SHOW GRANTS. Its lines can carry the password
// hash ("IDENTIFIED BY PASSWORD '*…'"), so only privilege names ever leave this file.
//
// Needed: REPLICATION SLAVE (the dump), REPLICATION CLIENT — BINLOG MONITOR on MariaDB 10.5+,
// which shows it under that name — (SHOW MASTER STATUS, SHOW BINARY LOGS), and SELECT on the
// captured databases (the schema snapshot and `check --data`).

import type { BinlogConnection } from "../binlog/connection.ts";
import type { SourceConfig } from "../config/types.ts";
import { type CheckResult, errorText, fail, ok, warn } from "./report.ts";

interface Grants {
  /** Privileges on *.*, upper case. */
  global: Set<string>;
  /** Privileges per database (`db`.*), database names as written. */
  databases: Map<string, Set<string>>;
  /** Table-level or column-level grants exist (not evaluated). */
  narrower: boolean;
  /** Roles granted to the user (their privileges are not expanded). */
  roles: string[];
}

/** Splits "SELECT (a, b), INSERT" at commas outside parentheses. */
function splitPrivileges(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out.map((p) => p.replace(/\s*\(.*\)$/, "").toUpperCase());
}

const unquote = (s: string) => s.replace(/^[`'"]|[`'"]$/g, "").replace(/``/g, "`");

function parseGrants(lines: readonly string[]): Grants {
  const g: Grants = { global: new Set(), databases: new Map(), narrower: false, roles: [] };
  for (const line of lines) {
    const m = /^GRANT\s+(.+?)\s+ON\s+(?:(?:TABLE|FUNCTION|PROCEDURE|PACKAGE(?: BODY)?)\s+)?(\S+)\s+TO\s/i.exec(line);
    if (!m) {
      const role = /^GRANT\s+(.+?)\s+TO\s/i.exec(line);
      if (role) g.roles.push(...role[1]!.split(",").map((r) => unquote(r.trim())));
      continue;
    }
    const privileges = splitPrivileges(m[1]!);
    const on = m[2]!;
    if (on === "*.*") {
      for (const p of privileges) g.global.add(p);
      continue;
    }
    const db = /^(`(?:[^`]|``)+`|[^.`]+)\.\*$/.exec(on);
    if (db) {
      const name = unquote(db[1]!);
      const set = g.databases.get(name) ?? new Set<string>();
      for (const p of privileges) set.add(p);
      g.databases.set(name, set);
      continue;
    }
    if (!/^PROXY$/i.test(m[1]!.trim())) g.narrower = true;
  }
  return g;
}

/** One of `privileges` (or ALL) on *.*. */
function hasGlobal(g: Grants, ...privileges: string[]): boolean {
  return g.global.has("ALL PRIVILEGES") || g.global.has("ALL") || privileges.some((p) => g.global.has(p));
}

/** SELECT on one database: globally, or on `db`.* (LIKE-style wildcards in the grant are honoured). */
function canSelect(g: Grants, database: string): boolean {
  if (hasGlobal(g, "SELECT")) return true;
  for (const [pattern, set] of g.databases) {
    if (!set.has("SELECT") && !set.has("ALL PRIVILEGES") && !set.has("ALL")) continue;
    const re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]]/g, "\\$&")
        .replace(/(?<!\\)%/g, ".*")
        .replace(/(?<!\\)_/g, ".")
        .replace(/\\\\([%_])/g, "$1")}$`,
      "i",
    );
    if (pattern === database || re.test(database)) return true;
  }
  return false;
}

export async function checkPrivileges(conn: BinlogConnection, cfg: SourceConfig, flavour: "mysql" | "mariadb"): Promise<CheckResult> {
  const id = "source.privileges";
  const rows = await conn.query<Record<string, string>>("SHOW GRANTS");
  const g = parseGrants(rows.map((r) => String(Object.values(r)[0] ?? "")));
  const missing: string[] = [];
  if (!hasGlobal(g, "REPLICATION SLAVE")) missing.push("REPLICATION SLAVE");
  const monitor = flavour === "mariadb" ? "BINLOG MONITOR" : "REPLICATION CLIENT";
  if (!hasGlobal(g, "REPLICATION CLIENT", "BINLOG MONITOR", "SUPER")) missing.push(monitor);
  // The grants say what should work; running the statement says what does (roles, SUPER rules).
  // Only a refusal counts here: without log_bin the statement fails too, which source.log_bin reports.
  const status = await conn.query("SHOW BINARY LOGS").then(
    () => "",
    (err: unknown) => (/denied/i.test(errorText(err)) ? errorText(err) : ""),
  );
  if (status && !missing.includes(monitor)) missing.push(monitor);
  const databases = cfg.databases.length > 0 ? cfg.databases : ["*"];
  const noSelect = databases.filter((d) => (d === "*" ? !hasGlobal(g, "SELECT") : !canSelect(g, d)));
  if (noSelect.length > 0) missing.push(`SELECT ON ${noSelect.map((d) => (d === "*" ? "*.*" : `\`${d}\`.*`)).join(", ")}`);
  const user = `'${cfg.user}'@'<host>'`;
  if (missing.length === 0) return ok(id, `REPLICATION SLAVE, ${monitor} and SELECT on ${cfg.databases.length > 0 ? cfg.databases.join(", ") : "every database"} are granted`);
  const found = `missing ${missing.join(", ")}${status ? ` (SHOW BINARY LOGS: ${status})` : ""}`;
  const fix = `GRANT ${missing
    .filter((m) => !m.startsWith("SELECT"))
    .concat(noSelect.length > 0 ? ["SELECT"] : [])
    .join(", ")} ON … TO ${user}`;
  // Privileges may come through roles or table grants this check does not expand.
  if (!status && (g.roles.length > 0 || g.narrower) && missing.every((m) => m.startsWith("SELECT"))) {
    return warn(id, `${found}; table-level grants or roles (${g.roles.join(", ") || "none"}) may cover it`, fix);
  }
  return fail(id, found, fix);
}
