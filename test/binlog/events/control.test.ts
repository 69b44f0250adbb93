import { describe, expect, test } from "bun:test";
import { EventDecoder } from "../../../src/binlog/decode.ts";
import { EventType as E } from "../../../src/binlog/header.ts";
import { ascii, caught, cat, event, find, flip, fromHex, mysqlFormat, packed, real, u16, u32, u64, u8, uuid } from "./helpers.ts";
import { FILE1, FILE2, FILE4 } from "./mariadb-fixtures.ts";

function mariadb(): EventDecoder {
  const d = new EventDecoder({ file: "binlog.000001" });
  d.decode(real(FILE1[0]!), 4);
  return d;
}

function mysql(): EventDecoder {
  const d = new EventDecoder({ file: "mysql-bin.000001" });
  d.decode(mysqlFormat(), 4);
  return d;
}

describe("FORMAT_DESCRIPTION", () => {
  test("real MariaDB 10.11 event with CRC32", () => {
    const d = new EventDecoder({ file: "binlog.000001" });
    const ev = d.decode(real(FILE1[0]!), 4);
    if (ev.kind !== "format") throw new Error(ev.kind);
    expect(ev.binlogVersion).toBe(4);
    expect(ev.serverVersion).toBe("10.11.19-MariaDB-0+deb12u1-log");
    expect(ev.headerLength).toBe(19);
    expect(ev.checksumAlg).toBe(1);
    expect(ev.flavour).toBe("mariadb");
    // 171 entries: MariaDB defines types up to 171; the alg byte and CRC are not part of it
    expect(ev.postHeaderLengths.length).toBe(171);
    expect(ev.postHeaderLengths[E.QUERY - 1]).toBe(13);
    expect(ev.postHeaderLengths[E.TABLE_MAP - 1]).toBe(8);
    expect(ev.postHeaderLengths[E.WRITE_ROWS_V1 - 1]).toBe(8);
    expect(ev.postHeaderLengths[E.MARIADB_GTID - 1]).toBe(19);
    expect(d.flavour).toBe("mariadb");
    expect(d.checksumAlg).toBe(1);
  });

  test("real MariaDB event from a binlog_checksum=NONE file: alg 0, footer bytes present but unchecked", () => {
    const orig = real(FILE4[0]!);
    const raw = flip(orig, orig.length - 1, 0xff); // not a CRC, so changing it must not matter
    const d = new EventDecoder({ file: "binlog.000004" });
    const ev = d.decode(raw, 4);
    expect(ev.kind === "format" && ev.checksumAlg).toBe(0);
    expect(d.checksumAlg).toBe(0);
    expect(ev.kind === "format" && ev.postHeaderLengths.length).toBe(171);
  });

  test("hand-built MySQL 8.0 event (control_events.h layout)", () => {
    const d = new EventDecoder();
    const ev = d.decode(mysqlFormat({ version: "8.0.36" }), 4);
    if (ev.kind !== "format") throw new Error(ev.kind);
    expect(ev.flavour).toBe("mysql");
    expect(ev.postHeaderLengths.length).toBe(41);
    expect(ev.postHeaderLengths[E.GTID - 1]).toBe(42);
    expect(ev.checksumAlg).toBe(1);
  });

  test("a pre-checksum server (MySQL 5.5) has no alg byte: the array runs to the end", () => {
    const version = new Uint8Array(50);
    version.set(ascii("5.5.62-log"));
    const phl = new Array<number>(27).fill(0);
    phl[E.TABLE_MAP - 1] = 8;
    const raw = event(
      E.FORMAT_DESCRIPTION,
      cat(
        u16(4), // binlog_version (MySQL Internals FORMAT_DESCRIPTION_EVENT)
        version, // server_version char[50]
        u32(1_600_000_000), // create_timestamp
        u8(19), // event_header_length
        phl, // post-header lengths, one per type 1..27
      ),
      { start: 4, checksum: false },
    );
    const d = new EventDecoder();
    const ev = d.decode(raw, 4);
    expect(ev.kind === "format" && ev.postHeaderLengths.length).toBe(27);
    expect(ev.kind === "format" && ev.checksumAlg).toBe(255);
    expect(d.checksumAlg).toBe(0);
  });

  test("a file copied while its server had it open: LOG_EVENT_BINLOG_IN_USE_F set over a CRC computed without it (MySQL sql/log_event.cc, Log_event_footer::event_checksum_test)", () => {
    for (const orig of [real(FILE1[0]!), mysqlFormat({ version: "8.0.36" })]) {
      expect(orig[17]! & 1).toBe(0);
      const inUse = orig.slice();
      inUse[17] = inUse[17]! | 1; // flags (u16 LE at 17): LOG_EVENT_BINLOG_IN_USE_F, CRC left as computed
      const ev = new EventDecoder({ file: "binlog.000001" }).decode(inUse, 4);
      expect(ev.kind === "format" && ev.checksumAlg).toBe(1);
      expect(ev.header.flags & 1).toBe(1);
      // Any other change still fails the CRC, with or without the flag.
      expect(caught(() => new EventDecoder().decode(flip(inUse, 30))).code).toBe("BINLOG_CHECKSUM");
    }
  });

  test("its own CRC is verified", () => {
    const raw = flip(mysqlFormat(), 30);
    const err = caught(() => new EventDecoder({ file: "mysql-bin.000009" }).decode(raw));
    expect(err.code).toBe("BINLOG_CHECKSUM");
    expect(err.where).toBe("mysql-bin.000009:4");
  });
});

describe("ROTATE", () => {
  // MySQL Internals "ROTATE_EVENT": post-header position u64; body: next file name, no NUL.
  const artificial = event(
    E.ROTATE,
    cat(
      u64(4), // position in the next file
      ascii("mysql-bin.000042"), // new log name
    ),
    { start: 0, flags: 0x20 /* LOG_EVENT_ARTIFICIAL_F */, timestamp: 0 },
  );

  test("artificial first event of a dump, before any FORMAT_DESCRIPTION: CRC recognised and stripped", () => {
    const d = new EventDecoder();
    const ev = d.decode(artificial);
    expect(ev).toMatchObject({ kind: "rotate", position: 4, nextFile: "mysql-bin.000042", artificial: true });
    expect(d.file).toBe("mysql-bin.000042");
  });

  test("without a footer when the caller says checksums are off", () => {
    const noCrc = artificial.slice(0, artificial.length - 4);
    new DataView(noCrc.buffer).setUint32(9, noCrc.length, true);
    const ev = new EventDecoder({ checksum: "off" }).decode(noCrc);
    expect(ev).toMatchObject({ kind: "rotate", nextFile: "mysql-bin.000042", artificial: true });
  });

  test("real end-of-file rotate (MariaDB) is not artificial and switches the file name", () => {
    const d = mariadb();
    const last = FILE1[FILE1.length - 1]!;
    const ev = d.decode(real(last), last.offset);
    expect(ev).toMatchObject({ kind: "rotate", position: 4, nextFile: "binlog.000002", artificial: false });
    expect(ev.where).toBe("binlog.000001:3371");
    expect(d.file).toBe("binlog.000002");
  });
});

describe("HEARTBEAT", () => {
  test("v1: body is the log name, position is the header's log_pos", () => {
    // MySQL Internals "HEARTBEAT_EVENT": header log_pos = current position; body = log ident
    const raw = event(E.HEARTBEAT, ascii("mysql-bin.000003"), { start: 0 });
    new DataView(raw.buffer).setUint32(13, 98765, true);
    // the CRC covers log_pos, so recompute after patching it
    new DataView(raw.buffer).setUint32(raw.length - 4, Bun.hash.crc32(raw.subarray(0, raw.length - 4)), true);
    expect(mysql().decode(raw)).toMatchObject({ kind: "heartbeat", logFile: "mysql-bin.000003", position: 98765 });
  });

  test("v2: TLV fields, file name and position", () => {
    // libbinlogevents control_events.h Heartbeat_event_v2: type packed | length packed | value
    const raw = event(
      E.HEARTBEAT_V2,
      cat(
        packed(1), // OTW_HB_LOG_FILENAME_FIELD
        packed(16), // length
        ascii("mysql-bin.000003"),
        packed(2), // OTW_HB_LOG_POSITION_FIELD
        packed(9), // length of the packed value
        packed(5_000_000_000), // 0xfe + u64
        packed(0), // OTW_HB_HEADER_END_MARK
      ),
      { start: 0 },
    );
    expect(mysql().decode(raw)).toMatchObject({
      kind: "heartbeat",
      logFile: "mysql-bin.000003",
      position: 5_000_000_000,
    });
  });
});

describe("PREVIOUS_GTIDS", () => {
  const sidA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  const sidB = "00000000-0000-0000-0000-0000000000ab";
  // libbinlogevents control_events.h Previous_gtids_event / Gtid_set::encode:
  // n_sids u64 | per sid: uuid[16] | n_intervals u64 | (start u64, end u64 exclusive)...
  const body = cat(
    u64(2), // n_sids
    uuid(sidA),
    u64(2), // n_intervals
    u64(1),
    u64(6), // 1-5
    u64(7),
    u64(10), // 7-9
    uuid(sidB),
    u64(1),
    u64(1),
    u64(2), // just 1
  );

  test("decodes to the MySQL text form", () => {
    const ev = mysql().decode(event(E.PREVIOUS_GTIDS, body, { start: 126 }));
    if (ev.kind !== "previousGtids") throw new Error(ev.kind);
    expect(ev.gtidSet).toBe(`${sidA}:1-5:7-9,${sidB}:1`);
    expect(ev.sids[0]!.intervals).toEqual([
      [1n, 6n],
      [7n, 10n],
    ]);
  });

  test("empty set", () => {
    expect(mysql().decode(event(E.PREVIOUS_GTIDS, u64(0)))).toMatchObject({ gtidSet: "", sids: [] });
  });

  test("tagged format of MySQL 8.3+ is refused clearly", () => {
    const tagged = cat([1, 0, 0, 0, 0, 0, 0, 1], uuid(sidA));
    const err = caught(() => mysql().decode(event(E.PREVIOUS_GTIDS, tagged, { start: 126 })));
    expect(err.code).toBe("BINLOG_UNSUPPORTED");
    expect(err.where).toBe("mysql-bin.000001:126");
  });

  test("an interval count past the end is BINLOG_TRUNCATED", () => {
    const short = cat(u64(1), uuid(sidA), u64(3), u64(1), u64(2));
    expect(caught(() => mysql().decode(event(E.PREVIOUS_GTIDS, short))).code).toBe("BINLOG_TRUNCATED");
  });
});

describe("MariaDB GTID_LIST and BINLOG_CHECKPOINT", () => {
  test("real GTID_LIST [0-1-11]", () => {
    // MariaDB KB "GTID_LIST_EVENT": count u32 (low 28 bits) | domain u32 | server u32 | seq u64
    const ev = mariadb().decode(real(find(FILE2, 256)), 256);
    expect(ev).toMatchObject({ kind: "gtidList", flags: 0, gtidList: "0-1-11" });
    expect(ev.kind === "gtidList" && ev.gtids).toEqual([{ domainId: 0, serverId: 1, seqNo: 11n }]);
  });

  test("hand-built list with two domains and flag bits in the count word", () => {
    const body = cat(
      u32((1 << 28) | 2), // count 2, flags 1 in the top 4 bits
      u32(0), // domain_id
      u32(1), // server_id
      u64(100), // seq_no
      u32(7),
      u32(2),
      u64(5n),
    );
    const ev = mariadb().decode(event(E.GTID_LIST, body));
    expect(ev).toMatchObject({ kind: "gtidList", flags: 1, gtidList: "0-1-100,7-2-5" });
  });

  test("real BINLOG_CHECKPOINT", () => {
    // MariaDB KB "BINLOG_CHECKPOINT_EVENT": name length u32 | name
    const ev = mariadb().decode(real(find(FILE1, 285)), 285);
    expect(ev).toMatchObject({ kind: "checkpoint", file: "binlog.000001" });
    expect(fromHex(find(FILE1, 285).hex).length).toBe(40);
  });
});

describe("STOP and INCIDENT", () => {
  test("STOP has an empty body", () => {
    expect(mysql().decode(event(E.STOP, [])).kind).toBe("stop");
  });

  test("INCIDENT: type u16, message length u8, message", () => {
    // libbinlogevents control_events.h Incident_event: INCIDENT_HEADER_LEN 2 (type); body len u8 + text
    const msg = "error writing to the binary log";
    const ev = mysql().decode(event(E.INCIDENT, cat(u16(1), u8(msg.length), ascii(msg))));
    expect(ev).toMatchObject({ kind: "incident", incidentType: 1, message: msg });
  });
});
