// GTID sets of both flavours, as text and as the bytes the dump command carries.
//
// MySQL:   "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,<uuid>:1-3" — per server UUID a list
//          of closed intervals of transaction numbers (GNO).
// MariaDB: "0-1-100,1-2-7" — per replication domain the last GTID domain-server-seq_no;
//          the position is the last transaction applied in each domain.

import { ReplicateError } from "../errors.ts";

// ---------------------------------------------------------------- MySQL

export class MysqlGtidSet {
  /** uuid (lowercase, dashed) → sorted, non-overlapping closed intervals [start, end]. */
  readonly sids = new Map<string, Array<[bigint, bigint]>>();

  static parse(text: string): MysqlGtidSet {
    const set = new MysqlGtidSet();
    for (const part of text.replace(/\s+/g, "").split(",")) {
      if (!part) continue;
      const [uuid, ...ranges] = part.split(":");
      if (!uuid || !/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(uuid) || ranges.length === 0) {
        throw new ReplicateError("CONFIG_BAD_VALUE", `"${part}" is not a MySQL GTID set entry (expected uuid:1-5[:7-9])`, {
          kind: "config",
          where: "source.start",
        });
      }
      for (const r of ranges) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(r);
        if (!m) throw new ReplicateError("CONFIG_BAD_VALUE", `bad GTID interval "${r}" in "${part}"`, { kind: "config", where: "source.start" });
        set.addInterval(uuid, BigInt(m[1]!), BigInt(m[2] ?? m[1]!));
      }
    }
    return set;
  }

  add(uuid: string, gno: bigint): void {
    this.addInterval(uuid, gno, gno);
  }

  addInterval(uuid: string, start: bigint, end: bigint): void {
    const key = normalizeUuid(uuid);
    const list = this.sids.get(key) ?? [];
    list.push([start, end]);
    list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const merged: Array<[bigint, bigint]> = [];
    for (const iv of list) {
      const last = merged.at(-1);
      if (last && iv[0] <= last[1] + 1n) {
        if (iv[1] > last[1]) last[1] = iv[1];
      } else merged.push([iv[0], iv[1]]);
    }
    this.sids.set(key, merged);
  }

  toString(): string {
    return [...this.sids.keys()]
      .sort()
      .map(
        (uuid) =>
          `${uuid}:${this.sids
            .get(uuid)!
            .map(([s, e]) => (s === e ? `${s}` : `${s}-${e}`))
            .join(":")}`,
      )
      .join(",");
  }

  /**
   * The SID block of COM_BINLOG_DUMP_GTID (MySQL sql/rpl_gtid_set.cc Gtid_set::encode):
   *   n_sids u64 LE, then per SID: uuid 16 bytes, n_intervals u64 LE, then per interval
   *   start u64 LE, end u64 LE with `end` EXCLUSIVE (one past the last GNO).
   */
  encode(): Uint8Array {
    const sids = [...this.sids.entries()];
    const size = 8 + sids.reduce((n, [, ivs]) => n + 16 + 8 + ivs.length * 16, 0);
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    let p = 0;
    dv.setBigUint64(p, BigInt(sids.length), true);
    p += 8;
    for (const [uuid, ivs] of sids) {
      out.set(uuidBytes(uuid), p);
      p += 16;
      dv.setBigUint64(p, BigInt(ivs.length), true);
      p += 8;
      for (const [s, e] of ivs) {
        dv.setBigUint64(p, s, true);
        dv.setBigUint64(p + 8, e + 1n, true);
        p += 16;
      }
    }
    return out;
  }
}

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, "");
  return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

function normalizeUuid(uuid: string): string {
  const h = uuid.replace(/-/g, "").toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------- MariaDB

interface MariadbGtid {
  domain: number;
  server: number;
  seq: bigint;
}

/** Per-domain last GTID: MariaDB's replication position (gtid_slave_pos / slave_connect_state). */
export class MariadbGtidState {
  readonly domains = new Map<number, MariadbGtid>();

  static parse(text: string): MariadbGtidState {
    const state = new MariadbGtidState();
    for (const part of text.replace(/\s+/g, "").split(",")) {
      if (!part) continue;
      const m = /^(\d+)-(\d+)-(\d+)$/.exec(part);
      if (!m) {
        throw new ReplicateError("CONFIG_BAD_VALUE", `"${part}" is not a MariaDB GTID (expected domain-server-seq, e.g. 0-1-100)`, {
          kind: "config",
          where: "source.start",
        });
      }
      state.set({ domain: Number(m[1]), server: Number(m[2]), seq: BigInt(m[3]!) });
    }
    return state;
  }

  set(g: MariadbGtid): void {
    this.domains.set(g.domain, { ...g });
  }

  toString(): string {
    return [...this.domains.values()]
      .sort((a, b) => a.domain - b.domain)
      .map(formatMariadbGtid)
      .join(",");
  }
}

function formatMariadbGtid(g: MariadbGtid): string {
  return `${g.domain}-${g.server}-${g.seq}`;
}
