// A DDL transaction on the target: each statement parsed (src/binlog/ddl.ts), translated
// against the target as it is at that moment (read inside the same target transaction), and
// run, with any rows the transaction also carries (CREATE TABLE … SELECT), its checkpoint row
// and the change to the pending foreign keys (src/dialect/ddl-foreign.ts), in one target
// transaction: a crash leaves either all of it or none. Parts with no target meaning are
// logged; objects the target does not get are also recorded in gs_replicate.skipped_objects
// (src/dialect/ddl-objects.ts), in the same transaction; untranslatable ones stop the sink, and so does a translated statement the target
// refuses, quoting the part of it that failed and saying what to do.

import { parseDdl } from "../binlog/ddl.ts";
import { errorFields, log } from "../runtime/log.ts";
import { noteRetry } from "../runtime/metrics.ts";
import { readTargetCatalog, type SkippedObject, translateDdl, type UntranslatablePolicy } from "../dialect/ddl.ts";
import { ReplicateError } from "../errors.ts";
import type { ChangeMessage } from "../events/decode.ts";
import { sleepUnlessStopped } from "../runtime/signals.ts";
import type { SinkTx } from "./assembler.ts";
import { applyChanges, asTargetError, statementExcerpt, type ApplyContext } from "./apply.ts";
import { loadPendingForeignKeys, recordApplied, savePendingForeignKeys } from "./checkpoint.ts";
import { loadSkippedObjects, saveSkippedObjects } from "../dialect/skipped-store.ts";
import { appliedEarlier, type WorkerConn, type WorkerPool } from "./worker.ts";

/** DDL transactions retry lost connections like the workers do (worker.ts). */
const DDL_ATTEMPTS = 10;

interface DdlOptions {
  dialect: "opengauss" | "postgresql";
  ctx: Omit<ApplyContext, "describe">;
  /** "transaction GTID … at file:pos", for messages. */
  describe: string;
  onWait: (what: string | undefined) => void;
  /** [sink] untranslatable. */
  untranslatable: UntranslatablePolicy;
  /** The run's stop: a retry's wait ends on it (worker.ts does the same). */
  signal?: AbortSignal;
}

export async function applyDdl(pool: WorkerPool, tx: SinkTx, opts: DdlOptions): Promise<void> {
  const describe = opts.describe;
  for (let attempt = 1; ; attempt++) {
    let conn: WorkerConn | undefined;
    try {
      conn = await pool.take();
      await runDdl(conn, tx, opts, pool.hold([tx.offset]));
      pool.give(conn);
      opts.onWait(undefined);
      return;
    } catch (err) {
      if (conn) await pool.recover(conn, err);
      // The checkpoint row is the first statement: an earlier attempt did commit.
      if (await appliedEarlier(err, [tx.offset], pool)) {
        opts.onWait(undefined);
        return;
      }
      const e = asTargetError(err, { ...opts.ctx, describe });
      if (!e.retriable || attempt >= DDL_ATTEMPTS) throw e;
      const delay = Math.min(10_000, 100 * 2 ** attempt);
      noteRetry("ddl", e);
      log.warn({ message: `${e.message}; retrying the DDL transaction in ${delay} ms (attempt ${attempt + 1} of ${DDL_ATTEMPTS})`, ...errorFields(e) });
      opts.onWait(`the target (retrying a DDL transaction, attempt ${attempt + 1} of ${DDL_ATTEMPTS})`);
      await sleepUnlessStopped(delay, opts.signal);
      if (opts.signal?.aborted) throw e;
    }
  }
}

async function runDdl(conn: WorkerConn, tx: SinkTx, opts: DdlOptions, hold: string | undefined): Promise<void> {
  const sql = conn.sql;
  const describe = opts.describe;
  await sql.unsafe("BEGIN");
  if (hold) await sql.unsafe(hold);
  await recordApplied(sql, [{ offset: tx.offset, gtid: tx.end.gtid, file: tx.begin.file, pos: tx.begin.pos, endPos: tx.end.pos }]);
  const changes: ChangeMessage[] = [];
  const at = { gtid: tx.begin.gtid, file: tx.begin.file, pos: tx.begin.pos };
  for (const item of tx.items) {
    if (item.kind === "change") {
      changes.push(item);
      continue;
    }
    const flavour = tx.begin.flavour === "mariadb" ? "mariadb" : "mysql";
    const parsed = parseDdl(item.statement, {
      database: item.database,
      flavour,
      lowerCaseNames: item.lowerCaseNames,
      ...(item.sqlMode === null ? {} : { sqlMode: item.sqlMode }),
    });
    conn.check(`reading the catalog for ${describe}`);
    const pending = await loadPendingForeignKeys(sql);
    const catalog = await readTargetCatalog(sql, parsed, opts.ctx.schemaMapping, pending);
    const objects = await loadSkippedObjects(sql);
    catalog.objects = structuredClone(objects);
    const {
      statements,
      skipped,
      notes,
      catalog: after,
    } = translateDdl(parsed, {
      dialect: opts.dialect,
      schemaMapping: opts.ctx.schemaMapping,
      gtid: tx.begin.gtid,
      position: `${tx.begin.file}:${tx.begin.pos}`,
      catalog,
      flavour,
      eventTimeMs: tx.begin.tsMs,
      foreignKeyChecks: item.foreignKeyChecks,
      zeroDate: opts.ctx.zeroDate,
      untranslatable: opts.untranslatable,
    });
    for (const s of skipped) log.warn(`${describe}: ${s.object ? recordedLine(s.object, s.part) : `${s.part}: not applied on the target: ${s.reason}`}`);
    for (const [i, statement] of statements.entries()) {
      conn.check(describe);
      try {
        await sql.unsafe(statement);
      } catch (err) {
        throw refusedStatement(
          err,
          { ...opts.ctx, describe },
          { index: i, count: statements.length, source: item.statement, skipId: tx.begin.gtid ?? `${tx.begin.file}:${tx.begin.pos}` },
        );
      }
    }
    await savePendingForeignKeys(sql, pending, after.pending, at);
    await saveSkippedObjects(sql, objects, after.objects, at);
    for (const n of notes) log.info(`${describe}: ${n}`);
    const shown = item.statement.length > 120 ? `${item.statement.slice(0, 120)}…` : item.statement;
    if (statements.length > 0)
      log.info(`${describe}: DDL applied${skipped.length > 0 ? ` (${skipped.length} part${skipped.length === 1 ? "" : "s"} not applied, above)` : ""}: ${shown}`);
    else log.info(`${describe}: DDL not applied (no target statement): ${shown}`);
  }
  conn.check(describe);
  if (changes.length > 0) await applyChanges(sql, changes, { ...opts.ctx, describe });
  conn.check(`the COMMIT of ${describe}`);
  await sql.unsafe("COMMIT");
}

/** One line per object the target does not get, with what to do about it at cutover. */
function recordedLine(o: SkippedObject, part: string): string {
  const name = o.table === "" ? `${o.schema}.${o.name}` : `${o.schema}.${o.table} ${o.name}`;
  return `recorded, not applied: ${o.kind} ${name} (${part}): ${o.reason}; at cutover: ${o.cutover} (listed by gs-replicate check as target.skipped_objects)`;
}

/**
 * A translated statement the target refused: a lost connection or a conflict is left to the
 * retry; anything else names the statement (the part that failed), the source statement, and
 * the two ways on.
 */
function refusedStatement(err: unknown, ctx: ApplyContext, s: { index: number; count: number; source: string; skipId: string }): unknown {
  const e = asTargetError(err, ctx);
  if (e.retriable) return err;
  const server = err as { message?: string; detail?: string; hint?: string; query?: string; position?: string };
  const source = s.source.length > 200 ? `${s.source.slice(0, 200)}…` : s.source;
  return new ReplicateError(
    "TARGET_DATA",
    `${ctx.describe}: the target refused statement ${s.index + 1} of ${s.count} translated from the DDL "${source}": ${server.message ?? String(err)}` +
      `${server.detail ? ` (${server.detail})` : ""}${server.hint ? ` (hint: ${server.hint})` : ""}; statement: ${statementExcerpt(server.query ?? "", server.position)}. ` +
      `Nothing of the transaction was applied. Make the target able to run it (the message says what it lacks) and restart the sink, or apply an equivalent change by hand and resume with: gs-replicate sink --config FILE --skip-ddl ${s.skipId}`,
    { where: ctx.describe, cause: err },
  );
}
