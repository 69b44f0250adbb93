// The schema history in the log, for sources whose binlog does not name columns
// (src/binlog/schema.ts). A restarted source must decode with the definitions in effect at the
// End it resumes from, and every End and Position names, in history_offset, the history record
// in effect there.
//
// One record per state would grow with the schema (a 361-table schema made 810 KB records at
// every DDL, past Kafka's default 1 MB limit from about 450 tables). So the history is a chain
// of parts (src/binlog/ddl-json.ts, format 2):
//   - a full snapshot: a base part (server facts) and change parts naming every table, split so
//     that no record exceeds HISTORY_RECORD_BYTES, written as consecutive records (one run);
//   - after each transaction that changed the schema, a delta: change parts naming only the
//     tables it touched (one run, usually one small record).
// Every record carries the chain: the runs of every part of the history as of this record,
// oldest first, itself last. Loading reads the record history_offset names, then the runs its
// chain lists, and replays the parts in order. Runs at most READ_GAP records apart are read in
// one pass over the log; each pass is one read of the log, and a Kafka read joins a new
// consumer group (seconds), so the passes are what a restart waits for. The first read, for
// the record history_offset names, starts READ_GAP records before it and keeps the history
// parts it meets: the latest parts of a chain usually lie there, and need no pass of their own.
//
// Restart cost stays bounded: a delta is written only while the chain stays within
// MAX_DELTAS deltas and MAX_PASSES passes, and the deltas together stay smaller than the full
// snapshot they build on; otherwise a new full snapshot starts a new chain. A load thus reads
// at most about twice the size of one snapshot in at most 1 + MAX_PASSES reads. Writing costs
// at most twice the deltas' own size, plus one snapshot per MAX_DELTAS DDL statements when
// they come in bursts (a migration script), or per MAX_PASSES when they are far apart.
//
// Logs written by earlier versions hold one whole history per record (layout 1, chain null):
// it still loads, and the next change then writes a full snapshot in parts.

import { splitChange } from "../binlog/ddl-json.ts";
import { SchemaHistory } from "../binlog/schema.ts";
import { ReplicateError } from "../errors.ts";
import type { LogReader, LogRecord } from "../log-contract.ts";
import type { ChangeEventWriter } from "./encode.ts";
import type { HistoryRun } from "./encode.ts";
import { decodeBuiltin, recordKind } from "./decode.ts";

/**
 * No history record's value is larger than this. Kafka's default message.max.bytes
 * (1,048,588) bounds a whole record batch with its framing and key; half of it leaves room
 * for both and for brokers configured a little lower.
 */
export const HISTORY_RECORD_BYTES = 512 * 1024;
/** Room in a record for the AVRO framing and the chain (at most MAX_DELTAS + 1 runs of about 15 bytes). */
const FRAMING_BYTES = 16 * 1024;
export const MAX_DELTAS = 100;
/** Runs at most this many records apart are read in one pass (reading a few MB of rows costs less than another read). */
export const READ_GAP = 16_384n;
export const MAX_PASSES = 4;

/** The chain of the history in the log, with the value bytes of each run (the write policy's input). */
interface HistoryChain {
  runs: HistoryRun[];
  bytes: number[];
}

export class HistoryLog {
  private chain: HistoryChain;

  /** `chain`: as loaded by readHistory; null or absent when the next write must be a full snapshot. */
  constructor(
    private readonly events: ChangeEventWriter,
    chain: HistoryChain | null = null,
  ) {
    this.chain = chain ?? { runs: [], bytes: [] };
  }

  /**
   * The records that bring the history in the log up to `history`, to be appended as they are
   * at offset `at` (the log's end offset now); sets events.historyOffset to the last of them.
   */
  records(history: SchemaHistory, at: bigint): LogRecord[] {
    const budget = HISTORY_RECORD_BYTES - FRAMING_BYTES;
    const change = history.takeChanges();
    const { runs, bytes } = this.chain;
    if (runs.length > 0 && runs.length <= MAX_DELTAS && passes([...runs, { first: at, count: 1 }]).length <= MAX_PASSES) {
      const pieces = splitChange(change, budget).map((p) => JSON.stringify(p));
      const deltas = bytes.slice(1).reduce((a, b) => a + b, 0);
      const size = pieces.reduce((a, p) => a + Buffer.byteLength(p), 0);
      if (deltas + size <= bytes[0]!) return this.write(pieces, at, runs, bytes);
    }
    const base = JSON.stringify(history.base());
    if (Buffer.byteLength(base) > budget) {
      throw new ReplicateError(
        "BINLOG_SCHEMA_MISSING",
        `the source's character sets and collations take ${Buffer.byteLength(base)} bytes in the schema history, more than the ${budget} one log record may hold: set binlog_row_metadata=FULL on the source, where no history is needed`,
      );
    }
    return this.write([base, ...splitChange(history.everything(), budget).map((p) => JSON.stringify(p))], at, [], []);
  }

  private write(parts: string[], at: bigint, runs: HistoryRun[], bytes: number[]): LogRecord[] {
    let size = 0;
    const records = parts.map((json, i) => {
      const r = this.events.historyRecord(json, [...runs, { first: at, count: i + 1 }]);
      if (r.value.length > HISTORY_RECORD_BYTES)
        throw new ReplicateError("INTERNAL", `a schema history record of ${r.value.length} bytes exceeds its bound ${HISTORY_RECORD_BYTES}`);
      size += r.value.length;
      return r;
    });
    this.chain = { runs: [...runs, { first: at, count: parts.length }], bytes: [...bytes, size] };
    this.events.historyOffset = at + BigInt(parts.length - 1);
    return records;
  }
}

function corrupt(offset: bigint, what: string): ReplicateError {
  return new ReplicateError("JOURNAL_CORRUPT", `the schema history in the log is incomplete: ${what}; restore the log, or start a fresh migration`, {
    where: `log offset ${offset}`,
  });
}

/** The passes over the log that read `runs` (ascending): runs at most READ_GAP records apart share one. */
function passes(runs: readonly HistoryRun[]): Array<{ first: bigint; last: bigint }> {
  const out: Array<{ first: bigint; last: bigint }> = [];
  for (const r of runs) {
    const last = r.first + BigInt(r.count) - 1n;
    const cur = out.at(-1);
    if (cur && r.first - cur.last <= READ_GAP) cur.last = last;
    else out.push({ first: r.first, last });
  }
  return out;
}

/** Adds to `got` the records of `runs` it does not hold yet, by offset; returns the reads it took. */
async function readRuns(reader: LogReader, runs: readonly HistoryRun[], got: Map<bigint, LogRecord>): Promise<number> {
  const missing: HistoryRun[] = [];
  for (const r of runs) for (let k = 0n; k < BigInt(r.count); k++) if (!got.has(r.first + k)) missing.push({ first: r.first + k, count: 1 });
  const wanted = new Set(missing.map((r) => r.first));
  let reads = 0;
  for (const pass of passes(missing)) {
    reads++;
    for await (const { offset, record } of reader.read(pass.first, { follow: false })) {
      if (wanted.has(offset)) got.set(offset, record);
      if (offset >= pass.last) break;
    }
  }
  return reads;
}

/** The history in effect at the record `offset` (an End's or Position's history_offset), and its chain. */
export async function readHistory(reader: LogReader, offset: bigint): Promise<{ history: SchemaHistory; chain: HistoryChain | null; records: number; reads: number }> {
  // The first read starts READ_GAP records early: a chain's latest parts are usually there.
  const records = new Map<bigint, LogRecord>();
  const from = offset > READ_GAP ? offset - READ_GAP : 0n;
  for await (const { offset: o, record } of reader.read(from, { follow: false })) {
    if (recordKind(record) === "history") records.set(o, record);
    if (o >= offset) break;
  }
  let reads = 1;
  const head = records.get(offset);
  const m = head ? decodeBuiltin(head) : undefined;
  if (m?.kind !== "history") {
    throw new ReplicateError("JOURNAL_CORRUPT", `the log has no schema history record at offset ${offset}, where its last End points`, { where: `log offset ${offset}` });
  }
  if (m.chain === null) return { history: SchemaHistory.fromJSON(JSON.parse(m.json)), chain: null, records: 1, reads };
  const runs = m.chain;
  const lastRun = runs.at(-1);
  if (!lastRun || lastRun.first + BigInt(lastRun.count) - 1n !== offset) throw corrupt(offset, `the record there does not end its own chain`);
  const offsets: bigint[] = [];
  for (const run of runs) {
    if (run.count < 1 || (offsets.length > 0 && run.first <= offsets.at(-1)!)) throw corrupt(offset, "its chain is out of order");
    for (let k = 0; k < run.count; k++) offsets.push(run.first + BigInt(k));
  }
  reads += await readRuns(reader, runs, records);
  const parts: string[] = [];
  const bytes = runs.map(() => 0);
  let r = 0;
  for (const o of offsets) {
    const rec = records.get(o);
    const part = rec ? decodeBuiltin(rec) : undefined;
    if (!rec || part?.kind !== "history" || part.chain === null)
      throw corrupt(o, `the part at log offset ${o}, which the history at offset ${offset} is built on, is ${rec ? "not a schema history part" : "missing"}`);
    parts.push(part.json);
    while (o >= runs[r]!.first + BigInt(runs[r]!.count)) r++;
    bytes[r]! += rec.value.length;
  }
  return { history: SchemaHistory.fromParts(parts), chain: { runs: runs.map((x) => ({ first: x.first, count: x.count })), bytes }, records: offsets.length, reads };
}
