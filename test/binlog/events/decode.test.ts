import { describe, expect, test } from "bun:test";
import { EventDecoder } from "../../../src/binlog/decode.ts";
import { EventType as E, readHeader } from "../../../src/binlog/header.ts";
import { ascii, caught, cat, event, find, flip, mysqlFormat, real, u32, u64 } from "./helpers.ts";
import { FILE1, FILE2, FILE3, FILE4, FILE6 } from "./mariadb-fixtures.ts";

describe("a whole MariaDB binlog sequence (real bytes)", () => {
  test("files 1-4 and 6 decode end to end with one decoder; positions come from the headers", () => {
    const d = new EventDecoder({ file: "binlog.000001" });
    const kinds: string[] = [];
    for (const [name, events] of [
      ["binlog.000001", FILE1],
      ["binlog.000002", FILE2],
      ["binlog.000003", FILE3],
      ["binlog.000004", FILE4],
    ] as const) {
      expect(d.file).toBe(name); // each file's last ROTATE named the next one
      for (const e of events) {
        const ev = d.decode(real(e));
        expect(ev.where).toBe(`${name}:${e.offset}`);
        kinds.push(ev.kind);
      }
    }
    expect(d.file).toBe("binlog.000005");
    expect(d.flavour).toBe("mariadb");
    expect(d.checksumAlg).toBe(0); // binlog.000004 was written with binlog_checksum=NONE
    expect(kinds.filter((k) => k === "rows").length).toBe(13);
    expect(kinds.slice(0, 12)).toEqual(["format", "gtidList", "checkpoint", "gtid", "query", "gtid", "query", "gtid", "rowsQuery", "tableMap", "rows", "xid"]);
    d.file = "binlog.000006";
    for (const e of FILE6) d.decode(real(e));
  });

  test("after a NONE file, a CRC32 file's FORMAT_DESCRIPTION turns verification back on", () => {
    const d = new EventDecoder({ file: "binlog.000004" });
    for (const e of FILE4) d.decode(real(e));
    d.file = "binlog.000006";
    d.decode(real(FILE6[0]!));
    expect(d.checksumAlg).toBe(1);
    const gtid = find(FILE6, 379);
    expect(caught(() => d.decode(flip(real(gtid), 25))).code).toBe("BINLOG_CHECKSUM");
  });
});

describe("corruption and framing", () => {
  function mariadb(): EventDecoder {
    const d = new EventDecoder({ file: "binlog.000001" });
    d.decode(real(FILE1[0]!));
    return d;
  }

  test("bad CRC is BINLOG_CHECKSUM naming file and position", () => {
    const ev = find(FILE1, 877);
    const err = caught(() => mariadb().decode(flip(real(ev), 40)));
    expect(err.code).toBe("BINLOG_CHECKSUM");
    expect(err.where).toBe("binlog.000001:877");
    expect(err.message).toContain("WRITE_ROWS_V1 (23)");
  });

  test("bytes missing from an event are BINLOG_TRUNCATED", () => {
    const raw = real(find(FILE1, 877));
    const err = caught(() => mariadb().decode(raw.subarray(0, raw.length - 10)));
    expect(err.code).toBe("BINLOG_TRUNCATED");
    expect(err.where).toBe("binlog.000001:877");
    expect(caught(() => mariadb().decode(raw.subarray(0, 12))).code).toBe("BINLOG_TRUNCATED");
  });

  test("more bytes than event_size is BINLOG_BAD_VALUE (a framing bug upstream)", () => {
    const raw = real(find(FILE1, 927));
    expect(caught(() => mariadb().decode(cat(raw, [0]))).code).toBe("BINLOG_BAD_VALUE");
  });

  test("a body shorter than its layout, with a valid CRC, is BINLOG_TRUNCATED", () => {
    const err = caught(() => mariadb().decode(event(E.XID, u32(6), { start: 900 })));
    expect(err.code).toBe("BINLOG_TRUNCATED");
    expect(err.where).toBe("binlog.000001:900");
  });

  test("decoders never see the CRC: an 8-byte XID body plus footer decodes exactly", () => {
    expect(mariadb().decode(event(E.XID, u64(0xffffffffffffffffn)))).toMatchObject({ xid: 0xffffffffffffffffn });
  });

  test("unknown type without LOG_EVENT_IGNORABLE_F is BINLOG_UNKNOWN_EVENT", () => {
    const err = caught(() => mariadb().decode(event(200, [1, 2, 3], { start: 5555 })));
    expect(err.code).toBe("BINLOG_UNKNOWN_EVENT");
    expect(err.message).toContain("type 200");
    expect(err.where).toBe("binlog.000001:5555");
  });

  test("unknown type with LOG_EVENT_IGNORABLE_F is 'ignored'", () => {
    const ev = mariadb().decode(event(200, [1, 2, 3], { flags: 0x80 }));
    expect(ev.kind).toBe("ignored");
    expect(ev.kind === "ignored" && ev.reason).toContain("ignorable");
  });

  test("known events without row data (statement-based context) are 'ignored' with a reason", () => {
    // MySQL Internals "INTVAR_EVENT": type u8 (2 INSERT_ID) | value u64
    const ev = mariadb().decode(event(E.INTVAR, cat([2], u64(17))));
    expect(ev).toMatchObject({ kind: "ignored", reason: "statement-based context (INSERT_ID / LAST_INSERT_ID)" });
  });

  test("GTID_TAGGED (MySQL 8.3+) is BINLOG_UNSUPPORTED", () => {
    const d = new EventDecoder({ file: "mysql-bin.000001" });
    d.decode(mysqlFormat());
    expect(caught(() => d.decode(event(E.GTID_TAGGED, [0, 1, 2]))).code).toBe("BINLOG_UNSUPPORTED");
  });

  test("before any FORMAT_DESCRIPTION, an event whose tail is not a CRC is left whole", () => {
    // the dump thread's artificial ROTATE on a checksum-less server (MySQL Internals "ROTATE_EVENT")
    const raw = event(E.ROTATE, cat(u64(4), ascii("binlog.000777")), { start: 0, flags: 0x20, checksum: false });
    expect(new EventDecoder().decode(raw)).toMatchObject({ kind: "rotate", nextFile: "binlog.000777" });
  });

  test("explicit position overrides log_pos in messages", () => {
    const err = caught(() => mariadb().decode(flip(real(find(FILE1, 927)), 20), 123));
    expect(err.where).toBe("binlog.000001:123");
  });

  test("the header is exposed on every event", () => {
    const raw = real(find(FILE1, 927));
    expect(mariadb().decode(raw).header).toEqual(readHeader(raw));
  });
});
