// Rows events: the row changes themselves. The hot path of the whole tool.
//
// Layout (MySQL Internals "ROWS_EVENT", libbinlogevents rows_event.h Rows_event; MariaDB KB
// "ROWS_EVENT_V1"):
//   post-header: table_id u48 (u32 when the FD says the post-header is 6 bytes) | flags u16
//     v2 only (30-32, MySQL 5.6+): var_header_len u16, INCLUDING these 2 bytes
//   v2 only: extra data, var_header_len - 2 bytes of TLV (NDB info, 8.0 partition info)
//   column_count packed
//   columns-present bitmap ceil(column_count / 8) bytes, bit i LSB first
//   UPDATE only: a second present bitmap for the after image
//   rows to the end of the body, each: for every image (UPDATE: before, then after):
//     null bitmap ceil(present_count / 8) bytes, counted over PRESENT columns only
//     values of present, non-NULL columns in column order (layouts: values.ts)
// MariaDB compressed rows (166-168 v1, 169-171 v2, log_bin_compress=ON): identical up to and
// including the bitmaps; everything after them is in MariaDB's compressed form.
// Flags: STMT_END_F 1 (last rows event of the statement), NO_FOREIGN_KEY_CHECKS_F 2,
// RELAXED_UNIQUE_CHECKS_F 4, COMPLETE_ROWS_F 8.
// PARTIAL_UPDATE_ROWS (39) carries JSON diffs, not whole values; it is refused.

import { ReplicateError } from "../../errors.ts";
import { ByteReader } from "../reader.ts";
import type { BinlogValue, ColumnInfo, TableInfo } from "../types.ts";
import { decodeValue } from "../values.ts";
import { inflateMariadb } from "./mariadb-compress.ts";

const STMT_END_F = 1;
export const NO_FOREIGN_KEY_CHECKS_F = 2;

/** One value per table column; undefined = not in this image (binlog_row_image MINIMAL/NOBLOB). */
export type RowImage = (BinlogValue | undefined)[];

/** One row of a rows event, as written (not sink/writeset.ts RowChange, the decoded change the scheduler keys). */
export interface BinlogRowChange {
  before?: RowImage;
  after?: RowImage;
}

export type RowsOp = "insert" | "update" | "delete";

export interface Rows {
  op: RowsOp;
  tableId: bigint;
  table: TableInfo;
  flags: number;
  /** Last rows event of its statement. */
  stmtEnd: boolean;
  version: 1 | 2;
  columnCount: number;
  /** v2 extra data (TLV), as written; empty for v1. */
  extraData: Uint8Array;
  rows: BinlogRowChange[];
}

export interface RowsKind {
  op: RowsOp;
  version: 1 | 2;
  compressed: boolean;
}

const EMPTY = new Uint8Array(0);

export function decodeRows(r: ByteReader, kind: RowsKind, postHeaderLen: number, lookup: (tableId: bigint) => TableInfo | undefined): Rows {
  const idLen = postHeaderLen === 6 ? 4 : 6;
  const tableId = BigInt(r.uintN(idLen));
  const flags = r.u16();
  let consumed = idLen + 2;
  let extraLen = 0;
  if (kind.version === 2) {
    extraLen = r.u16();
    consumed += 2;
    if (extraLen < 2) {
      throw new ReplicateError("BINLOG_BAD_VALUE", `rows event extra-data length ${extraLen} is below 2`, {
        where: r.where,
      });
    }
  }
  if (postHeaderLen > consumed) r.skip(postHeaderLen - consumed);
  const extraData = extraLen > 2 ? r.bytes(extraLen - 2) : EMPTY;
  const n = r.packed();
  const presentBefore = readPresent(r, n);
  const presentAfter = kind.op === "update" ? readPresent(r, n) : presentBefore;

  const table = lookup(tableId);
  const stmtEnd = (flags & STMT_END_F) !== 0;
  const base = { op: kind.op, tableId, flags, stmtEnd, version: kind.version, columnCount: n, extraData };
  if (table === undefined) {
    // MySQL ends some statements with a rows event for a table id it never mapped and no
    // rows (a statement-end marker); anything else means the stream started mid-statement.
    if (r.remaining === 0 && stmtEnd) {
      return { ...base, table: { tableId, database: "", table: "", columns: [], primaryKey: [] }, rows: [] };
    }
    throw new ReplicateError(
      "BINLOG_SCHEMA_MISSING",
      `rows event for table_id ${tableId} arrived without a TABLE_MAP for it ` + "(did reading start in the middle of a transaction?)",
      { where: r.where },
    );
  }
  const cols = table.columns;
  if (n > cols.length) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `rows event for ${table.database}.${table.table} has ${n} columns, its TABLE_MAP ${cols.length}`, { where: r.where });
  }
  let data = r;
  if (kind.compressed) {
    const raw = inflateMariadb(r.rest(), r.where, "compressed rows event");
    data = new ByteReader(raw, r.where);
  }
  const rows: BinlogRowChange[] = [];
  const total = cols.length;
  if (kind.op === "insert") {
    while (data.remaining > 0) rows.push({ after: readImage(data, cols, presentBefore, n, total) });
  } else if (kind.op === "delete") {
    while (data.remaining > 0) rows.push({ before: readImage(data, cols, presentBefore, n, total) });
  } else {
    while (data.remaining > 0) {
      const before = readImage(data, cols, presentBefore, n, total);
      rows.push({ before, after: readImage(data, cols, presentAfter, n, total) });
    }
  }
  return { ...base, table, rows };
}

interface Present {
  /** One byte per column, 1 = in the image. */
  flags: Uint8Array;
  count: number;
}

function readPresent(r: ByteReader, n: number): Present {
  const bits = r.bytes((n + 7) >> 3);
  const flags = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (bits[i >> 3]! & (1 << (i & 7))) {
      flags[i] = 1;
      count++;
    }
  }
  return { flags, count };
}

function readImage(r: ByteReader, cols: ColumnInfo[], p: Present, n: number, total: number): RowImage {
  const present = p.flags;
  const nullBytes = (p.count + 7) >> 3;
  r.need(nullBytes, "row null bitmap");
  const buf = r.buf;
  const nb = r.pos;
  r.pos += nullBytes;
  const img: RowImage = [];
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (present[i] === 0) {
      img.push(undefined);
      continue;
    }
    if (buf[nb + (k >> 3)]! & (1 << (k & 7))) img.push(null);
    else img.push(decodeValue(r, cols[i]!));
    k++;
  }
  for (let i = n; i < total; i++) img.push(undefined);
  return img;
}

export function partialUpdateUnsupported(where: string): ReplicateError {
  return new ReplicateError(
    "BINLOG_UNSUPPORTED",
    "PARTIAL_UPDATE_ROWS event: the source logs JSON updates as partial diffs " +
      "(binlog_row_value_options=PARTIAL_JSON), " +
      "which cannot be replayed as whole values; on the source run SET GLOBAL binlog_row_value_options='' " +
      "(and remove it from my.cnf), then restart capture from a position after the change",
    { where },
  );
}
