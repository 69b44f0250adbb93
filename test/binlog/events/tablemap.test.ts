import { describe, expect, test } from "bun:test";
import { EventDecoder, type TableMapEvent } from "../../../src/binlog/decode.ts";
import { EventType as E } from "../../../src/binlog/header.ts";
import { ColumnType as T } from "../../../src/binlog/types.ts";
import { caught, cat, event, find, lenStrNul, mysqlFormat, packed, packedStr, real, tlv, u16, u32, u48, u8 } from "./helpers.ts";
import { FILE1 } from "./mariadb-fixtures.ts";

function mariadb(): EventDecoder {
  const d = new EventDecoder({ file: "binlog.000001" });
  d.decode(real(FILE1[0]!), 4);
  return d;
}

function mysql(overrides?: Record<number, number>): EventDecoder {
  const d = new EventDecoder({ file: "mysql-bin.000001" });
  d.decode(mysqlFormat(overrides ? { overrides } : {}), 4);
  return d;
}

function tableMap(ev: ReturnType<EventDecoder["decode"]>): TableMapEvent {
  if (ev.kind !== "tableMap") throw new Error(`not a table map: ${ev.kind}`);
  return ev;
}

describe("TABLE_MAP from MariaDB 10.11 with binlog_row_metadata=FULL (real bytes)", () => {
  test("shop.full: every optional field applied", () => {
    // Body: table_id u48 22 | flags 1 | "shop" | "full" | 12 columns | types 08 03 fe fe ff fc fc
    // fe f6 04 fc 0f | metadata (15 bytes) | null bitmap fc 0f | TLVs: 01 SIGNEDNESS a0,
    // 03 COLUMN_CHARSET [63,63,8,63,46,46], 07 GEOMETRY_TYPE [1], 04 COLUMN_NAME,
    // 0b ENUM_AND_SET_COLUMN_CHARSET [8,45], 05 SET_STR_VALUE, 06 ENUM_STR_VALUE, 08 PK [0,1]
    const tm = tableMap(mariadb().decode(real(find(FILE1, 2103)), 2103));
    expect(tm.flags).toBe(1);
    expect(tm.namesFromMetadata).toBe(true);
    expect(tm.metadata.missing).toEqual({
      names: false,
      signedness: false,
      charsets: false,
      enumSetValues: false,
      primaryKey: false,
    });
    const t = tm.table;
    expect(t).toMatchObject({ tableId: 22n, database: "shop", table: "full", primaryKey: [0, 1] });
    const c = Object.fromEntries(t.columns.map((col) => [col.name, col]));
    expect(t.columns.map((col) => col.name)).toEqual(["id", "k", "e", "s", "g", "b", "t", "c", "d", "f", "j", "v"]);
    expect(c.id).toEqual({ name: "id", type: T.LONGLONG, meta: 0, nullable: false, unsigned: true });
    expect(c.k).toEqual({ name: "k", type: T.LONG, meta: 0, nullable: false, unsigned: false });
    expect(c.e).toMatchObject({ type: T.ENUM, meta: 1, collation: 8, enumValues: ["x", "yy"] });
    expect(c.s).toMatchObject({ type: T.SET, meta: 1, collation: 45, setValues: ["p", "q", "r"] });
    // MariaDB lists GEOMETRY among the character columns (as binary), so it takes the first entry
    expect(c.g).toMatchObject({ type: T.GEOMETRY, meta: 4, collation: 63, geometryType: 1 });
    expect(c.b).toMatchObject({ type: T.BLOB, meta: 2, collation: 63 });
    expect(c.t).toMatchObject({ type: T.BLOB, meta: 2, collation: 8 });
    expect(c.c).toMatchObject({ type: T.STRING, meta: 3, collation: 63 });
    expect(c.d).toMatchObject({ type: T.NEWDECIMAL, meta: 10 * 256 + 2, unsigned: true });
    expect(c.f).toMatchObject({ type: T.FLOAT, meta: 4, unsigned: false });
    expect(c.j).toMatchObject({ type: T.BLOB, meta: 4, collation: 46 }); // MariaDB JSON is LONGTEXT
    expect(c.v).toMatchObject({ type: T.VARCHAR, meta: 20, collation: 46, nullable: true });
  });

  test("shop.pfx: PRIMARY_KEY_WITH_PREFIX", () => {
    const tm = tableMap(mariadb().decode(real(find(FILE1, 2725)), 2725));
    expect(tm.table.primaryKey).toEqual([0]);
    expect(tm.metadata.primaryKeyPrefixes).toEqual([4]);
    expect(tm.table.columns[1]).toMatchObject({ name: "x", type: T.TINY, unsigned: true, nullable: true });
  });
});

// A MySQL 8.0 table, layout per libbinlogevents rows_event.h Table_map_event and
// sql/log_event.cc Table_map_log_event::init_*_field:
//   0 id BIGINT UNSIGNED NOT NULL   1 y YEAR            2 name VARCHAR(20) utf8mb4
//   3 g POINT                       4 j JSON INVISIBLE  5 e ENUM('a','b') latin1
//   6 price DECIMAL(10,2)           7 bin BINARY(16)    8 s SET('x','y','z') utf8mb4
//   9 f FLOAT UNSIGNED             10 txt TEXT
const types = [T.LONGLONG, T.YEAR, T.VARCHAR, T.GEOMETRY, T.JSON, T.STRING, T.NEWDECIMAL, T.STRING, T.STRING, T.FLOAT, T.BLOB];
const metadataBlock = cat(
  u16(80), // VARCHAR max bytes
  u8(4), // GEOMETRY length bytes
  u8(4), // JSON length bytes
  [0xf7, 1], // STRING → real type ENUM, pack length 1
  [10, 2], // NEWDECIMAL precision, scale
  [0xfe, 16], // STRING → real type STRING, 16 bytes
  [0xf8, 1], // STRING → real type SET, 1 byte
  u8(4), // FLOAT size
  u8(2), // BLOB length bytes
);
const names = ["id", "y", "name", "g", "j", "e", "price", "bin", "s", "f", "txt"];

function mysqlTableMapBody(optional: Uint8Array, tableId: number[] = u48(4242)): Uint8Array {
  return cat(
    tableId, // table_id
    u16(1), // flags TM_BIT_LEN_EXACT_F
    lenStrNul("crm"), // db
    lenStrNul("items"), // table
    packed(types.length), // column_count
    types, // column types
    packed(metadataBlock.length),
    metadataBlock,
    [0xfe, 0x07], // null bitmap, LSB first: every column but id is nullable
    optional,
  );
}

const fullOptional = cat(
  tlv(1, [0xa0]), // SIGNEDNESS over numeric columns id, price, f: 1 0 1 (MSB first)
  tlv(2, packed(255), packed(1), packed(63)), // DEFAULT_CHARSET 255, character column #1 (bin) is 63
  tlv(10, packed(8), packed(1), packed(255)), // ENUM_AND_SET_DEFAULT_CHARSET 8, enum/set #1 (s) is 255
  tlv(4, ...names.map(packedStr)), // COLUMN_NAME
  tlv(5, packed(3), packedStr("x"), packedStr("y"), packedStr("z")), // SET_STR_VALUE
  tlv(6, packed(2), packedStr("a"), packedStr("b")), // ENUM_STR_VALUE
  tlv(7, packed(1)), // GEOMETRY_TYPE POINT
  tlv(99, [1, 2, 3]), // a field type this reader does not know: skipped by length
  tlv(8, packed(0)), // SIMPLE_PRIMARY_KEY
  tlv(12, [0xf7, 0xe0]), // COLUMN_VISIBILITY, MSB first: column 4 (j) invisible
);

describe("TABLE_MAP hand-built per MySQL 8.0 layout", () => {
  test("DEFAULT_CHARSET / ENUM_AND_SET_DEFAULT_CHARSET with exceptions, visibility, unknown field", () => {
    const tm = tableMap(mysql().decode(event(E.TABLE_MAP, mysqlTableMapBody(fullOptional))));
    const c = tm.table.columns;
    expect(tm.table).toMatchObject({ tableId: 4242n, database: "crm", table: "items", primaryKey: [0] });
    expect(c.map((col) => col.name)).toEqual(names);
    expect(c.map((col) => col.unsigned)).toEqual([true, false, false, false, false, false, false, false, false, true, false]);
    // MySQL character columns: name, bin, txt (not GEOMETRY, not JSON, not ENUM/SET)
    expect(c.map((col) => col.collation)).toEqual([undefined, undefined, 255, undefined, undefined, 8, undefined, 63, 255, undefined, 255]);
    expect(c[5]).toMatchObject({ type: T.ENUM, enumValues: ["a", "b"] });
    expect(c[8]).toMatchObject({ type: T.SET, meta: 1, setValues: ["x", "y", "z"] });
    expect(c[3]!.geometryType).toBe(1);
    expect(c[0]!.nullable).toBe(false);
    expect(c[10]!.nullable).toBe(true);
    expect(tm.metadata.visible).toEqual([true, true, true, true, false, true, true, true, true, true, true]);
    expect(Object.values(tm.metadata.missing).some(Boolean)).toBe(false);
  });

  test("COLUMN_CHARSET and ENUM_AND_SET_COLUMN_CHARSET: one collation per column of the kind", () => {
    const optional = cat(tlv(3, packed(45), packed(63), packed(46)), tlv(11, packed(8), packed(45)));
    const tm = tableMap(mysql().decode(event(E.TABLE_MAP, mysqlTableMapBody(optional))));
    const c = tm.table.columns;
    expect([c[2]!.collation, c[7]!.collation, c[10]!.collation, c[5]!.collation, c[8]!.collation]).toEqual([45, 63, 46, 8, 45]);
    expect(tm.metadata.missing).toEqual({
      names: true,
      signedness: true,
      charsets: false,
      enumSetValues: true,
      primaryKey: true,
    });
  });

  test("no optional metadata (binlog_row_metadata absent): placeholder names, everything missing", () => {
    const tm = tableMap(mysql().decode(event(E.TABLE_MAP, mysqlTableMapBody(new Uint8Array(0)))));
    expect(tm.namesFromMetadata).toBe(false);
    expect(tm.table.columns.map((c) => c.name)).toEqual(names.map((_, i) => `@${i + 1}`));
    expect(tm.table.columns.every((c) => !c.unsigned && c.collation === undefined)).toBe(true);
    expect(tm.table.primaryKey).toEqual([]);
    expect(tm.metadata.missing).toEqual({
      names: true,
      signedness: true,
      charsets: true,
      enumSetValues: true,
      primaryKey: true,
    });
  });

  test("4-byte table_id when the FORMAT_DESCRIPTION gives TABLE_MAP a 6-byte post-header", () => {
    const d = mysql({ [E.TABLE_MAP]: 6 });
    const tm = tableMap(d.decode(event(E.TABLE_MAP, mysqlTableMapBody(new Uint8Array(0), u32(77)))));
    expect(tm.table.tableId).toBe(77n);
    expect(tm.table.database).toBe("crm");
  });

  test("metadata block longer than the columns use is BINLOG_BAD_VALUE", () => {
    const body = cat(
      u48(1),
      u16(0),
      lenStrNul("d"),
      lenStrNul("t"),
      packed(1),
      [T.LONG], // one INT column: no metadata
      packed(2),
      [0, 0], // but a 2-byte metadata block
      [0],
    );
    const err = caught(() => mysql().decode(event(E.TABLE_MAP, body, { start: 500 })));
    expect(err.code).toBe("BINLOG_BAD_VALUE");
    expect(err.where).toBe("mysql-bin.000001:500");
  });

  test("a DEFAULT_CHARSET exception naming a non-existent character column is BINLOG_BAD_VALUE", () => {
    const optional = tlv(2, packed(255), packed(7), packed(63));
    expect(caught(() => mysql().decode(event(E.TABLE_MAP, mysqlTableMapBody(optional)))).code).toBe("BINLOG_BAD_VALUE");
  });

  test("a TLV length past the end is BINLOG_TRUNCATED", () => {
    const optional = cat([4], packed(200), packedStr("id"));
    expect(caught(() => mysql().decode(event(E.TABLE_MAP, mysqlTableMapBody(optional)))).code).toBe("BINLOG_TRUNCATED");
  });
});

describe("table-map cache and the schema-tracker hook", () => {
  test("onTableMap can complete the table; rows then use the completed one", () => {
    const d = new EventDecoder({
      file: "mysql-bin.000001",
      onTableMap: (map) => ({
        ...map.table,
        columns: map.table.columns.map((c, i) => ({ ...c, name: names[i]! })),
      }),
    });
    d.decode(mysqlFormat(), 4);
    const tm = tableMap(d.decode(event(E.TABLE_MAP, mysqlTableMapBody(new Uint8Array(0)))));
    expect(tm.namesFromMetadata).toBe(false);
    expect(tm.table.columns[2]!.name).toBe("name");
    expect(d.table(4242n)?.columns[2]!.name).toBe("name");
    d.setTable({ ...tm.table, table: "renamed" });
    expect(d.table(4242n)?.table).toBe("renamed");
  });
});
