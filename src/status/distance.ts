// How far apart two points of a migration are: binlog bytes (across files, from SHOW BINARY
// LOGS), transactions (from GTIDs, where the source numbers them in one sequence) and whether
// one point has reached the other. GTIDs decide where positions cannot: a rotated binlog's
// first position is past the last transaction although nothing is missing.

import { comparePositions, type BinlogPosition } from "../binlog/position.ts";

/** MariaDB "0-1-900,1-2-5" → domain → sequence number. */
function mariadbPositions(s: string): Map<string, bigint> | null {
  const out = new Map<string, bigint>();
  for (const part of s.split(",").filter((p) => p !== "")) {
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(part.trim());
    if (!m) return null;
    out.set(m[1]!, BigInt(m[3]!));
  }
  return out;
}

/** MySQL "uuid:1-900:1000-1002,uuid2:1-5" → uuid → highest transaction number. */
function mysqlHighest(s: string): Map<string, bigint> | null {
  const out = new Map<string, bigint>();
  for (const part of s.split(",").filter((p) => p !== "")) {
    const [uuid, ...ranges] = part.trim().split(":");
    if (!uuid || ranges.length === 0) return null;
    let high = 0n;
    for (const r of ranges) {
      const end = r.split("-").at(-1)!;
      if (!/^\d+$/.test(end)) return null;
      if (BigInt(end) > high) high = BigInt(end);
    }
    out.set(uuid.toLowerCase(), high);
  }
  return out;
}

/** One transaction's GTID as (sequence key, number): MariaDB "d-s-n" → domain d; MySQL "uuid:n" → uuid. */
function parseOne(gtid: string): { key: string; n: bigint; flavour: "mariadb" | "mysql" } | null {
  const m = /^(\d+)-(\d+)-(\d+)$/.exec(gtid);
  if (m) return { key: m[1]!, n: BigInt(m[3]!), flavour: "mariadb" };
  const y = /^([0-9a-fA-F-]{36}):(\d+)$/.exec(gtid);
  if (y) return { key: y[1]!.toLowerCase(), n: BigInt(y[2]!), flavour: "mysql" };
  return null;
}

/**
 * Transactions the source has committed after `logGtid` (the log's last transaction or
 * position), when one sequence numbers them all; null when GTIDs cannot tell.
 */
export function gtidDistance(sourceGtids: string | null, logGtid: string | null): number | null {
  if (!sourceGtids || !logGtid) return null;
  const one = parseOne(logGtid);
  if (!one) return null;
  const all = one.flavour === "mariadb" ? mariadbPositions(sourceGtids) : mysqlHighest(sourceGtids);
  if (!all || all.size !== 1 || !all.has(one.key)) return null;
  const d = all.get(one.key)! - one.n;
  return d < 0n ? 0 : Number(d);
}

/** Whether `point` (a log position) has reached `target` (a source position), by GTID where it can tell, else by file and offset. */
export function reached(point: (BinlogPosition & { gtid: string | null }) | null, target: BinlogPosition & { gtid: string | null }): boolean {
  if (!point) return false;
  if (comparePositions(point, target) >= 0) return true;
  return gtidDistance(target.gtid, point.gtid) === 0;
}

/** Binlog bytes from `from` to `to`, across files when their sizes are known; null otherwise. */
export function binlogBytes(from: BinlogPosition, to: BinlogPosition, files: Array<{ file: string; size: number }>): number | null {
  if (comparePositions(from, to) >= 0) return 0;
  if (from.file === to.file) return to.pos - from.pos;
  const i = files.findIndex((f) => f.file === from.file);
  const j = files.findIndex((f) => f.file === to.file);
  if (i < 0 || j < 0 || j < i) return null;
  let bytes = files[i]!.size - from.pos;
  for (let k = i + 1; k < j; k++) bytes += files[k]!.size;
  return bytes + to.pos;
}
