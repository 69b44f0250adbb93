// Preflight of the source server: what `gs-replicate source` needs from it (docs/check.md).
// Every query here is read-only and works with the privileges the replication user should
// have; a query the user may not run becomes part of the finding, never a crash.

import { BinlogConnection } from "../binlog/connection.ts";
import { MariadbGtidState } from "../binlog/gtid.ts";
import type { SourceConfig } from "../config/types.ts";
import { parseStart } from "../config/start.ts";
import { type CheckResult, errorText, fail, notRun, ok, warn } from "./report.ts";
import { checkPrivileges } from "./source-grants.ts";
import { sourceTimeoutStatement } from "./data-stop.ts";

/** Binlog retention below this is reported: a sink stopped over a long weekend must still find its position. */
const SHORT_RETENTION_SECONDS = 3 * 86_400;

const IDS = [
  "source.version",
  "source.log_bin",
  "source.binlog_format",
  "source.binlog_row_image",
  "source.gtid",
  "source.binlog_row_metadata",
  "source.binlog_checksum",
  "source.privileges",
  "source.server_id",
  "source.start_position",
  "source.binlog_retention",
  "source.lower_case_table_names",
] as const;

type Vars = Map<string, string>;

interface SourceCheck {
  results: CheckResult[];
  /** Open when the source could be reached; the caller closes it. */
  conn?: BinlogConnection;
}

/**
 * @param mappingKeys the databases named in [target] schema_mapping (checked against lower_case_table_names)
 * @param timeoutSeconds the session's statement timeout ([check] statement_timeout_seconds; 0: none)
 */
export async function checkSource(cfg: SourceConfig, mappingKeys: string[] = [], timeoutSeconds = 0): Promise<SourceCheck> {
  const where = `${cfg.host}:${cfg.port}`;
  let conn: BinlogConnection;
  try {
    conn = await BinlogConnection.open(cfg);
  } catch (err) {
    const results = [
      fail(
        "source.connection",
        `cannot connect to ${where} as ${cfg.user}: ${errorText(err)}`,
        "check [source] host, port, user, password and TLS, and that the server accepts connections from this host",
      ),
    ];
    for (const id of IDS) results.push(notRun(id, "the source could not be reached", "fix source.connection first"));
    return { results };
  }
  const { version, flavour } = conn.info;
  if (timeoutSeconds > 0) await conn.query(sourceTimeoutStatement(flavour, timeoutSeconds));
  const results: CheckResult[] = [ok("source.connection", `${flavour === "mariadb" ? "MariaDB" : "MySQL"} ${version} at ${where} as ${cfg.user}`)];
  const vars: Vars = new Map();
  for (const r of await conn.query<{ Variable_name: string; Value: string | null }>(
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin','binlog_format','binlog_row_image','gtid_mode','enforce_gtid_consistency','binlog_row_metadata','binlog_checksum','expire_logs_days','binlog_expire_logs_seconds','gtid_binlog_pos','gtid_binlog_state','gtid_strict_mode','gtid_purged','server_id')",
  )) {
    vars.set(r.Variable_name.toLowerCase(), String(r.Value ?? ""));
  }
  const checks: Array<() => CheckResult | Promise<CheckResult>> = [
    () => checkVersion(version, flavour),
    () => checkLogBin(vars),
    () =>
      checkVar(
        vars,
        "binlog_format",
        "ROW",
        "source.binlog_format",
        "set binlog_format=ROW in the server configuration (and SET GLOBAL binlog_format='ROW'; existing sessions keep their format until they reconnect)",
      ),
    () => checkVar(vars, "binlog_row_image", "FULL", "source.binlog_row_image", "set binlog_row_image=FULL: the sink needs every column of the before and after images"),
    () => checkGtid(vars, flavour),
    () => checkRowMetadata(vars),
    () => checkChecksum(vars),
    () => checkPrivileges(conn, cfg, flavour),
    () => checkServerId(conn, vars, cfg),
    () => checkStart(conn, vars, cfg, flavour),
    () => checkRetention(vars),
    () => checkLowerCaseNames(conn.info.lowerCaseTableNames, mappingKeys),
  ];
  for (const [i, check] of checks.entries()) {
    try {
      results.push(await check());
    } catch (err) {
      results.push(notRun(IDS[i]!, errorText(err), "run the check again; if it persists, check the source user's privileges"));
    }
  }
  return { results, conn };
}

/** "10.11.19-MariaDB-log" → [10, 11]. */
function versionOf(version: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function checkVersion(version: string, flavour: "mysql" | "mariadb"): CheckResult {
  const [major, minor] = versionOf(version);
  const min = flavour === "mariadb" ? [10, 0] : [5, 7];
  if (major > min[0]! || (major === min[0]! && minor >= min[1]!)) return ok("source.version", `${version} (${flavour}; at least ${min.join(".")} is supported)`);
  return fail("source.version", `${version} is older than ${flavour === "mariadb" ? "MariaDB 10.0" : "MySQL 5.7"}`, "upgrade the source server before migrating");
}

function checkLogBin(vars: Vars): CheckResult {
  const v = (vars.get("log_bin") ?? "").toUpperCase();
  if (v === "ON" || v === "1") return ok("source.log_bin", "ON");
  return fail("source.log_bin", `log_bin is ${v || "absent"}: the server writes no binary log`, "add log_bin (and a unique server_id) to the server configuration and restart it");
}

function checkVar(vars: Vars, name: string, want: string, id: string, fix: string): CheckResult {
  const v = (vars.get(name) ?? "").toUpperCase();
  if (v === want) return ok(id, `${name}=${v}`);
  return fail(id, `${name}=${v || "absent"}, ${want} is required`, fix);
}

function checkGtid(vars: Vars, flavour: "mysql" | "mariadb"): CheckResult {
  if (flavour === "mariadb") {
    const pos = vars.get("gtid_binlog_pos") ?? "";
    const strict = (vars.get("gtid_strict_mode") ?? "").toUpperCase();
    const found = `MariaDB GTID position ${pos || "(empty: nothing logged yet)"}, gtid_strict_mode=${strict || "?"}; MariaDB logs no commit clock, so parallel replay comes from writesets`;
    return strict === "ON"
      ? ok("source.gtid", found)
      : warn("source.gtid", found, "set gtid_strict_mode=ON so that out-of-order GTIDs are refused by the server instead of met by the sink");
  }
  const mode = (vars.get("gtid_mode") ?? "OFF").toUpperCase();
  if (mode === "ON") return ok("source.gtid", "gtid_mode=ON: the logical clock orders parallel replay");
  return warn(
    "source.gtid",
    `gtid_mode=${mode}: parallelism then comes from writesets alone, and positions are file:pos`,
    "set gtid_mode=ON and enforce_gtid_consistency=ON (stepwise: OFF_PERMISSIVE, ON_PERMISSIVE, ON)",
  );
}

function checkRowMetadata(vars: Vars): CheckResult {
  const v = vars.get("binlog_row_metadata");
  if (v === undefined) return ok("source.binlog_row_metadata", "not available on this version: column names and types come from the schema history");
  if (v.toUpperCase() === "FULL") return ok("source.binlog_row_metadata", "FULL");
  return warn(
    "source.binlog_row_metadata",
    `${v}: column names and charsets come from the schema history only`,
    "set binlog_row_metadata=FULL (recommended: each row event then carries its column names, which lets the source verify its schema history)",
  );
}

function checkChecksum(vars: Vars): CheckResult {
  const v = (vars.get("binlog_checksum") ?? "NONE").toUpperCase();
  if (v === "CRC32") return ok("source.binlog_checksum", "CRC32: every event is verified on reading");
  if (v === "NONE") return warn("source.binlog_checksum", "NONE: events are read without an integrity check", "set binlog_checksum=CRC32");
  return fail("source.binlog_checksum", `${v} is not a checksum this tool reads`, "set binlog_checksum=CRC32");
}

async function checkServerId(conn: BinlogConnection, vars: Vars, cfg: SourceConfig): Promise<CheckResult> {
  const id = cfg.server_id;
  const fix = "set [source] server_id to a number no server or replica of this topology uses";
  if (Number(vars.get("server_id")) === id) return fail("source.server_id", `server_id ${id} is the source's own server_id`, fix);
  let replicas: Array<Record<string, unknown>> | undefined;
  let why = "";
  for (const sql of ["SHOW REPLICAS", "SHOW SLAVE HOSTS"]) {
    try {
      replicas = await conn.query(sql);
      break;
    } catch (err) {
      why = errorText(err);
    }
  }
  const dumps = await conn
    .query<{ n: number | string }>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
    .then((r) => Number(r[0]?.n ?? 0))
    .catch(() => -1);
  const threads = dumps < 0 ? "" : `; ${dumps} binlog dump connection(s) visible to this user`;
  if (replicas === undefined) {
    return warn(
      "source.server_id",
      `cannot list the registered replicas (${why})${threads}`,
      `make sure no replica uses server_id ${id}, or grant REPLICATION MASTER ADMIN (MariaDB) / REPLICATION SLAVE (MySQL) so that the check can see them`,
    );
  }
  const ids = replicas.map((r) => Number(r.Server_id ?? r.Server_Id ?? r.server_id));
  if (ids.includes(id)) return fail("source.server_id", `a registered replica already uses server_id ${id}`, `${fix}: the server disconnects one of two replicas with the same id`);
  return ok("source.server_id", `${id} differs from the source's (${vars.get("server_id")}) and from ${ids.length} registered replica(s)${threads}`);
}

interface BinaryLog {
  name: string;
  size: number;
}

async function binaryLogs(conn: BinlogConnection): Promise<BinaryLog[]> {
  const rows = await conn.query<{ Log_name: string; File_size: number | string }>("SHOW BINARY LOGS");
  return rows.map((r) => ({ name: r.Log_name, size: Number(r.File_size) }));
}

async function checkStart(conn: BinlogConnection, vars: Vars, cfg: SourceConfig, flavour: "mysql" | "mariadb"): Promise<CheckResult> {
  const id = "source.start_position";
  const start = parseStart(cfg.start);
  const newCopy = 'take a new full copy of the data and start from "current" (or from the position of that copy)';
  if (!start || start.kind === "current") return ok(id, `start = "current": the first run starts at the server's position then; later runs continue from the log`);
  if (start.kind === "file") {
    const logs = await binaryLogs(conn);
    const log = logs.find((l) => l.name === start.file);
    const first = logs[0]?.name ?? "(none)";
    if (!log) {
      const purged = logs.length > 0 && start.file < first;
      return fail(
        id,
        purged ? `${start.file} was purged; the oldest binlog is ${first}` : `${start.file} is not among the server's binlogs (${first} … ${logs.at(-1)?.name ?? ""})`,
        purged ? newCopy : "correct [source] start",
      );
    }
    if (start.pos > log.size) return fail(id, `${start.file}:${start.pos} is past the end of that file (${log.size} bytes)`, "correct [source] start");
    return ok(id, `${start.file}:${start.pos} is still in the binlogs (oldest ${first})`);
  }
  if (flavour === "mysql") {
    const [row] = await conn.query<{ ok: number | string }>(`SELECT GTID_SUBSET(@@GLOBAL.gtid_purged, ${quoteMy(start.set)}) AS ok`);
    if (Number(row?.ok) === 1) return ok(id, `every GTID purged from the binlogs (${vars.get("gtid_purged") || "none"}) is in the start set`);
    return fail(id, `the server purged GTIDs the start set lacks (gtid_purged = ${vars.get("gtid_purged")})`, newCopy);
  }
  return checkMariadbGtidStart(conn, vars, start.set, newCopy);
}

async function checkMariadbGtidStart(conn: BinlogConnection, vars: Vars, set: string, newCopy: string): Promise<CheckResult> {
  const id = "source.start_position";
  const want = MariadbGtidState.parse(set);
  const logs = await binaryLogs(conn);
  const first = logs[0]?.name;
  if (!first) return fail(id, "the server has no binlogs", "enable log_bin");
  // The Gtid_list event at the head of the oldest binlog is the GTID state before it: a start
  // older than that in a domain needs transactions that are gone.
  const events = await conn.query<{ Event_type: string; Info: string }>(`SHOW BINLOG EVENTS IN ${quoteMy(first)} LIMIT 4`);
  const list = events.find((e) => e.Event_type === "Gtid_list")?.Info.replace(/^\[|\]$/g, "") ?? "";
  const before = MariadbGtidState.parse(list);
  const logged = MariadbGtidState.parse(vars.get("gtid_binlog_state") ?? "");
  for (const g of want.domains.values()) {
    const purged = before.domains.get(g.domain);
    if (purged && g.seq < purged.seq)
      return fail(id, `domain ${g.domain}: the start ${g.domain}-${g.server}-${g.seq} is older than the oldest binlog ${first} (which begins after ${list})`, newCopy);
    const last = logged.domains.get(g.domain);
    if (last && g.seq > last.seq)
      return fail(id, `domain ${g.domain}: the start ${g.domain}-${g.server}-${g.seq} is ahead of the server (${vars.get("gtid_binlog_state")})`, "correct [source] start");
  }
  return ok(id, `gtid ${set} is still in the binlogs (oldest ${first} begins after ${list || "nothing"})`);
}

function checkRetention(vars: Vars): CheckResult {
  const id = "source.binlog_retention";
  const seconds = Number(vars.get("binlog_expire_logs_seconds") ?? 0) || Number(vars.get("expire_logs_days") ?? 0) * 86_400;
  if (!Number.isFinite(seconds) || seconds <= 0) return ok(id, "binlogs are never purged automatically (watch the disk)");
  const days = (seconds / 86_400).toFixed(1);
  if (seconds < SHORT_RETENTION_SECONDS) {
    return warn(
      id,
      `binlogs are purged after ${days} days: a sink or source stopped longer loses its position`,
      `raise binlog_expire_logs_seconds (or expire_logs_days) to at least ${SHORT_RETENTION_SECONDS / 86_400} days for the migration`,
    );
  }
  return ok(id, `binlogs are kept ${days} days`);
}

function quoteMy(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/**
 * lower_case_table_names ≠ 0: the server stores database and table names in lower case, and
 * so does the target (docs/ddl.md). [source] databases is compared in lower case, but a
 * [target] schema_mapping key with capitals would never match and its database would land in
 * a schema of its own name instead of the mapped one.
 */
export function checkLowerCaseNames(value: number, mappingKeys: string[]): CheckResult {
  const id = "source.lower_case_table_names";
  if (value === 0) return ok(id, "0: database and table names are case-sensitive and keep the case written");
  const mixed = mappingKeys.filter((k) => k !== k.toLowerCase());
  if (mixed.length > 0) {
    return fail(
      id,
      `lower_case_table_names=${value}: the source names databases in lower case, but [target] schema_mapping names ${mixed.map((k) => `"${k}"`).join(", ")}`,
      `write those keys in lower case (${mixed.map((k) => `${k.toLowerCase()} = …`).join(", ")})`,
      "[target] schema_mapping",
    );
  }
  return ok(id, `lower_case_table_names=${value}: database and table names are stored in lower case, and replicated so`);
}
