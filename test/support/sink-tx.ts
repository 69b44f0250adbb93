// Transactions as the sink's assembler hands them out, for tests of the apply routine alone.
import type { SinkTx } from "../../src/sink/assembler.ts";

/** A transaction with no changes at log offset `offset` (its checkpoint row is all it writes). */
export function emptyTx(offset: bigint): SinkTx {
  const at = { gtid: `0-1-${offset}`, file: "binlog.000001", pos: Number(offset) * 100, tsMs: 0 };
  return {
    offset,
    begin: { kind: "begin", ...at, flavour: "mariadb", serverId: 1, lastCommitted: null, sequenceNumber: null, commitId: null, foreignKeyChecks: true },
    items: [],
    end: { kind: "end", ...at, eventCount: 0, historyOffset: null, foreignKeyChecks: true },
    next: offset + 3n,
  };
}
