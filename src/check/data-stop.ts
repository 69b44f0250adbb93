// How `check --data` keeps its queries from outliving it (issue 14, item 7). Its scans can run
// for minutes on both servers, and neither MariaDB nor the target notices that a client has
// gone until it has a row to send it: a check that just died left them running to the end.
//  - Every session of the check carries a statement timeout ([check] statement_timeout_seconds),
//    so even a check killed with -9 leaves nothing running longer than that.
//  - On SIGINT/SIGTERM/SIGHUP the check has the servers end its sessions: MariaDB's by
//    `KILL <thread id>` sent on a connection of its own (the check's are busy), the target's by
//    pg_terminate_backend() on every session that carries this run's application_name. The whole
//    session goes, not just its query, so nothing the interrupted code still sends can run.
//    Then the check exits 1 (CHECK_INTERRUPTED): an interrupted check has not passed.

import { randomBytes } from "node:crypto";
import { BinlogConnection } from "../binlog/connection.ts";
import { log } from "../runtime/log.ts";
import type { CheckConfig, SourceConfig, TargetConfig } from "../config/types.ts";
import { connectTarget } from "../dialect/connect.ts";
import { causeChain, ReplicateError } from "../errors.ts";
import { errorText } from "./report.ts";

/** How long ending the sessions may take after a stop (a server that does not answer is not waited for). */
const END_SESSIONS_MS = 5_000;
/** MariaDB ER_STATEMENT_TIMEOUT (max_statement_time) and MySQL ER_QUERY_TIMEOUT (max_execution_time). */
const SOURCE_TIMEOUT_ERRNOS = new Set([1969, 3024]);
/** MariaDB ER_NO_SUCH_THREAD: the session had already ended. */
const NO_SUCH_THREAD = 1094;

/** This run's application_name on the target: what finds its sessions there, and only them. */
export function checkSessionName(): string {
  return `gs-replicate check ${randomBytes(4).toString("hex")}`;
}

/** Login settings of the check's target sessions: its name, and the statement timeout in ms. */
export function targetSessionSettings(cfg: CheckConfig, name: string): Record<string, string> {
  const ms = cfg.statement_timeout_seconds * 1000;
  return { application_name: name, ...(ms > 0 ? { statement_timeout: String(ms) } : {}) };
}

/** The source session's statement timeout: MariaDB's max_statement_time (s), MySQL's max_execution_time (ms, SELECTs). */
export function sourceTimeoutStatement(flavour: "mysql" | "mariadb", seconds: number): string {
  return flavour === "mariadb" ? `SET SESSION max_statement_time = ${seconds}` : `SET SESSION max_execution_time = ${seconds * 1000}`;
}

/**
 * The statement timeout's error as one a DBA can act on (naming the server and the key);
 * any other error unchanged.
 */
export function explainTimeout(err: unknown, cfg: CheckConfig): unknown {
  const seconds = cfg.statement_timeout_seconds;
  const said = (side: string) =>
    new ReplicateError(
      "CHECK_FAILED",
      `a query on the ${side} ran longer than [check] statement_timeout_seconds = ${seconds} and the server stopped it: raise that key (0: no limit) to compare tables this large, and compare just them with --tables`,
      { kind: "check", where: "check.statement_timeout_seconds", cause: err },
    );
  for (const e of causeChain(err)) {
    const x = e as { errno?: unknown; code?: unknown; message?: unknown };
    if (typeof x.errno === "number" && SOURCE_TIMEOUT_ERRNOS.has(x.errno)) return said("source");
    if (x.code === "57014" && /statement timeout/i.test(String(x.message))) return said("target");
  }
  return err;
}

interface CheckSessions {
  source: SourceConfig;
  target: TargetConfig;
  /** The application_name of the check's target sessions. */
  name: string;
  /** The thread ids of the check's source sessions opened so far. */
  threads: () => number[];
}

/**
 * Runs `work`; if `signal` aborts first, ends the check's sessions on both servers and rejects
 * with CHECK_INTERRUPTED (`where()` names what was being compared). What `work` fails with
 * after the stop (its sessions ended under it) is the stop's doing, not reported.
 */
export async function untilStopped<T>(signal: AbortSignal | undefined, sessions: CheckSessions, where: () => string, work: () => Promise<T>): Promise<T> {
  if (!signal) return work();
  let off = (): void => {};
  const stopped = new Promise<never>((_, reject) => {
    const onStop = () => {
      const at = where();
      void endSessions(sessions).finally(() =>
        reject(
          new ReplicateError(
            "CHECK_INTERRUPTED",
            `check --data was interrupted while comparing ${at}: its queries on the source and the target were ended, and nothing is concluded about the data; run it again`,
            { where: at },
          ),
        ),
      );
    };
    if (signal.aborted) return onStop();
    signal.addEventListener("abort", onStop, { once: true });
    off = () => signal.removeEventListener("abort", onStop);
  });
  stopped.catch(() => {});
  try {
    const running = work();
    running.catch(() => {});
    return await Promise.race([running, stopped]);
  } catch (err) {
    if (signal.aborted) return await stopped;
    throw err;
  } finally {
    off();
  }
}

/** Ends the check's sessions on both servers, within END_SESSIONS_MS; what could not be ended is logged. */
async function endSessions(s: CheckSessions): Promise<void> {
  const bounded = (what: string, f: () => Promise<void>) =>
    Promise.race([
      f().catch((err: unknown) => {
        throw new Error(errorText(err));
      }),
      Bun.sleep(END_SESSIONS_MS).then(() => {
        throw new Error(`no answer within ${END_SESSIONS_MS / 1000} s`);
      }),
    ]).catch((err: unknown) => log.warn(`could not end the check's queries on the ${what} (${errorText(err)}): they end at the latest after [check] statement_timeout_seconds`));
  await Promise.all([bounded("source", () => killSourceThreads(s.source, s.threads())), bounded("target", () => terminateTargetSessions(s.target, s.name))]);
}

async function killSourceThreads(cfg: SourceConfig, threads: number[]): Promise<void> {
  if (threads.length === 0) return;
  const c = await BinlogConnection.open(cfg);
  try {
    for (const id of threads) {
      await c.query(`KILL ${Math.trunc(id)}`).catch((err: { errno?: number }) => {
        if (err.errno !== NO_SUCH_THREAD) throw err;
      });
    }
  } finally {
    c.close();
  }
}

async function terminateTargetSessions(cfg: TargetConfig, name: string): Promise<void> {
  const sql = connectTarget(cfg, 1, { application_name: `${name} stop` });
  try {
    await sql.unsafe(
      "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()",
      [name],
    );
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}
