// One chunk: its rows read in a consistent view of the source and streamed into the target
// with COPY … FROM STDIN, in one target transaction with the ledger row that says it is loaded
// and at which binlog position. A chunk is therefore loaded whole or not at all: a kill -9 or a
// target restart mid-chunk leaves nothing of it, and the next run loads it again.

import type postgres from "postgres";
import type { BinlogPosition } from "../binlog/position.ts";
import type { ValueContext } from "../dialect/values.ts";
import { qualifiedTable, targetIdent } from "../dialect/identifiers.ts";
import { chunkLoaded, type LedgerChunk } from "./ledger.ts";
import { rangeWhere } from "./chunks.ts";
import { copyText } from "./copy-text.ts";
import { QUERY_OPTIONS, rowReader } from "./rows.ts";
import type { SourceTable } from "./schema.ts";
import type { View } from "./snapshots.ts";

/** Lines are gathered into writes of about this many characters. */
const WRITE_CHARS = 256 * 1024;

interface ChunkJob {
  table: SourceTable;
  split: string | null;
  chunk: LedgerChunk;
}

interface Loaded {
  rows: number;
  bytes: number;
  at: BinlogPosition;
}

const myIdent = (name: string) => `\`${name.replace(/`/g, "``")}\``;

export async function loadChunk(
  view: View,
  sql: postgres.Sql,
  job: ChunkJob,
  mapping: Record<string, string>,
  ctx: ValueContext,
  onRows: (n: number, bytes: number) => void,
): Promise<Loaded> {
  const t = job.table;
  const reader = rowReader(t.def, view.conn.info.flavour);
  const key = new Set(t.def.primaryKey.map((k) => k.toLowerCase()));
  const inKey = t.def.columns.map((c) => key.has(c.name.toLowerCase()));
  const select = `SELECT ${reader.selectList} FROM ${myIdent(t.database)}.${myIdent(t.table)}${rangeWhere(job.split, job.chunk)}`;
  const target = qualifiedTable(t.database, t.table, mapping);
  const columns = t.def.columns.map((c) => targetIdent(c.name)).join(", ");
  const where = () => `${t.database}.${t.table}, chunk ${job.chunk.chunk} of the copy`;
  let rows = 0;
  let bytes = 0;
  await sql.begin(async (tx) => {
    const w = await tx.unsafe(`COPY ${target} (${columns}) FROM STDIN`).writable();
    const done = new Promise<void>((resolve, reject) => {
      w.once("finish", resolve);
      w.once("error", reject);
    });
    let pending = "";
    let counted = 0;
    let countedBytes = 0;
    const report = () => {
      onRows(rows - counted, bytes - countedBytes);
      counted = rows;
      countedBytes = bytes;
    };
    const flush = async () => {
      if (pending === "") return;
      const ok = w.write(pending);
      pending = "";
      if (!ok) await new Promise<void>((resolve) => w.once("drain", resolve));
    };
    for await (const batch of view.conn.streamRowBatches({ sql: select, ...QUERY_OPTIONS })) {
      for (const row of batch) {
        const line = copyText(reader.descriptors, reader.decode(row), ctx, inKey, where);
        pending += line;
        bytes += line.length;
      }
      rows += batch.length;
      if (pending.length >= WRITE_CHARS) {
        await flush();
        report();
      }
    }
    await flush();
    report();
    w.end();
    await done;
    await chunkLoaded(tx, job.chunk, view.at, rows, bytes);
  });
  return { rows, bytes, at: view.at };
}
