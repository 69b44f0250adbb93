import { describe, expect, test } from "bun:test";
import { EventDecoder, type PayloadEvent } from "../../../src/binlog/decode.ts";
import { EventType as E } from "../../../src/binlog/header.ts";
import { ColumnType as T } from "../../../src/binlog/types.ts";
import { ascii, caught, cat, event, lenStrNul, mysqlFormat, packed, u16, u32, u48, u64, u8 } from "./helpers.ts";

// Inner events as MySQL 8.0.20+ serialises them into a TRANSACTION_PAYLOAD: complete events
// with the 19-byte header, log_pos 0 and NO checksum footer (MySQL manual "Binary Log
// Transaction Compression"; the outer event's CRC covers the payload).
const inner = (type: number, body: Uint8Array | number[]) => event(type, body, { start: 0, checksum: false });

const begin = inner(
  E.QUERY,
  cat(u32(12), u32(0), u8(0), u16(0), u16(0), [0], ascii("BEGIN")), // Query_event: no db, no status vars
);
const tableMap = inner(E.TABLE_MAP, cat(u48(91), u16(1), lenStrNul("crm"), lenStrNul("orders"), packed(2), [T.LONG, T.VARCHAR], packed(2), u16(40), [0x02]));
const writeRows = inner(
  E.WRITE_ROWS,
  cat(
    u48(91), // table_id
    u16(1), // STMT_END_F
    u16(2), // var_header_len: no extra data
    packed(2), // column_count
    [0x03], // present
    [0x00],
    u32(7),
    [3],
    ascii("abc"), // row 1
    [0x02],
    u32(8), // row 2: note NULL
  ),
);
const xid = inner(E.XID, u64(555));
const plain = cat(begin, tableMap, writeRows, xid);

/** Header fields per Transaction_payload_event: type packed | length packed | value packed; 0 ends. */
function field(type: number, value: number): number[] {
  const v = packed(value);
  return [...packed(type), ...packed(v.length), ...v];
}

function payloadEvent(compression: number, data: Uint8Array, uncompressed: number, extra: number[] = []): Uint8Array {
  return event(
    E.TRANSACTION_PAYLOAD,
    cat(
      field(1, data.length), // OTW_PAYLOAD_SIZE_FIELD
      field(2, compression), // OTW_PAYLOAD_COMPRESSION_TYPE_FIELD: 0 ZSTD, 255 NONE
      field(3, uncompressed), // OTW_PAYLOAD_UNCOMPRESSED_SIZE_FIELD
      extra,
      packed(0), // OTW_PAYLOAD_HEADER_END_MARK
      data,
    ),
    { start: 7000 },
  );
}

function decoder(): EventDecoder {
  const d = new EventDecoder({ file: "mysql-bin.000002" });
  d.decode(mysqlFormat(), 4);
  return d;
}

function payload(ev: ReturnType<EventDecoder["decode"]>): PayloadEvent {
  if (ev.kind !== "payload") throw new Error(`not a payload: ${ev.kind}`);
  return ev;
}

describe("TRANSACTION_PAYLOAD", () => {
  test("zstd payload: inner events split, then decoded without checksums", () => {
    const d = decoder();
    const ev = payload(d.decode(payloadEvent(0, Bun.zstdCompressSync(plain), plain.length)));
    expect(ev.compressionType).toBe(0);
    expect(ev.uncompressedSize).toBe(plain.length);
    expect(ev.events.map((e) => e.length)).toEqual([begin.length, tableMap.length, writeRows.length, xid.length]);
    const inners = d.expandPayload(ev);
    expect(inners.map((e) => e.kind)).toEqual(["query", "tableMap", "rows", "xid"]);
    expect(inners[0]).toMatchObject({ statement: "BEGIN", where: "mysql-bin.000002:7000[0]" });
    const rows = inners[2]!;
    if (rows.kind !== "rows") throw new Error(rows.kind);
    expect(rows.rows).toEqual([{ after: [7, "abc"] }, { after: [8, null] }]);
    expect(inners[3]).toMatchObject({ kind: "xid", xid: 555n });
  });

  test("NONE compression and an unknown header field (skipped by its length)", () => {
    const d = decoder();
    const unknown = [...packed(9), ...packed(2), 0xab, 0xcd];
    const ev = payload(d.decode(payloadEvent(255, plain, plain.length, unknown)));
    expect(d.expandPayload(ev).map((e) => e.kind)).toEqual(["query", "tableMap", "rows", "xid"]);
  });

  test("unknown compression type is BINLOG_UNSUPPORTED", () => {
    const err = caught(() => decoder().decode(payloadEvent(1, plain, plain.length)));
    expect(err.code).toBe("BINLOG_UNSUPPORTED");
    expect(err.where).toBe("mysql-bin.000002:7000");
  });

  test("damaged zstd data is BINLOG_BAD_VALUE", () => {
    const z = Bun.zstdCompressSync(plain).slice();
    z.fill(0x41, 8);
    expect(caught(() => decoder().decode(payloadEvent(0, z, plain.length))).code).toBe("BINLOG_BAD_VALUE");
  });

  test("a size that disagrees with the header is BINLOG_BAD_VALUE", () => {
    const err = caught(() => decoder().decode(payloadEvent(0, Bun.zstdCompressSync(plain), plain.length + 1)));
    expect(err.code).toBe("BINLOG_BAD_VALUE");
  });

  test("an inner event cut short is BINLOG_TRUNCATED", () => {
    const cut = plain.subarray(0, plain.length - 3);
    const err = caught(() => decoder().decode(payloadEvent(0, Bun.zstdCompressSync(cut), cut.length)));
    expect(err.code).toBe("BINLOG_TRUNCATED");
  });

  test("a payload size past the end of the event is BINLOG_TRUNCATED", () => {
    const body = cat(field(1, 500), field(2, 255), packed(0), plain);
    expect(caught(() => decoder().decode(event(E.TRANSACTION_PAYLOAD, body))).code).toBe("BINLOG_TRUNCATED");
  });

  test("the header must name the size and the compression", () => {
    const body = cat(field(3, plain.length), packed(0), plain);
    expect(caught(() => decoder().decode(event(E.TRANSACTION_PAYLOAD, body))).code).toBe("BINLOG_BAD_VALUE");
  });
});
