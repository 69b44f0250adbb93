// JournalReader: sequential reads across segments, optionally following the writer, and the
// durable cursor. See journal.ts for the format and the corruption rules applied here.

import { type FSWatcher, watch } from "node:fs";
import { type FileHandle, mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { ReplicateError } from "../errors.ts";
import {
  BAD,
  checkHeader,
  corrupt,
  corruptAt,
  cutShort,
  FRAME,
  HEADER_BYTES,
  ioError,
  listSegments,
  markedSegmentGone,
  NEED_MORE,
  openSegment,
  readHeader,
  SegmentIndex,
  type SegmentInfo,
  SegmentScanner,
  syncDir,
  syncedBytes,
  tornTail,
} from "./journal-segment.ts";
import { readMark } from "./journal-mark.ts";
import type { LogReader, OffsetRecord, ReadOptions } from "../log-contract.ts";
import { writerRunning } from "./journal-lock.ts";

export interface JournalReaderOptions {
  /** Longest wait before looking for new data in follow mode; fs.watch usually wakes us sooner. */
  pollMs?: number;
  /** Told when a read to the end stops at a damaged last record that no writer is completing. */
  onWarning?: (message: string) => void;
}

function offsetNumber(offset: bigint): number {
  if (offset < 0n || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ReplicateError("INTERNAL", `journal offset ${offset} is out of range`);
  }
  return Number(offset);
}

export class JournalReader implements LogReader {
  private readonly indexes = new Map<number, SegmentIndex>();
  private readonly reads = new Set<AbortController>();
  private readonly wakers = new Set<() => void>();
  private watcher: FSWatcher | null = null;
  private watchFailed = false;
  /** Bumped on every fs.watch event, so a change between "nothing new" and "wait" is not lost. */
  private changes = 0;
  private cursorChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly pollMs: number;

  /** Opens the reader of `dir`, creating the directory (0700) if source has not yet. */
  static async open(dir: string, options: JournalReaderOptions = {}): Promise<JournalReader> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw ioError(err, dir, "creating the journal directory");
    }
    return new JournalReader(dir, options);
  }

  constructor(
    readonly dir: string,
    options: JournalReaderOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 100;
    this.onWarning = options.onWarning ?? (() => undefined);
  }

  private readonly onWarning: (message: string) => void;

  private index(seg: SegmentInfo): SegmentIndex {
    let idx = this.indexes.get(seg.first);
    if (!idx) this.indexes.set(seg.first, (idx = new SegmentIndex(seg.first)));
    return idx;
  }

  async *read(from: bigint, opts: ReadOptions): AsyncGenerator<OffsetRecord> {
    if (this.closed) throw new ReplicateError("INTERNAL", "journal reader is closed");
    const want = offsetNumber(from);
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.signal?.aborted) stop.abort();
    this.reads.add(stop);
    let fh: FileHandle | null = null;
    try {
      let segs = await listSegments(this.dir);
      while (segs.length === 0) {
        if (want > 0) {
          throw corrupt(`journal ${this.dir} holds no segments, but offset ${want} was requested: was it deleted? ${LOST}`, this.dir);
        }
        if (!opts.follow || !(await this.waitChange(this.changes, stop.signal))) return;
        segs = await listSegments(this.dir);
      }
      if (want < (segs[0]?.first ?? 0)) throw missing(this.dir, want, segs[0]);
      let i = segs.findLastIndex((s) => s.first <= want);

      for (;;) {
        const seg = segs[i] as SegmentInfo;
        fh = await openSegment(seg, "r");
        // A brand-new last segment may not have its header yet
        for (;;) {
          const head = await readHeader(fh, seg);
          if (head.length === HEADER_BYTES || i < segs.length - 1) {
            checkHeader(head, seg);
            break;
          }
          if (!opts.follow || !(await this.waitChange(this.changes, stop.signal))) return;
        }
        const idx = this.index(seg);
        const start = idx.floor(Math.max(want, seg.first));
        const sc = new SegmentScanner(fh, seg, start.pos, start.offset);
        let nextSeg = segs[i + 1];
        // A read that reaches the end of the log checks it against the synced mark (once when
        // following: a truncation would otherwise look like a writer with nothing new).
        let endChecked = false;
        for (;;) {
          const step = sc.next();
          if (step === FRAME) {
            const off = sc.offset - 1;
            idx.note(off, sc.framePos);
            if (off >= want) {
              yield { offset: BigInt(off), record: { key: sc.key, value: sc.value } };
              if (stop.signal.aborted) return;
            }
            continue;
          }
          const seen = this.changes;
          let tornAt = -1;
          let problem = "truncated record";
          if (step === BAD) {
            tornAt = sc.pos;
            problem = sc.problem;
          } else if ((await sc.fill()) > 0) {
            continue;
          } else if (sc.pending > 0) {
            tornAt = sc.pos;
          }
          if (nextSeg) {
            if (tornAt >= 0) {
              throw corruptAt(seg, tornAt, sc.offset, `${problem} in a segment that is not the last (the writer syncs a segment before it starts the next)`);
            }
            if (nextSeg.first !== sc.offset) throw gap(this.dir, seg, sc.offset, nextSeg);
            break;
          }
          if (tornAt < 0 && !endChecked) {
            if (await this.endBeforeMark(seg, sc)) continue;
            endChecked = opts.follow;
          }
          if (tornAt >= 0) {
            // The mark is read before tornTail reads the bytes again: a record the writer
            // completes and syncs in between is then seen complete, not as damage before the mark.
            const synced = syncedBytes(seg, await readMark(this.dir));
            const torn = await tornTail(sc, tornAt, problem, synced);
            // Bytes after the last good frame may still change (the writer completes a record,
            // or truncates a torn tail on restart), so they are read again rather than kept.
            sc.reset(tornAt, sc.offset);
            if (torn < 0) continue;
            // A read to the end that stops here must say so: without a word a sink --stop-at-end
            // says "caught up" short of a transaction. (A writer at work may just be mid-write.)
            if (!opts.follow && !(await writerRunning(this.dir))) {
              this.onWarning(
                `journal segment ${seg.path} ends with ${torn} bytes of a damaged or incomplete record at byte ${tornAt} (offset ${sc.offset}, ${problem}): ` +
                  `read up to offset ${sc.offset} only. A crash or a full disk cut source's last write before it was synced: the next source start discards those bytes and publishes that transaction again, so run source, then the sink [JOURNAL_TORN_TAIL at ${seg.path} byte ${tornAt}]`,
              );
            }
          }
          if (!opts.follow) return;
          // A new segment is only created once this one is complete: go round once more to
          // drain it, then move on.
          segs = await listSegments(this.dir);
          i = segs.findIndex((s) => s.first === seg.first);
          if (i < 0) throw corrupt(`journal segment ${seg.path} was deleted while being read. ${LOST}`, seg.path);
          nextSeg = segs[i + 1];
          if (!nextSeg && !(await this.waitChange(seen, stop.signal))) return;
        }
        await fh.close();
        fh = null;
        i++;
      }
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      this.reads.delete(stop);
      if (fh) await fh.close();
    }
  }

  /**
   * At the clean end of the last segment: JOURNAL_CORRUPT if the writer had synced more than
   * the file holds, or synced records into a segment that is gone. True when the file grew
   * meanwhile (read on); the mark is read first, so bytes it names are in the file by then.
   */
  private async endBeforeMark(seg: SegmentInfo, sc: SegmentScanner): Promise<boolean> {
    const reading = await readMark(this.dir);
    if (reading.kind !== "mark") return false;
    if ((await sc.fill()) > 0) return true;
    const m = reading.mark;
    if (m.segment === seg.first && sc.pos < m.pos) throw cutShort(seg, sc.pos, sc.offset, m);
    if (m.segment > seg.first) {
      const segs = await listSegments(this.dir);
      if (!segs.some((s) => s.first === m.segment)) throw markedSegmentGone(this.dir, m, segs.at(-1));
    }
    return false;
  }

  async endOffset(): Promise<bigint> {
    const reading = await readMark(this.dir);
    const segs = await listSegments(this.dir);
    const seg = segs.at(-1);
    if (reading.kind === "mark" && (!seg || reading.mark.segment > seg.first)) throw markedSegmentGone(this.dir, reading.mark, seg);
    if (!seg) return 0n;
    const fh = await openSegment(seg, "r");
    try {
      const head = await readHeader(fh, seg);
      if (head.length < HEADER_BYTES) return BigInt(seg.first);
      checkHeader(head, seg);
      const idx = this.index(seg);
      const start = idx.floor(Number.MAX_SAFE_INTEGER);
      const sc = new SegmentScanner(fh, seg, start.pos, start.offset);
      for (;;) {
        const step = sc.next();
        if (step === FRAME) {
          idx.note(sc.offset - 1, sc.framePos);
          continue;
        }
        if (step === NEED_MORE && (await sc.fill()) > 0) continue;
        if (step === BAD || sc.pending > 0) await tornTail(sc, sc.pos, step === BAD ? sc.problem : "truncated record", syncedBytes(seg, reading));
        else if (reading.kind === "mark" && reading.mark.segment === seg.first && sc.pos < reading.mark.pos) throw cutShort(seg, sc.pos, sc.offset, reading.mark);
        return BigInt(sc.offset);
      }
    } finally {
      await fh.close();
    }
  }

  saveCursor(offset: bigint): Promise<void> {
    const text = `${offsetNumber(offset)}\n`;
    const path = join(this.dir, "cursor");
    const tmp = join(this.dir, `cursor.${process.pid}.tmp`);
    const run = this.cursorChain.then(async () => {
      try {
        const fh = await open(tmp, "w", 0o600);
        try {
          await fh.writeFile(text, "latin1");
          await fh.datasync();
        } finally {
          await fh.close();
        }
        await rename(tmp, path);
      } catch (err) {
        throw ioError(err, path, "saving the journal cursor");
      }
      await syncDir(this.dir);
    });
    this.cursorChain = run.catch(() => undefined);
    return run;
  }

  async loadCursor(): Promise<bigint | null> {
    const path = join(this.dir, "cursor");
    let text: string;
    try {
      text = await readFile(path, "latin1");
    } catch (err) {
      if ((err as { code?: unknown }).code === "ENOENT") return null;
      throw ioError(err, path, "reading the journal cursor");
    }
    const m = /^(\d+)\n$/.exec(text);
    if (!m?.[1]) throw corrupt(`journal cursor ${path} does not hold an offset; delete it to start from the sink's checkpoint`, path);
    return BigInt(m[1]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.reads) r.abort();
    this.watcher?.close();
    this.watcher = null;
    await this.cursorChain;
  }

  /** Resolves true after a change (or pollMs), false once `signal` aborts. */
  private async waitChange(seen: number, signal: AbortSignal): Promise<boolean> {
    this.startWatching();
    if (signal.aborted) return false;
    if (this.changes !== seen) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      signal.addEventListener("abort", done, { once: true });
      this.wakers.add(done);
    });
    return !signal.aborted;
  }

  private startWatching(): void {
    if (this.watcher || this.watchFailed || this.closed) return;
    try {
      this.watcher = watch(this.dir, { persistent: false }, () => {
        this.changes++;
        for (const wake of [...this.wakers]) wake();
      });
      this.watcher.on("error", () => {
        // polling alone still works
        this.watcher?.close();
        this.watcher = null;
        this.watchFailed = true;
      });
    } catch {
      this.watchFailed = true;
    }
  }
}

/** What the operator can do when segments were deleted: records are never skipped. */
const LOST =
  "Records are never skipped: put the deleted segment files back (from a backup or copy), or start a fresh migration " +
  "(new full copy of the data, new journal, empty target checkpoint)";

function missing(dir: string, want: number, oldest: SegmentInfo | undefined): ReplicateError {
  return corrupt(
    `journal ${dir} no longer holds offset ${want}: its oldest segment ${oldest?.name} starts at offset ${oldest?.first}; ` +
      `the segment holding that offset was deleted. ${LOST}`,
    `${dir} offset ${want}`,
  );
}

function gap(dir: string, seg: SegmentInfo, end: number, next: SegmentInfo): ReplicateError {
  const what =
    next.first > end
      ? `offsets ${end} to ${next.first - 1} are missing (a segment file such as ${join(dir, `${String(end).padStart(20, "0")}.seg`)} was deleted)`
      : `it overlaps the next segment ${next.name}, which starts at offset ${next.first}`;
  return corrupt(`journal segment ${seg.path} ends at offset ${end}, but ${what}. ${LOST}`, `${seg.path} offset ${end}`);
}
