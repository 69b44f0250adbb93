import { describe, expect, test } from "bun:test";
import { EventDecoder, type RowsEvent } from "../../../src/binlog/decode.ts";
import { EventType as E } from "../../../src/binlog/header.ts";
import { ColumnType as T } from "../../../src/binlog/types.ts";
import { ascii, caught, cat, event, find, lenStrNul, mysqlFormat, packed, real, u16, u32, u48 } from "./helpers.ts";
import { FILE1, FILE2, FILE3 } from "./mariadb-fixtures.ts";

function rows(ev: ReturnType<EventDecoder["decode"]>): RowsEvent {
  if (ev.kind !== "rows") throw new Error(`not a rows event: ${ev.kind}`);
  return ev;
}

/** Decodes events of a real file in order (TABLE_MAPs must precede their rows). */
function mariadbUpTo(file: typeof FILE1, last: number): ReturnType<EventDecoder["decode"]>[] {
  const d = new EventDecoder({ file: "binlog" });
  return file.filter((e) => e.offset <= last).map((e) => d.decode(real(e), e.offset));
}

describe("rows v1 from MariaDB 10.11 (real bytes)", () => {
  test("WRITE_ROWS: two rows, a NULL, every column present", () => {
    // table_id u48 18 | flags STMT_END_F | column_count 3 | present 07 | row: null bitmap 04
    // | id 1 | name len 1 'a' | row: null bitmap 00 | 2 | 'bb' | 'x'
    const ev = rows(mariadbUpTo(FILE1, 877).at(-1)!);
    expect(ev).toMatchObject({ op: "insert", tableId: 18n, version: 1, stmtEnd: true, columnCount: 3 });
    expect(ev.table.table).toBe("t1");
    expect(ev.rows).toEqual([{ after: [1, "a", null] }, { after: [2, "bb", "x"] }]);
    expect(ev.extraData.length).toBe(0);
  });

  test("UPDATE_ROWS: before and after images", () => {
    const ev = rows(mariadbUpTo(FILE1, 1137).at(-1)!);
    expect(ev.op).toBe("update");
    expect(ev.rows).toEqual([{ before: [1, "a", null], after: [1, "c", null] }]);
  });

  test("DELETE_ROWS", () => {
    const ev = rows(mariadbUpTo(FILE1, 1387).at(-1)!);
    expect(ev.rows).toEqual([{ before: [2, "bb", "x"] }]);
  });

  test("binlog_row_image=MINIMAL: absent columns are undefined, not NULL", () => {
    const all = mariadbUpTo(FILE3, 1053);
    const update = rows(all.find((e) => e.where.endsWith(":809"))!);
    expect(update.rows).toEqual([{ before: [5, undefined, undefined], after: [undefined, undefined, "n"] }]);
    expect(update.rows[0]!.before).toHaveLength(3);
    const del = rows(all.at(-1)!);
    expect(del.rows).toEqual([{ before: [5, undefined, undefined] }]);
  });

  test("compressed rows (log_bin_compress): insert, update, delete", () => {
    const all = mariadbUpTo(FILE2, 1142);
    const at = (o: number) => rows(all.find((e) => e.where.endsWith(`:${o}`))!);
    expect(at(586).rows).toEqual([{ after: [4, "compressedcompressed", "zzzzzzzzzz"] }]);
    expect(at(869).rows).toEqual([{ before: [4, "compressedcompressed", "zzzzzzzzzz"], after: [4, "compressedcompressed", "wwwwwwwwww"] }]);
    expect(at(1142).rows).toEqual([{ before: [4, "compressedcompressed", "wwwwwwwwww"] }]);
  });

  test("the real FULL-metadata table decodes every column type through values.ts", () => {
    const ev = rows(mariadbUpTo(FILE1, 2243).at(-1)!);
    const after = ev.rows[0]!.after!;
    expect(after[0]).toBe(1n);
    expect(after.slice(1, 4)).toEqual([-2, "yy", "p,r"]);
    expect(after.slice(6)).toEqual(["txt", new Uint8Array([0x61, 0x62, 0x63]), "12.50", 1.5, '{"a":1}', "vv"]);
  });
});

// Hand-built MySQL 8.0 fixtures. Table crm.t (table_id 300): id INT, name VARCHAR(20) utf8mb4
// (max 80 bytes, 1-byte length prefix), qty INT UNSIGNED. Layouts: libbinlogevents
// rows_event.h Table_map_event and Rows_event; values per MySQL Internals "Binlog Row Image".
function tableMapEvent(tableId: number, nCols = 3): Uint8Array {
  const typesAndMeta = nCols === 3 ? { types: [T.LONG, T.VARCHAR, T.LONG], meta: u16(80) } : { types: new Array<number>(nCols).fill(T.LONG), meta: [] };
  return event(
    E.TABLE_MAP,
    cat(
      u48(tableId), // table_id
      u16(1), // flags
      lenStrNul("crm"),
      lenStrNul(`t${tableId}`),
      packed(nCols),
      typesAndMeta.types,
      packed(typesAndMeta.meta.length),
      typesAndMeta.meta,
      new Array((nCols + 7) >> 3).fill(0xff), // null bitmap: all nullable
      nCols === 3 ? cat([1], packed(1), [0x40]) : [], // SIGNEDNESS, MSB first: qty (2nd numeric) unsigned
    ),
  );
}

const vchar = (s: string): number[] => [ascii(s).length, ...ascii(s)];

function v2Rows(type: number, tableId: number, flags: number, extra: number[], rest: number[]): Uint8Array {
  return event(
    type,
    cat(
      u48(tableId), // table_id
      u16(flags), // flags
      u16(2 + extra.length), // var_header_len, counting its own 2 bytes
      extra, // extra data TLV
      rest,
    ),
  );
}

function mysql(): EventDecoder {
  const d = new EventDecoder({ file: "mysql-bin.000007" });
  d.decode(mysqlFormat(), 4);
  return d;
}

describe("rows v2 (MySQL 5.6+) hand-built", () => {
  test("WRITE_ROWS v2 with extra data: skipped but kept, rows intact", () => {
    const d = mysql();
    d.decode(tableMapEvent(300));
    const extra = [0x01, 0x02, 0x03, 0x00]; // ROWS_V_EXTRAINFO: type 1 (partition info), u16-ish payload
    const ev = rows(
      d.decode(
        v2Rows(E.WRITE_ROWS, 300, 1, extra, [
          ...packed(3), // column_count
          0x07, // columns present: all
          0x00,
          ...u32(1),
          ...vchar("alpha"),
          ...u32(0xffffffff), // row 1: no NULLs
          0x02,
          ...u32(2),
          ...u32(5), // row 2: name NULL (bit 1 of the null bitmap)
        ]),
      ),
    );
    expect(ev).toMatchObject({ op: "insert", version: 2, stmtEnd: true, columnCount: 3 });
    expect([...ev.extraData]).toEqual(extra);
    expect(ev.rows).toEqual([{ after: [1, "alpha", 4294967295] }, { after: [2, null, 5] }]);
  });

  test("UPDATE_ROWS v2 with different before/after bitmaps (MINIMAL image) and NULLs", () => {
    const d = mysql();
    d.decode(tableMapEvent(300));
    const ev = rows(
      d.decode(
        v2Rows(
          E.UPDATE_ROWS,
          300,
          1,
          [],
          [
            ...packed(3),
            0x01, // before image: id only
            0x06, // after image: name, qty
            0x00,
            ...u32(9), // before: null bitmap over 1 present column, id 9
            0x01,
            ...u32(10), // after: name NULL (first present column), qty 10
            0x00,
            ...u32(11), // second row: before id 11
            0x00,
            ...vchar("z"),
            ...u32(12), // after: name 'z', qty 12
          ],
        ),
      ),
    );
    expect(ev.rows).toEqual([
      { before: [9, undefined, undefined], after: [undefined, null, 10] },
      { before: [11, undefined, undefined], after: [undefined, "z", 12] },
    ]);
  });

  test("DELETE_ROWS v2 with a null bitmap spanning two bytes", () => {
    const d = mysql();
    d.decode(tableMapEvent(301, 10));
    const values = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((v) => u32(v));
    const ev = rows(
      d.decode(
        v2Rows(
          E.DELETE_ROWS,
          301,
          1,
          [],
          [
            ...packed(10),
            0xff,
            0x03, // all 10 present
            0x00,
            0x02, // null bitmap: column 9 NULL (bit 1 of byte 2)
            ...values,
            ...u32(9), // columns 0..8
          ],
        ),
      ),
    );
    expect(ev.rows).toEqual([{ before: [1, 2, 3, 4, 5, 6, 7, 8, 9, null] }]);
  });

  test("4-byte table_id when the FORMAT_DESCRIPTION gives rows a 6-byte post-header", () => {
    const d = new EventDecoder();
    d.decode(mysqlFormat({ overrides: { [E.TABLE_MAP]: 6, [E.WRITE_ROWS_V1]: 6 } }), 4);
    d.decode(event(E.TABLE_MAP, cat(u32(5), u16(0), lenStrNul("d"), lenStrNul("t"), packed(1), [T.LONG], packed(0), [0])));
    const ev = rows(d.decode(event(E.WRITE_ROWS_V1, cat(u32(5), u16(1), packed(1), [1], [0], u32(42)))));
    expect(ev.rows).toEqual([{ after: [42] }]);
    expect(ev.tableId).toBe(5n);
  });
});

describe("rows errors and table-map lifetime", () => {
  test("rows for an unmapped table is BINLOG_SCHEMA_MISSING with the position", () => {
    const d = mysql();
    const err = caught(() => d.decode(event(E.WRITE_ROWS, cat(u48(999), u16(1), u16(2), packed(1), [1], [0], u32(1)), { start: 4000 })));
    expect(err.code).toBe("BINLOG_SCHEMA_MISSING");
    expect(err.message).toContain("table_id 999");
    expect(err.where).toBe("mysql-bin.000007:4000");
  });

  test("a statement-end marker for an unmapped table with no rows decodes to no rows", () => {
    const ev = rows(mysql().decode(event(E.WRITE_ROWS, cat(u48(0xffffff), u16(1), u16(2), packed(0)))));
    expect(ev.rows).toEqual([]);
    expect(ev.stmtEnd).toBe(true);
  });

  test("more columns than the TABLE_MAP is BINLOG_BAD_VALUE", () => {
    const d = mysql();
    d.decode(tableMapEvent(300));
    const err = caught(() => d.decode(v2Rows(E.WRITE_ROWS, 300, 1, [], [...packed(4), 0x0f, 0, ...u32(1)])));
    expect(err.code).toBe("BINLOG_BAD_VALUE");
  });

  test("a row cut short is BINLOG_TRUNCATED", () => {
    const d = mysql();
    d.decode(tableMapEvent(300));
    const err = caught(() => d.decode(v2Rows(E.WRITE_ROWS, 300, 1, [], [...packed(3), 0x07, 0x00, ...u32(1), 5, 0x61])));
    expect(err.code).toBe("BINLOG_TRUNCATED");
  });

  test("PARTIAL_UPDATE_ROWS is refused with the setting to change", () => {
    const d = mysql();
    d.decode(tableMapEvent(300));
    const err = caught(() => d.decode(v2Rows(E.PARTIAL_UPDATE_ROWS, 300, 1, [], [...packed(3), 7, 7])));
    expect(err.code).toBe("BINLOG_UNSUPPORTED");
    expect(err.message).toContain("binlog_row_value_options=PARTIAL_JSON");
    expect(err.message).toContain("SET GLOBAL binlog_row_value_options=''");
  });

  test("TABLE_MAPs of one statement stay; a new statement's TABLE_MAP drops the old ones", () => {
    const d = mysql();
    d.decode(tableMapEvent(300));
    d.decode(tableMapEvent(301, 10));
    const insert = [...packed(3), 0x07, 0x00, ...u32(1), ...vchar("a"), ...u32(1)];
    d.decode(v2Rows(E.WRITE_ROWS, 300, 0, [], insert)); // not the statement end
    expect(d.table(301n)).toBeDefined();
    d.decode(v2Rows(E.WRITE_ROWS, 300, 1, [], insert)); // STMT_END_F
    expect(d.table(300n)).toBeDefined(); // still there until the next statement maps tables
    d.decode(tableMapEvent(302));
    expect(d.table(300n)).toBeUndefined();
    expect(d.table(301n)).toBeUndefined();
    expect(d.table(302n)).toBeDefined();
    expect(caught(() => d.decode(v2Rows(E.WRITE_ROWS, 300, 1, [], insert))).code).toBe("BINLOG_SCHEMA_MISSING");
  });

  test("real MariaDB rows event given before its TABLE_MAP", () => {
    const d = new EventDecoder({ file: "binlog.000001" });
    d.decode(real(FILE1[0]!), 4);
    expect(caught(() => d.decode(real(find(FILE1, 877)), 877)).where).toBe("binlog.000001:877");
  });
});
