// JournalWriter: the single appender of a journal directory. See journal.ts for the format,
// the crash-safety rules and the lock.

import { type FileHandle, mkdir, open, stat } from "node:fs/promises";
import type { JournalConfig } from "../config/types.ts";
import { ReplicateError } from "../errors.ts";
import { lockJournal } from "./journal-lock.ts";
import { MarkWriter, readMark } from "./journal-mark.ts";
import { JournalReader } from "./journal-reader.ts";
import {
  BAD,
  checkHeader,
  cutShort,
  encodeFrames,
  frameHead,
  encodeHeader,
  FRAME,
  frameBytes,
  HEADER_BYTES,
  ioError,
  listSegments,
  markedSegmentGone,
  type MarkReading,
  MAX_FRAME_BODY,
  openSegment,
  readHeader,
  type SegmentInfo,
  SegmentScanner,
  segmentName,
  syncDir,
  syncedBytes,
  syncedDamage,
  tornTail,
} from "./journal-segment.ts";
import type { LogRecord, LogWriter, OffsetRecord } from "../log-contract.ts";

export interface JournalWriterOptions {
  /** Roll size in bytes; overrides segment_mib (tests use small segments). */
  segmentBytes?: number;
  /** Appends are gathered up to this many bytes before a write() (sync() always writes). */
  bufferBytes?: number;
  /** Told about repairs made on open (torn tail truncated, stale lock taken over). */
  onWarning?: (msg: string) => void;
}

export class JournalWriter implements LogWriter {
  private fh: FileHandle;
  private seg: SegmentInfo;
  /** Bytes of the segment on disk (written), and the position after the staged bytes. */
  private written: number;
  private size: number;
  private next: number;
  private staged: Buffer;
  private stagedLen = 0;
  private unsynced = false;
  private failed: ReplicateError | null = null;
  private closed = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly reader: JournalReader;

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    bufferBytes: number,
    private readonly release: () => Promise<void>,
    opened: { fh: FileHandle; seg: SegmentInfo; size: number; next: number },
    private readonly mark: MarkWriter,
  ) {
    this.fh = opened.fh;
    this.seg = opened.seg;
    this.written = this.size = opened.size;
    this.next = opened.next;
    this.staged = Buffer.allocUnsafe(bufferBytes);
    this.reader = new JournalReader(dir);
  }

  static async open(config: JournalConfig, options: JournalWriterOptions = {}): Promise<JournalWriter> {
    const warn = options.onWarning ?? (() => undefined);
    const dir = config.dir;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const mode = (await stat(dir)).mode & 0o777;
      if (mode & 0o077) {
        warn(`journal directory ${dir} has mode 0${mode.toString(8)}; 0700 is advised, change events may hold personal data`);
      }
    } catch (err) {
      throw ioError(err, dir, "creating the journal directory");
    }
    const release = await lockJournal(dir, warn);
    let opened: Opened | undefined;
    try {
      // The mark is read before the segments: the writer names a segment in it only once the
      // segment exists.
      const reading = await readMark(dir);
      if (reading.kind === "unreadable") {
        warn(`${reading.why}: damage at the end of the last segment cannot be told from a torn write this once; a new mark is written now`);
      }
      const segs = await listSegments(dir);
      const last = segs.at(-1);
      if (reading.kind === "mark" && (!last || reading.mark.segment > last.first)) throw markedSegmentGone(dir, reading.mark, last);
      opened = last ? await repairLast(last, warn, reading) : await createSegment(dir, 0);
      // What the segment holds now is synced (repairLast, createSegment): that is the mark, also
      // for a journal of an older version, which has none yet.
      const mark = await MarkWriter.open(dir, reading.kind === "mark" ? reading.seq : undefined);
      try {
        await mark.write({ segment: opened.seg.first, pos: opened.size, offset: opened.next });
      } catch (err) {
        await mark.close();
        throw err;
      }
      const segmentBytes = options.segmentBytes ?? config.segment_mib * 1024 * 1024;
      return new JournalWriter(dir, segmentBytes, options.bufferBytes ?? 1 << 20, release, opened, mark);
    } catch (err) {
      await opened?.fh.close().catch(() => undefined);
      await release();
      throw err;
    }
  }

  endOffset(): bigint {
    return BigInt(this.next);
  }

  append(records: LogRecord[]): Promise<void> {
    return this.serial(async () => {
      if (records.length === 0) return;
      if (this.size >= this.segmentBytes && this.size > HEADER_BYTES) await this.roll();
      let bytes = 0;
      for (const r of records) {
        const n = frameBytes(r);
        if (n - 8 > MAX_FRAME_BODY) throw new ReplicateError("INTERNAL", `a journal record of ${n} bytes is too large`);
        bytes += n;
      }
      if (this.stagedLen + bytes > this.staged.length) await this.flush();
      if (bytes > this.staged.length) {
        // Staged in turn, and a record larger than the stage written as its frame's head and
        // its value, so that a huge value is never copied.
        for (const r of records) {
          const n = frameBytes(r);
          if (n > this.staged.length) {
            await this.flush();
            await this.write(frameHead(r), r.value);
            continue;
          }
          if (this.stagedLen + n > this.staged.length) await this.flush();
          this.stagedLen = encodeFrames([r], this.staged, this.stagedLen);
        }
      } else {
        this.stagedLen = encodeFrames(records, this.staged, this.stagedLen);
      }
      this.size += bytes;
      this.next += records.length;
    });
  }

  sync(): Promise<void> {
    return this.serial(() => this.syncNow());
  }

  tail(max: number): Promise<OffsetRecord[]> {
    return this.serial(async () => {
      await this.flush();
      const first = (await listSegments(this.dir))[0]?.first ?? 0;
      const from = Math.max(first, this.next - Math.max(0, Math.floor(max)));
      const out: OffsetRecord[] = [];
      if (from >= this.next) return out;
      for await (const r of this.reader.read(BigInt(from), { follow: false })) {
        out.push(r);
        if (out.length === this.next - from) break;
      }
      return out;
    });
  }

  close(): Promise<void> {
    return this.serial(async () => {
      this.closed = true;
      try {
        if (!this.failed) await this.syncNow();
      } finally {
        await this.fh.close().catch(() => undefined);
        await this.mark.close();
        await this.reader.close();
        await this.release();
      }
    }, true);
  }

  /** Runs operations one at a time, in call order, so callers need not await each append. */
  private serial<T>(fn: () => Promise<T>, closing = false): Promise<T> {
    const run = this.chain.then(() => {
      if (this.closed && !closing) throw new ReplicateError("INTERNAL", `journal writer of ${this.dir} is closed`);
      if (this.closed) return undefined as T;
      if (this.failed && !closing) throw this.failed;
      return fn();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async syncNow(): Promise<void> {
    await this.flush();
    if (!this.unsynced) return;
    try {
      await this.fh.datasync();
    } catch (err) {
      throw this.fail(err, "syncing a journal segment");
    }
    this.unsynced = false;
    // Only now, with the records durable, may the mark say so.
    await this.writeMark(this.written);
  }

  private async writeMark(pos: number): Promise<void> {
    try {
      await this.mark.write({ segment: this.seg.first, pos, offset: this.next });
    } catch (err) {
      throw this.fail(err, "writing the journal's synced mark");
    }
  }

  private async flush(): Promise<void> {
    if (this.stagedLen === 0) return;
    const len = this.stagedLen;
    this.stagedLen = 0;
    await this.write(this.staged.subarray(0, len));
  }

  /** Appends `parts` in order at the end; a failure removes all of them. */
  private async write(...parts: Uint8Array[]): Promise<void> {
    const start = this.written;
    let done = 0;
    try {
      for (const buf of parts) {
        for (let at = 0; at < buf.length;) {
          const { bytesWritten } = await this.fh.write(buf, at, buf.length - at, start + done);
          at += bytesWritten;
          done += bytesWritten;
        }
      }
    } catch (err) {
      const failure = this.fail(err, "appending to a journal segment");
      // Best effort: without it, the next open truncates the partial record anyway.
      await this.fh.truncate(start).catch(() => undefined);
      throw failure;
    }
    this.written += done;
    this.unsynced = true;
  }

  /**
   * After a failed write or fsync the caller cannot know which appends survived, so the writer
   * refuses further work: `source` restarts and resumes from the journal's tail.
   */
  private fail(err: unknown, doing: string): ReplicateError {
    const e = ioError(err, this.seg.path, doing);
    this.failed = new ReplicateError("JOURNAL_IO", `${e.message} (the journal writer stopped; restart to resume)`, {
      where: e.where,
      cause: err,
    });
    return this.failed;
  }

  private async roll(): Promise<void> {
    await this.syncNow();
    await this.fh.close().catch(() => undefined);
    let created: Opened;
    try {
      created = await createSegment(this.dir, this.next);
    } catch (err) {
      // The old handle is gone; a half-made segment (no header) is rewritten by the next open.
      throw this.fail(err, "starting a new journal segment");
    }
    this.fh = created.fh;
    this.seg = created.seg;
    this.written = this.size = created.size;
    // The new header is synced; until this mark, a crash leaves the segment wholly unsynced.
    await this.writeMark(created.size);
  }
}

interface Opened {
  fh: FileHandle;
  seg: SegmentInfo;
  size: number;
  next: number;
}

async function createSegment(dir: string, first: number): Promise<Opened> {
  const name = segmentName(first);
  const seg: SegmentInfo = { first, name, path: `${dir}/${name}` };
  let fh: FileHandle;
  try {
    fh = await open(seg.path, "wx", 0o600);
  } catch (err) {
    throw ioError(err, seg.path, "creating a journal segment");
  }
  try {
    await fh.write(encodeHeader(first), 0, HEADER_BYTES, 0);
    await fh.datasync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw ioError(err, seg.path, "writing a journal segment header");
  }
  await syncDir(dir);
  return { fh, seg, size: HEADER_BYTES, next: first };
}

/**
 * Opens the last segment for appending. Bytes beyond what was synced (the mark) are a torn write
 * left by a crash or a full disk, cut away and reported (JOURNAL_TORN_TAIL); damage within them
 * is JOURNAL_CORRUPT and nothing is cut. Without a mark (an older version's journal), as before
 * marks: a bad last record with no valid record after it is taken for a torn write.
 */
async function repairLast(seg: SegmentInfo, warn: (msg: string) => void, reading: MarkReading): Promise<Opened> {
  const synced = syncedBytes(seg, reading);
  const mark = reading.kind === "mark" && reading.mark.segment === seg.first ? reading.mark : undefined;
  const fh = await openSegment(seg, "r+");
  try {
    const head = await readHeader(fh, seg);
    if (head.length < HEADER_BYTES) {
      if (mark) throw cutShort(seg, head.length, seg.first, mark);
      // Crashed between creating the file and writing its header
      warn(`journal segment ${seg.path} had an incomplete header (${head.length} bytes); rewrote it`);
      await fh.truncate(0);
      await fh.write(encodeHeader(seg.first), 0, HEADER_BYTES, 0);
      await fh.datasync();
      return { fh, seg, size: HEADER_BYTES, next: seg.first };
    }
    checkHeader(head, seg);
    const sc = new SegmentScanner(fh, seg, HEADER_BYTES, seg.first);
    let tornAt = -1;
    let why = "";
    for (;;) {
      const before = sc.pos;
      const step = sc.next();
      if (step === FRAME) {
        // Syncs end at record boundaries, and the mark names the record offset there.
        if (mark && before < mark.pos && sc.pos > mark.pos) throw syncedDamage(seg, before, sc.offset - 1, `a record runs across the synced mark at byte ${mark.pos}`, mark.pos);
        if (mark && sc.pos === mark.pos && sc.offset !== mark.offset) {
          throw syncedDamage(seg, before, sc.offset - 1, `the synced mark says record offset ${mark.offset} starts at byte ${mark.pos}, the records say ${sc.offset}`, mark.pos);
        }
        continue;
      }
      if (step === BAD) {
        tornAt = sc.framePos;
        why = sc.problem;
      } else if ((await sc.fill()) > 0) {
        continue;
      } else if (sc.pending > 0) {
        tornAt = sc.pos;
        why = "truncated record";
      }
      break;
    }
    if (tornAt < 0) {
      if (mark && sc.pos < mark.pos) throw cutShort(seg, sc.pos, sc.offset, mark);
      // A crash of the process leaves written records unsynced: sync them before marking them.
      await fh.datasync();
      return { fh, seg, size: sc.pos, next: sc.offset };
    }
    // Nobody else writes while we hold the lock, so the bad frame cannot complete meanwhile.
    const discarded = await tornTail(sc, tornAt, why, synced);
    const older = synced === null ? " (this journal has no synced mark, as written by a version before marks: damage to its last record cannot be told from a torn write)" : "";
    warn(
      `journal segment ${seg.path}: discarded ${discarded} bytes of an incomplete record at byte ${tornAt} ` +
        `(offset ${sc.offset}, ${why}), written after the last sync${synced === null ? "" : ` (synced up to byte ${synced})`} and torn by a crash or a full disk${older} ` +
        `[JOURNAL_TORN_TAIL at ${seg.path} byte ${tornAt}]`,
    );
    await fh.truncate(tornAt);
    await fh.datasync();
    return { fh, seg, size: tornAt, next: sc.offset };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw ioError(err, seg.path, "repairing the last journal segment");
  }
}
