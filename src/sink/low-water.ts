// The low-water mark of the checkpoint: a log offset below which every transaction is applied.
// Transactions commit out of order; this keeps them in log order and moves the mark over the
// committed prefix. The mark is always the offset right after some transaction's End record,
// together with that End's binlog position, so on restart the record just below the mark can
// be checked: it must be that End. A replaced, truncated or foreign log is caught there.

import { ReplicateError } from "../errors.ts";
import { decodeBuiltin, recordKind } from "../events/decode.ts";
import type { OffsetRecord } from "../log-contract.ts";

interface Slot {
  seq: number;
  next: bigint | null;
  file: string | null;
  pos: number | null;
  done: boolean;
}

const FLUSH_MS = 1000;

export class LowWater {
  private readonly slots: Slot[] = [];
  private head = 0;
  private offset: bigint;
  private file: string | null;
  private pos: number | null;
  private flushed: bigint;
  private lastFlush = Date.now();

  constructor(offset: bigint, file: string | null, pos: number | null) {
    this.offset = offset;
    this.flushed = offset;
    this.file = file;
    this.pos = pos;
  }

  /** A transaction in log order; `next` is the offset after its End (null: not known yet). */
  add(seq: number, next: bigint | null, file: string | null, pos: number | null): void {
    this.slots.push({ seq, next, file, pos, done: false });
  }

  /** The End of a streamed transaction arrived. */
  ended(seq: number, next: bigint, file: string, pos: number): void {
    const s = this.find(seq);
    s.next = next;
    s.file = file;
    s.pos = pos;
  }

  committed(seq: number): void {
    this.find(seq).done = true;
  }

  /** A fragment that never committed: it passes, without moving the mark past itself. */
  dropped(seq: number): void {
    const s = this.find(seq);
    s.next = null;
    s.done = true;
  }

  due(): boolean {
    return Date.now() - this.lastFlush >= FLUSH_MS && this.head < this.slots.length && this.slots[this.head]!.done;
  }

  /** Pops the committed prefix; returns the new mark when it moved since the last call. */
  take(force = false): { offset: bigint; file: string | null; pos: number | null } | null {
    if (!force && !this.due()) return null;
    while (this.head < this.slots.length && this.slots[this.head]!.done) {
      const s = this.slots[this.head++]!;
      if (s.next !== null) {
        this.offset = s.next;
        this.file = s.file;
        this.pos = s.pos;
      }
    }
    if (this.head > 1024) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
    this.lastFlush = Date.now();
    if (this.offset === this.flushed) return null;
    this.flushed = this.offset;
    return { offset: this.offset, file: this.file, pos: this.pos };
  }

  /**
   * Wraps the log read that starts one record below the mark, and checks that record is the
   * End the checkpoint names before anything is applied.
   */
  async *verifyFirst(records: AsyncIterable<OffsetRecord>): AsyncGenerator<OffsetRecord> {
    let first = this.offset > 0n;
    for await (const r of records) {
      if (first) {
        first = false;
        const kind = recordKind(r.record);
        const m = kind === "end" ? decodeBuiltin(r.record) : null;
        const expected = `the End of the transaction at ${this.file ?? "?"}:${this.pos ?? "?"}`;
        if (r.offset !== this.offset - 1n || !m || m.kind !== "end" || (this.file !== null && (m.file !== this.file || m.pos !== this.pos))) {
          throw new ReplicateError(
            "SINK_LOG_GAP",
            `the log does not match the target's checkpoint: at offset ${this.offset - 1n} it should hold ${expected}, but it holds ${m && m.kind === "end" ? `the End at ${m.file}:${m.pos}` : `a ${kind} record at offset ${r.offset}`}. The topic or journal was replaced or cut; restore it, or start a fresh migration (full copy, empty checkpoint)`,
            { where: `log offset ${this.offset - 1n}` },
          );
        }
      }
      yield r;
    }
  }

  private find(seq: number): Slot {
    for (let i = this.slots.length - 1; i >= this.head; i--) if (this.slots[i]!.seq === seq) return this.slots[i]!;
    throw new ReplicateError("INTERNAL", `low-water mark lost track of transaction ${seq}`);
  }
}
