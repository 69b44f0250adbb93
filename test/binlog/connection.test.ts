// The replication connection against the private MariaDB: dump packets, raw events, EOF in
// non-blocking mode, server errors surfaced with their message.
import { describe, expect, test } from "bun:test";
import { BinlogConnection, encodeDump, encodeDumpGtid } from "../../src/binlog/connection.ts";
import { MysqlGtidSet } from "../../src/binlog/gtid.ts";
import { sourceConfigFor } from "../support/binlog.ts";

function collect(conn: BinlogConnection, start: { kind: "file"; file: string; pos: number } | { kind: "gtid"; set: string }) {
  return new Promise<Buffer[]>((resolve, reject) => {
    const events: Buffer[] = [];
    void conn.startDump(
      { start, nonBlocking: true },
      (raw) => events.push(Buffer.from(raw)),
      (err) => (err ? reject(err) : resolve(events)),
    );
  });
}

describe("replication connection", () => {
  test("detects MariaDB and dumps raw events up to EOF in non-blocking mode", async () => {
    const conn = await BinlogConnection.open(await sourceConfigFor());
    try {
      expect(conn.info.flavour).toBe("mariadb");
      expect(conn.info.checksum).toBe("CRC32");
      const pos = await conn.currentPosition();
      const events = await collect(conn, { kind: "file", file: pos.file, pos: 4 });
      // First the artificial ROTATE (type 4), then FORMAT_DESCRIPTION (type 15).
      expect(events[0]![4]).toBe(4);
      expect(events[1]![4]).toBe(15);
      // Every event's size field equals its byte length.
      for (const e of events) expect(e.readUInt32LE(9)).toBe(e.length);
    } finally {
      conn.close();
    }
  });

  test("a position beyond the binlog is reported with the server's message", async () => {
    const conn = await BinlogConnection.open(await sourceConfigFor());
    try {
      const err = await collect(conn, { kind: "file", file: "binlog.999999", pos: 4 }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/binlog\.999999|Could not find first log file/i);
    } finally {
      conn.close();
    }
  });

  test("COM_BINLOG_DUMP packet layout (MySQL protocol docs, COM_BINLOG_DUMP)", () => {
    const p = Buffer.from(encodeDump(7, 0x01, "binlog.000002", 1234));
    expect(p[0]).toBe(0x12); // command
    expect(p.readUInt32LE(1)).toBe(1234); // binlog-pos
    expect(p.readUInt16LE(5)).toBe(1); // flags: BINLOG_DUMP_NON_BLOCK
    expect(p.readUInt32LE(7)).toBe(7); // server-id
    expect(p.subarray(11).toString()).toBe("binlog.000002"); // binlog-filename (rest of packet)
  });

  test("COM_BINLOG_DUMP_GTID packet layout (MySQL protocol docs, COM_BINLOG_DUMP_GTID)", () => {
    const set = MysqlGtidSet.parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7");
    const p = Buffer.from(encodeDumpGtid(9, 0x04, set));
    const hex = p.toString("hex");
    expect(hex).toBe(
      [
        "1e", // COM_BINLOG_DUMP_GTID
        "0400", // flags: BINLOG_THROUGH_GTID
        "09000000", // server-id
        "00000000", // binlog-filename-len = 0
        "0400000000000000", // binlog-pos = 4
        "40000000", // data-size = 8 + 16 + 8 + 2*16 = 64
        "0100000000000000", // n_sids
        "3e11fa4771ca11e19e33c80aa9429562", // SID
        "0200000000000000", // n_intervals
        "0100000000000000",
        "0600000000000000", // [1, 6) — end is exclusive
        "0700000000000000",
        "0800000000000000", // [7, 8)
      ].join(""),
    );
    expect(set.toString()).toBe("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7");
  });
});
