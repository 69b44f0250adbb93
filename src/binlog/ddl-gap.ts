// Whether a schema snapshot taken now also describes the rows from an earlier position: it does
// when no DDL that changes a captured table's columns ran in between. A source that does not log
// column names (binlog_row_metadata below FULL) needs this proof before it decodes rows written
// between that position and now with a snapshot of today's schema — a first start at a past
// position ([source] start = "file:…" or "gtid:…"), or a restart whose log holds no history. A
// column moved or retyped in between would otherwise decode older rows with the wrong columns,
// silently when the types agree (issue 13: a/b swapped after MODIFY b INT AFTER id).
//
// The binlog from that position to its end is read once (rows are skipped undecoded: only the
// DDL statements matter). Statements that can change how earlier rows read are reported:
// ALTER, RENAME, DROP of tables or databases, CREATE OR REPLACE, and statements the parser does
// not understand. New tables, indexes, truncation and non-table objects are harmless: rows
// before them either do not exist or keep their columns.

import type { SourceConfig } from "../config/types.ts";
import { ReplicateError } from "../errors.ts";
import { BinlogConnection, describeStart, type DumpStart } from "./connection.ts";
import { EventDecoder } from "./decode.ts";
import { parseDdl } from "./ddl.ts";
import type { Ddl } from "./ddl-model.ts";
import { databaseFilter, type StreamItem, TransactionAssembler } from "./transactions.ts";

export interface GapDdl {
  statement: string;
  /** The binlog position of the transaction that ran it. */
  at: string;
}

/** The first DDL between `from` and the end of the binlog that can change how earlier rows of the captured databases read, or null. */
export async function firstDdlSince(config: SourceConfig, from: DumpStart): Promise<GapDdl | null> {
  const conn = await BinlogConnection.open(config);
  try {
    const lowerCase = conn.info.lowerCaseTableNames !== 0;
    const follows = databaseFilter(config.databases, lowerCase);
    const decoder = new EventDecoder({ file: from.kind === "file" ? from.file : "?", flavour: conn.info.flavour, keepDatabase: () => false });
    const assembler = new TransactionAssembler({ databases: [] });
    assembler.setLowerCaseNames(lowerCase);
    assembler.file = decoder.file;
    const out: StreamItem[] = [];
    let found: GapDdl | null = null;
    let txAt = "";
    await new Promise<void>((resolve, reject) => {
      conn
        .startDump(
          { start: from, nonBlocking: true },
          (raw) => {
            if (found) return;
            try {
              const ev = decoder.decode(raw);
              for (const e of ev.kind === "payload" ? decoder.expandPayload(ev) : [ev]) assembler.push(e, out);
            } catch (err) {
              reject(err);
              return;
            }
            for (const item of out) {
              if (item.kind === "begin") txAt = `${item.file}:${item.pos}`;
              if (item.kind !== "ddl" || found) continue;
              const ddl = parseDdl(item.statement, { database: item.database, flavour: conn.info.flavour, sqlMode: item.sqlMode, lowerCaseNames: lowerCase });
              if (changesEarlierRows(ddl, follows)) found = { statement: item.statement, at: txAt || decoder.file };
            }
            out.length = 0;
            if (found) resolve();
          },
          (err) => (err ? reject(err) : resolve()),
        )
        .catch(reject);
    });
    return found;
  } catch (cause) {
    if (cause instanceof ReplicateError) throw cause;
    throw new ReplicateError("SOURCE_CONNECTION", `cannot read the binlog from ${describeStart(from)} to look for DDL: ${(cause as Error).message}`, {
      retriable: true,
      where: describeStart(from),
      cause,
    });
  } finally {
    conn.close();
  }
}

function changesEarlierRows(ddl: Ddl, follows: (db: string) => boolean): boolean {
  switch (ddl.kind) {
    case "create_table":
    case "create_table_like":
      return ddl.orReplace && follows(ddl.table.database);
    case "drop_database":
      return follows(ddl.name);
    case "alter_table":
      return follows(ddl.table.database) || ddl.ops.some((o) => o.op === "rename_table" && follows(o.to.database));
    case "rename_table":
      return ddl.renames.some((r) => follows(r.from.database) || follows(r.to.database));
    case "drop_table":
      return !ddl.temporary && ddl.tables.some((t) => follows(t.database));
    case "unparsed":
      return ddl.tables === undefined || ddl.tables.some((t) => follows(t.database));
    default:
      return false;
  }
}
