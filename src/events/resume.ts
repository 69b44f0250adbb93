// Where a restarted `source` continues: right after the last transaction whose End record is
// in the log, or at the last Position record when that is later (transactions the source read
// but did not publish, e.g. of other databases, move it on). Whatever follows that End (a Begin and some changes, cut off by a crash) is a
// fragment: an Abort record is appended so every reader sees it closed, and the transaction
// is read from the binlog again, whole. Nothing is published twice, nothing skipped.

import type { LogWriter } from "../log-contract.ts";
import { decodeBuiltin, recordKind } from "./decode.ts";

interface ResumePoint {
  file: string;
  pos: number;
  gtid: string | null;
  /** Offset of the schema history record in effect there, if the source keeps one. */
  historyOffset: bigint | null;
}

interface TailState {
  /** After the last complete transaction; null when the log holds none. */
  resume: ResumePoint | null;
  /** GTID of a transaction left open at the end of the log (a crash fragment), if any. */
  fragment: { gtid: string | null } | null;
}

/** Reads backwards (in growing windows) until the last End record, or the log's start. */
export async function readTail(writer: LogWriter): Promise<TailState> {
  const end = writer.endOffset();
  let window = 256;
  for (;;) {
    const records = (await writer.tail(window)).map((r) => r.record);
    const whole = BigInt(records.length) >= end;
    let last = -1;
    for (let i = records.length - 1; i >= 0 && last < 0; i--) {
      const k = recordKind(records[i]!);
      if (k === "end" || k === "position") last = i;
    }
    if (last >= 0 || whole) {
      let resume: ResumePoint | null = null;
      if (last >= 0) {
        const m = decodeBuiltin(records[last]!);
        if (m.kind === "end" || m.kind === "position") resume = { file: m.file, pos: m.pos, gtid: m.gtid, historyOffset: m.historyOffset };
      }
      // Forward over what follows the last End: an unclosed Begin is a fragment.
      let fragment: TailState["fragment"] = null;
      for (const rec of records.slice(last + 1)) {
        const kind = recordKind(rec);
        if (kind === "begin") fragment = { gtid: rec.key ? new TextDecoder().decode(rec.key) : null };
        else if (kind === "abort") fragment = null;
        else if (fragment === null && (kind === "change" || kind === "ddl")) fragment = { gtid: null };
      }
      return { resume, fragment };
    }
    window *= 4;
  }
}
