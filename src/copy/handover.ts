// The hand-over to `source`: the copy's position P written into the (empty) log as `source`
// itself would have left it before a restart: the schema history as of P (when the source does
// not log column names), then a Position record at P pointing at it. `source` started on that
// log resumes at P (src/source/start.ts, src/events/resume.ts): the operator never copies a
// position by hand. The ledger says whether this was done, so a rerun of copy does not write
// it twice; a log that holds anything else is refused (a migration has one log).

import type { BinlogConnection } from "../binlog/connection.ts";
import { firstDdlSince } from "../binlog/ddl-gap.ts";
import type { BinlogPosition } from "../binlog/position.ts";
import { SchemaHistory } from "../binlog/schema.ts";
import type { Config } from "../config/types.ts";
import { ReplicateError } from "../errors.ts";
import { ChangeEventWriter } from "../events/encode.ts";
import { HistoryLog } from "../events/history.ts";
import { decodeBuiltin, recordKind } from "../events/decode.ts";
import { describeLog, openLogReader, openLogWriter } from "../transport/open.ts";
import { log } from "../runtime/log.ts";

export type Handover = BinlogPosition & { gtid: string | null };

/**
 * Writes the hand-over into the log. `history`: the schema snapshot taken with P (null: take
 * one now and prove no DDL since P changed a copied table, as a first `source` start does).
 */
export async function writeHandover(cfg: Config, conn: BinlogConnection, at: Handover, history: SchemaHistory | null): Promise<"written" | "present"> {
  const out = await openLogWriter(cfg.transport!, { onWarning: (m) => log.warn(m) });
  try {
    if (out.endOffset() > 0n) {
      // A copy killed after writing the hand-over, before the ledger said so; `source` may have
      // appended since.
      const first = await firstPosition(cfg);
      if (first && first.file === at.file && first.pos === at.pos) return "present";
      throw new ReplicateError(
        "COPY_LOG_NOT_EMPTY",
        `the log ${describeLog(cfg.transport!)} already holds ${out.endOffset()} records${first ? ` from ${first.file}:${first.pos} on` : ""}, not this copy's hand-over at ${at.file}:${at.pos}: copy starts a migration and hands over to source through an empty log. Name a new journal directory or Kafka topic in [transport]`,
        { where: describeLog(cfg.transport!) },
      );
    }
    const events = new ChangeEventWriter(cfg.source!.server_name);
    const rows = await conn.query<{ Value?: string }>("SHOW GLOBAL VARIABLES LIKE 'binlog_row_metadata'");
    if (rows[0]?.Value?.toUpperCase() !== "FULL") {
      let h = history;
      if (!h) {
        h = await SchemaHistory.snapshot((sql) => conn.query(sql), cfg.source!.databases);
        const gap = await firstDdlSince(cfg.source!, { kind: "file", file: at.file, pos: at.pos });
        if (gap) {
          throw new ReplicateError(
            "COPY_SCHEMA_CHANGED",
            `since the copy's position ${at.file}:${at.pos}, "${gap.statement.slice(0, 200)}" (at ${gap.at}) changed a copied table, and the source does not log column names (binlog_row_metadata is not FULL): the rows between cannot be decoded for sure. Start the migration again`,
            { where: gap.at },
          );
        }
      }
      await out.append(new HistoryLog(events).records(h, out.endOffset()));
    }
    await out.append([events.positionRecord(at.file, at.pos, at.gtid)]);
    await out.sync();
    return "written";
  } finally {
    await out.close();
  }
}

/** The first Position or End record of the log (the hand-over, when copy wrote it), within its first records. */
async function firstPosition(cfg: Config): Promise<BinlogPosition | null> {
  const reader = await openLogReader(cfg.transport!);
  try {
    let seen = 0;
    for await (const { record } of reader.read(0n, { follow: false })) {
      const kind = recordKind(record);
      if (kind === "position" || kind === "end") {
        const m = decodeBuiltin(record);
        return m.kind === "position" || m.kind === "end" ? { file: m.file, pos: m.pos } : null;
      }
      // The history before it takes a few records; a log that starts otherwise is not a hand-over.
      if (kind !== "history" || ++seen > 1000) return null;
    }
    return null;
  } finally {
    await reader.close();
  }
}
