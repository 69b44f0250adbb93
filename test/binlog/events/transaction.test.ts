import { describe, expect, test } from "bun:test";
import { EventDecoder, type GtidEvent } from "../../../src/binlog/decode.ts";
import { EventType as E } from "../../../src/binlog/header.ts";
import type { MariadbGtid, MysqlGtid } from "../../../src/binlog/events/transaction.ts";
import { ascii, caught, cat, event, find, mysqlFormat, packed, real, u32, u64, u8, uN, uuid } from "./helpers.ts";
import { FILE1, FILE6 } from "./mariadb-fixtures.ts";

function mysql(): EventDecoder {
  const d = new EventDecoder({ file: "mysql-bin.000001" });
  d.decode(mysqlFormat(), 4);
  return d;
}

function mariadb(): EventDecoder {
  const d = new EventDecoder({ file: "binlog.000001" });
  d.decode(real(FILE1[0]!), 4);
  return d;
}

function mysqlGtid(ev: ReturnType<EventDecoder["decode"]>): MysqlGtid {
  if (ev.kind !== "gtid" || ev.gtid.flavour !== "mysql") throw new Error(`not a MySQL GTID: ${ev.kind}`);
  return ev.gtid;
}

function mariadbGtid(ev: ReturnType<EventDecoder["decode"]>): MariadbGtid {
  if (ev.kind !== "gtid" || ev.gtid.flavour !== "mariadb") throw new Error(`not a MariaDB GTID: ${ev.kind}`);
  return ev.gtid;
}

const SID = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

// libbinlogevents control_events.h Gtid_event, post-header (42 bytes):
const gtidPostHeader = cat(
  u8(0), // gtid_flags (bit 0 FLAG_MAY_HAVE_SBR clear)
  uuid(SID), // SID, 16 bytes
  u64(42), // GNO
  u8(2), // lt_type LOGICAL_TIMESTAMP_TYPECODE
  u64(7), // last_committed
  u64(8), // sequence_number
);

describe("MySQL GTID_LOG_EVENT", () => {
  test("8.0 form with original timestamp, transaction length and both server versions", () => {
    const body = cat(
      gtidPostHeader,
      uN(1_700_000_000_123_456n | (1n << 55n), 7), // immediate_commit_timestamp, bit 55: original follows
      uN(1_700_000_000_000_001n, 7), // original_commit_timestamp
      packed(300), // transaction_length (net_field_length: fc 2c 01)
      u32(80036 | 0x80000000), // immediate_server_version, top bit: original follows
      u32(80028), // original_server_version
    );
    const g = mysqlGtid(mysql().decode(event(E.GTID, body, { start: 200 })));
    expect(g).toEqual({
      flavour: "mysql",
      anonymous: false,
      flags: 0,
      uuid: SID,
      gno: 42n,
      text: `${SID}:42`,
      lastCommitted: 7,
      sequenceNumber: 8,
      immediateCommitTimestamp: 1_700_000_000_123_456,
      originalCommitTimestamp: 1_700_000_000_000_001,
      transactionLength: 300,
      immediateServerVersion: 80036,
      originalServerVersion: 80028,
    });
  });

  test("8.0 form where original equals immediate (no bit 55, no top bit)", () => {
    const body = cat(gtidPostHeader, uN(1_700_000_000_123_456n, 7), packed(120), u32(80036));
    const g = mysqlGtid(mysql().decode(event(E.GTID, body)));
    expect(g.originalCommitTimestamp).toBe(1_700_000_000_123_456);
    expect(g.transactionLength).toBe(120);
    expect(g.originalServerVersion).toBe(80036);
  });

  test("5.7 form: logical clock only", () => {
    const g = mysqlGtid(mysql().decode(event(E.GTID, gtidPostHeader)));
    expect(g.lastCommitted).toBe(7);
    expect(g.sequenceNumber).toBe(8);
    expect(g.immediateCommitTimestamp).toBeUndefined();
    expect(g.transactionLength).toBeUndefined();
  });

  test("5.6 form: flags, SID and GNO only (post-header 25)", () => {
    const g = mysqlGtid(mysql().decode(event(E.GTID, gtidPostHeader.subarray(0, 25))));
    expect(g.text).toBe(`${SID}:42`);
    expect(g.lastCommitted).toBeUndefined();
  });

  test("ANONYMOUS_GTID", () => {
    const body = cat(u8(1), new Uint8Array(16), u64(0), u8(2), u64(3), u64(4), uN(1_700_000_000_000_000n, 7));
    const g = mysqlGtid(mysql().decode(event(E.ANONYMOUS_GTID, body)));
    expect(g).toMatchObject({ anonymous: true, text: "ANONYMOUS", flags: 1, lastCommitted: 3, sequenceNumber: 4 });
  });

  test("a cut SID is BINLOG_TRUNCATED", () => {
    expect(caught(() => mysql().decode(event(E.GTID, cat(u8(0), uuid(SID).subarray(0, 9))))).code).toBe("BINLOG_TRUNCATED");
  });
});

describe("MariaDB GTID_EVENT", () => {
  test("real DDL GTID 0-1-1: standalone, padded to 19 bytes", () => {
    // MariaDB KB "GTID_EVENT": seq_no u64 | domain_id u32 | flags2 u8 (0x29 = STANDALONE |
    // ALLOW_PARALLEL | DDL) | 6 zero bytes of padding
    const g = mariadbGtid(mariadb().decode(real(find(FILE1, 325)), 325));
    expect(g).toEqual({
      flavour: "mariadb",
      domainId: 0,
      serverId: 1,
      seqNo: 1n,
      text: "0-1-1",
      flags: 0x29,
      standalone: true,
      flagsExtra: 0,
    });
  });

  test("with commit_id (FL_GROUP_COMMIT_ID)", () => {
    const body = cat(
      u64(77), // seq_no
      u32(3), // domain_id
      u8(0x02 | 0x04 | 0x08), // flags2: GROUP_COMMIT_ID | TRANSACTIONAL | ALLOW_PARALLEL
      u64(1234), // commit_id
    );
    const g = mariadbGtid(mariadb().decode(event(E.MARIADB_GTID, body, { serverId: 9 })));
    expect(g).toMatchObject({ text: "3-9-77", commitId: 1234n, standalone: false, flagsExtra: 0 });
  });

  test("real XA PREPARE GTID: XID, then flags_extra MULTI_ENGINE with extra_engines", () => {
    // flags2 0x4c = PREPARED_XA | ALLOW_PARALLEL | TRANSACTIONAL; formatID u32 7 | gtrid_len 4
    // | bqual_len 2 | "gtr1" "bq" | flags_extra 0x01 | extra_engines 0xff
    const g = mariadbGtid(mariadb().decode(real(find(FILE1, 2865)), 2865));
    expect(g.flags).toBe(0x4c);
    expect(g.xid?.formatId).toBe(7);
    expect(new TextDecoder().decode(g.xid?.gtrid)).toBe("gtr1");
    expect(new TextDecoder().decode(g.xid?.bqual)).toBe("bq");
    expect(g.flagsExtra).toBe(1);
    expect(g.extraEngines).toBe(255);
  });

  test("real XA COMMIT GTID: COMPLETED_XA, no flags_extra", () => {
    const g = mariadbGtid(mariadb().decode(real(find(FILE1, 3229)), 3229));
    expect(g).toMatchObject({ text: "0-1-11", flags: 0x8d, standalone: true, flagsExtra: 0 });
    expect(g.xid?.formatId).toBe(7);
  });

  test("XA with commit_id: XID follows commit_id", () => {
    const body = cat(u64(5), u32(0), u8(0x02 | 0x40), u64(99), u32(1), u8(1), u8(0), ascii("g"));
    const g = mariadbGtid(mariadb().decode(event(E.MARIADB_GTID, body)));
    expect(g.commitId).toBe(99n);
    expect(g.xid?.formatId).toBe(1);
    expect(g.xid?.bqual.length).toBe(0);
  });

  test("real START ALTER / COMMIT ALTER pair (binlog_alter_two_phase)", () => {
    const d = new EventDecoder({ file: "binlog.000006" });
    d.decode(real(FILE6[0]!), 4);
    expect(mariadbGtid(d.decode(real(find(FILE6, 379)), 379))).toMatchObject({ text: "0-1-20", flagsExtra: 2 });
    const commit = mariadbGtid(d.decode(real(find(FILE6, 526)), 526));
    expect(commit).toMatchObject({ text: "0-1-21", flagsExtra: 4, startAlterSeqNo: 20n });
  });
});

describe("XID, XA_PREPARE, ROWS_QUERY, ANNOTATE_ROWS", () => {
  test("real XID", () => {
    // MySQL Internals "XID_EVENT": xid u64
    expect(mariadb().decode(real(find(FILE1, 927)), 927)).toMatchObject({ kind: "xid", xid: 6n });
  });

  test("real XA_PREPARE (MariaDB writes MySQL's layout)", () => {
    // libbinlogevents control_events.h XA_prepare_event: one_phase u8 | formatID u32
    // | gtrid_length u32 | bqual_length u32 | data
    const ev = mariadb().decode(real(find(FILE1, 3187)), 3187);
    if (ev.kind !== "xaPrepare") throw new Error(ev.kind);
    expect(ev.onePhase).toBe(false);
    expect(ev.xid.formatId).toBe(7);
    expect(new TextDecoder().decode(ev.xid.gtrid)).toBe("gtr1");
  });

  test("MySQL ROWS_QUERY: the length byte is skipped (it truncates at 255)", () => {
    // MySQL Internals "ROWS_QUERY_EVENT": length u8 (ignored) | query text to the end
    const q = "INSERT INTO t VALUES ('é')";
    const ev = mysql().decode(event(E.ROWS_QUERY, cat(u8(255), new TextEncoder().encode(q))));
    expect(ev).toMatchObject({ kind: "rowsQuery", query: q });
  });

  test("real MariaDB ANNOTATE_ROWS: the whole body is the text", () => {
    const ev = mariadb().decode(real(find(FILE1, 726)), 726);
    expect(ev).toMatchObject({ kind: "rowsQuery", query: "insert into shop.t1 values (1,'a',NULL),(2,'bb','x')" });
  });
});

test("the GTID event type is exported for consumers", () => {
  const ev = mariadb().decode(real(find(FILE1, 325)), 325) as GtidEvent;
  expect(ev.gtid.text).toBe("0-1-1");
});
