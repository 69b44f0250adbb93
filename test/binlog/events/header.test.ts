import { describe, expect, test } from "bun:test";
import { BINLOG_MAGIC, eventStart, EventType, eventTypeName, hasValidCrc32, readHeader, splitEvents, verifyCrc32 } from "../../../src/binlog/header.ts";
import { caught, cat, event, flip, fromHex, real } from "./helpers.ts";
import { FILE1 } from "./mariadb-fixtures.ts";

describe("common header", () => {
  test("reads the 19 bytes of a real MariaDB GTID_LIST event header", () => {
    // MariaDB KB "Log Event Header": timestamp u32 | type u8 | server_id u32 | event_size u32
    // | log_pos u32 | flags u16
    const raw = fromHex(
      "37fc056b" + // timestamp 0x6b05fc37
        "a3" + // type 163 GTID_LIST
        "01000000" + // server_id 1
        "1d000000" + // event_size 29
        "1d010000" + // log_pos 285 (end of this event)
        "0000" + // flags
        "00000000" + // body: GTID count 0 (MariaDB KB "GTID_LIST_EVENT")
        "0000" + // 2 more zero bytes MariaDB 10.11 writes after an empty list (not in the KB page)
        "2488e6c0", // CRC32
    );
    const h = readHeader(raw);
    expect(h).toEqual({ timestamp: 0x6b05fc37, type: 163, serverId: 1, eventSize: 29, logPos: 285, flags: 0 });
    expect(eventStart(h)).toBe(256);
    verifyCrc32(raw, "f:256");
  });

  test("log_pos 0 (artificial or payload-inner events) keeps start 0", () => {
    expect(eventStart({ timestamp: 0, type: 4, serverId: 1, eventSize: 40, logPos: 0, flags: 0x20 })).toBe(0);
  });

  test("names MySQL and MariaDB type codes", () => {
    expect(eventTypeName(EventType.TABLE_MAP)).toBe("TABLE_MAP (19)");
    expect(eventTypeName(162)).toBe("MARIADB_GTID (162)");
    expect(eventTypeName(201)).toBe("type 201");
  });
});

describe("CRC32 footer", () => {
  test("a flipped body bit is BINLOG_CHECKSUM naming the position", () => {
    const raw = flip(real(FILE1[1]!), 20);
    const err = caught(() => verifyCrc32(raw, "binlog.000001:256"));
    expect(err.code).toBe("BINLOG_CHECKSUM");
    expect(err.where).toBe("binlog.000001:256");
    expect(err.message).toContain("stored 0xc0e68824");
    expect(hasValidCrc32(raw)).toBe(false);
  });

  test("uses zlib's CRC-32 (same value as node:zlib crc32)", async () => {
    const { crc32 } = await import("node:zlib");
    const raw = event(EventType.XID, [1, 0, 0, 0, 0, 0, 0, 0]);
    expect(hasValidCrc32(raw)).toBe(true);
    expect(crc32(raw.subarray(0, raw.length - 4))).toBe(Bun.hash.crc32(raw.subarray(0, raw.length - 4)));
  });
});

describe("splitEvents", () => {
  test("splits a real file image and stops before a partial last event", () => {
    const file = cat(BINLOG_MAGIC, ...FILE1.map(real));
    const whole = splitEvents(file, "binlog.000001");
    expect(whole.events.map((e) => e.offset)).toEqual(FILE1.map((e) => e.offset));
    expect(whole.end).toBe(file.length);
    const cut = splitEvents(file.subarray(0, file.length - 3), "binlog.000001");
    expect(cut.events.length).toBe(FILE1.length - 1);
    expect(cut.end).toBe(FILE1[FILE1.length - 1]!.offset);
  });

  test("rejects a file without the magic", () => {
    expect(caught(() => splitEvents(new Uint8Array(30), "x")).code).toBe("BINLOG_BAD_VALUE");
  });

  test("rejects an event_size below 19", () => {
    const bad = cat(BINLOG_MAGIC, new Uint8Array(19));
    expect(caught(() => splitEvents(bad, "x")).where).toBe("x:4");
  });
});
