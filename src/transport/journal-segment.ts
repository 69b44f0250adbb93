// Segment files: naming, header, record framing, and a chunked scanner shared by the writer
// (repairing the tail on open, tail()) and the reader. The layout is described in journal.ts.

import { type FileHandle, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { ReplicateError } from "../errors.ts";
import type { LogRecord } from "../log-contract.ts";

export const HEADER_BYTES = 16;
const FORMAT_VERSION = 1;
const MAGIC = Buffer.from("GSRJ", "latin1");
/** length u32 + crc u32 + key length i32 */
const FRAME_OVERHEAD = 12;
/** Far above any change event; a larger length field can only be garbage. */
export const MAX_FRAME_BODY = 1 << 30;
const READ_CHUNK_BYTES = 4 << 20;

const NAME = /^(\d{20})\.seg$/;

/** The synced mark (journal-mark.ts keeps it in the `synced` file): a record boundary in a segment. */
export interface SyncedMark {
  /** First offset of the segment the mark is in (its name). */
  segment: number;
  /** Bytes of that segment that were synced: a record boundary. */
  pos: number;
  /** Offset of the first record after `pos`. */
  offset: number;
}

/** What the directory says about syncs: a mark, none at all (an older journal), or a `synced` file without a valid slot. */
export type MarkReading = { kind: "mark"; mark: SyncedMark; seq: bigint } | { kind: "none" } | { kind: "unreadable"; why: string };

export interface SegmentInfo {
  /** Offset of the segment's first record (from the file name, checked against the header). */
  first: number;
  name: string;
  path: string;
}

export function segmentName(first: number): string {
  return `${String(first).padStart(20, "0")}.seg`;
}

/** Segment files of `dir`, oldest first. Other files (lock, cursor) are ignored. */
export async function listSegments(dir: string): Promise<SegmentInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw ioError(err, dir, "listing the journal directory");
  }
  const out: SegmentInfo[] = [];
  for (const name of names) {
    const m = NAME.exec(name);
    if (!m?.[1]) continue;
    const first = Number(m[1]);
    if (!Number.isSafeInteger(first)) {
      throw corrupt(`journal segment ${join(dir, name)} has an impossible first offset in its name`, join(dir, name));
    }
    out.push({ first, name, path: join(dir, name) });
  }
  return out.sort((a, b) => a.first - b.first);
}

export function encodeHeader(first: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt16LE(FORMAT_VERSION, 4);
  // bytes 6..7 reserved (zero) so the first offset is 8-byte aligned
  b.writeBigUInt64LE(BigInt(first), 8);
  return b;
}

/** Throws JOURNAL_CORRUPT unless `b` is a valid header for `seg`. */
export function checkHeader(b: Buffer, seg: SegmentInfo): void {
  let problem: string | null = null;
  if (b.length < HEADER_BYTES) problem = `header is truncated (${b.length} of ${HEADER_BYTES} bytes)`;
  else if (!b.subarray(0, 4).equals(MAGIC)) problem = "header magic is not GSRJ (not a gs-replicate journal segment)";
  else if (b.readUInt16LE(4) !== FORMAT_VERSION) {
    problem = `format version ${b.readUInt16LE(4)} is not supported (this build reads version ${FORMAT_VERSION})`;
  } else if (b.readBigUInt64LE(8) !== BigInt(seg.first)) {
    problem = `header says first offset ${b.readBigUInt64LE(8)} but the file name says ${seg.first}`;
  }
  if (problem) throw corrupt(`journal segment ${seg.path}: ${problem}`, `${seg.path} byte 0`);
}

export function frameBytes(r: LogRecord): number {
  return FRAME_OVERHEAD + (r.key ? r.key.length : 0) + r.value.length;
}

/** Encodes `records` into `out` from `at`; the caller sized `out` with frameBytes(). Returns the end. */
export function encodeFrames(records: LogRecord[], out: Buffer, at: number): number {
  let p = at;
  for (const r of records) {
    const head = writeHead(r, out, p);
    out.set(r.value, p + head);
    const body = head - 8 + r.value.length;
    out.writeUInt32LE(Bun.hash.crc32(out.subarray(p + 8, p + 8 + body)) >>> 0, p + 4);
    p += 8 + body;
  }
  return p;
}

/** A frame's fields before its value (length, CRC left to the caller, key length, key) at `at`; returns their size. */
function writeHead(r: LogRecord, out: Buffer, at: number): number {
  const key = r.key;
  const keyLen = key ? key.length : 0;
  out.writeUInt32LE(4 + keyLen + r.value.length, at);
  out.writeInt32LE(key ? keyLen : -1, at + 8);
  if (key) out.set(key, at + 12);
  return 12 + keyLen;
}

/**
 * The frame of one record up to its value (length, CRC, key length, key), for a record written
 * as two parts: the value itself follows, never copied (a record of a 100 MB BLOB). The CRC
 * covers the same bytes as encodeFrames', computed in two steps.
 */
export function frameHead(r: LogRecord): Buffer {
  const head = Buffer.allocUnsafe(12 + (r.key ? r.key.length : 0));
  writeHead(r, head, 0);
  head.writeUInt32LE(Bun.hash.crc32(r.value, Bun.hash.crc32(head.subarray(8))) >>> 0, 4);
  return head;
}

/** Why the bytes at `at` are not a frame, or null if they are a complete valid one. */
function frameProblem(b: Buffer, at: number, end: number): string | null {
  if (end - at < 8) return "truncated frame header";
  const body = b.readUInt32LE(at);
  if (body < 4 || body > MAX_FRAME_BODY) return `impossible record length ${body}`;
  if (end - at < 8 + body) return "truncated record";
  const keyLen = b.readInt32LE(at + 8);
  if (keyLen < -1 || keyLen > body - 4) return `impossible key length ${keyLen}`;
  if (Bun.hash.crc32(b.subarray(at + 8, at + 8 + body)) >>> 0 !== b.readUInt32LE(at + 4)) return "CRC mismatch";
  return null;
}

/** Index in `b` of the first complete valid frame starting after `from`, or -1. */
function findValidFrame(b: Buffer, from: number): number {
  for (let q = from; q + FRAME_OVERHEAD <= b.length; q++) {
    if (frameProblem(b, q, b.length) === null) return q;
  }
  return -1;
}

/** SegmentScanner.next() results. */
export const FRAME = 0;
export const NEED_MORE = 1;
export const BAD = 2;
type Step = typeof FRAME | typeof NEED_MORE | typeof BAD;

/**
 * Walks the frames of one segment with large sequential reads. Bytes handed out as key/value
 * views are never overwritten: new data goes after them or into a fresh buffer, so records stay
 * valid after the scanner moves on without a copy, and a follower polling a slowly growing file
 * does not allocate a new chunk per poll.
 */
export class SegmentScanner {
  private store: Buffer = Buffer.alloc(0);
  /** File position of store[0]. */
  private base: number;
  private cur = 0;
  private end = 0;
  private need = 8;
  key: Uint8Array | null = null;
  value: Uint8Array = this.store;
  /** File position of the frame last returned, or of the bad bytes. */
  framePos = 0;
  problem = "";

  constructor(
    readonly fh: FileHandle,
    readonly seg: SegmentInfo,
    pos: number,
    public offset: number,
    private readonly chunk = READ_CHUNK_BYTES,
  ) {
    this.base = pos;
  }

  /** File position of the next frame. */
  get pos(): number {
    return this.base + this.cur;
  }

  /** Bytes read but not yet consumed (a partial frame at the end of what was read). */
  get pending(): number {
    return this.end - this.cur;
  }

  /** Rewinds to a known frame boundary, dropping buffered bytes (the file may have changed). */
  reset(pos: number, offset: number): void {
    this.store = Buffer.alloc(0);
    this.base = pos;
    this.cur = 0;
    this.end = 0;
    this.need = 8;
    this.offset = offset;
  }

  next(): Step {
    // Past a huge record, the rest of its store (the next few records) moves to a store of the
    // usual size: the huge one is not kept while those are used (issue 14 item 3).
    if (this.store.length > 2 * this.chunk && this.cur > this.chunk && this.end - this.cur <= this.chunk) this.moveTo(this.chunk);
    const b = this.store;
    const at = this.cur;
    const avail = this.end - at;
    if (avail < 8) {
      this.need = 8;
      return NEED_MORE;
    }
    const body = b.readUInt32LE(at);
    if (body >= 4 && body <= MAX_FRAME_BODY && avail < 8 + body) {
      this.need = 8 + body;
      return NEED_MORE;
    }
    const problem = frameProblem(b, at, this.end);
    if (problem !== null) {
      this.problem = problem;
      this.framePos = this.base + at;
      return BAD;
    }
    const keyLen = b.readInt32LE(at + 8);
    const k = at + FRAME_OVERHEAD;
    this.key = keyLen < 0 ? null : b.subarray(k, k + keyLen);
    this.value = b.subarray(k + Math.max(keyLen, 0), at + 8 + body);
    this.framePos = this.base + at;
    this.cur = at + 8 + body;
    this.offset++;
    return FRAME;
  }

  /** The unconsumed bytes into a new store of `size` bytes (frames already returned keep the old one). */
  private moveTo(size: number): void {
    const next = Buffer.allocUnsafe(size);
    this.store.copy(next, 0, this.cur, this.end);
    this.base += this.cur;
    this.store = next;
    this.end -= this.cur;
    this.cur = 0;
  }

  /** Reads more of the file. Returns the number of new bytes (0 at the current end of file). */
  async fill(): Promise<number> {
    const left = this.end - this.cur;
    const room = this.store.length - this.end;
    if (room < this.need - left || room < 65536) this.moveTo(Math.max(this.chunk, this.need + (this.chunk >> 2)));
    let n: number;
    try {
      const r = await this.fh.read(this.store, this.end, this.store.length - this.end, this.base + this.end);
      n = r.bytesRead;
    } catch (err) {
      throw ioError(err, this.seg.path, "reading a journal segment");
    }
    this.end += n;
    return n;
  }

  /** Everything from the current frame to the end of the file, for deciding torn tail vs corruption. */
  async rest(): Promise<Buffer> {
    for (;;) {
      this.need = this.pending + this.chunk;
      if ((await this.fill()) === 0) return this.store.subarray(this.cur, this.end);
    }
  }
}

/**
 * Bytes of `seg` the synced mark says were durable, so never to be cut: all of it when the mark
 * is in a later segment, up to the mark in its own segment, none in a later one (its header may
 * not have been synced yet). null: no mark (a journal of an older version, journal-mark.ts).
 */
export function syncedBytes(seg: SegmentInfo, reading: MarkReading): number | null {
  if (reading.kind !== "mark") return null;
  const m = reading.mark;
  if (m.segment > seg.first) return Number.POSITIVE_INFINITY;
  return m.segment === seg.first ? m.pos : 0;
}

/**
 * Called at the first bad or incomplete frame (`at`, the scanner's current position) of the
 * last segment, with the bytes of it that were synced (read before this call, so that a frame
 * the writer completes and syncs meanwhile is seen complete here). Damage within the synced
 * bytes is JOURNAL_CORRUPT; beyond them it is a torn or unfinished tail, even where a valid frame
 * follows (none of it was synced): returns how many bytes there are. Without a mark (null), a
 * valid frame further on means damage in the middle (JOURNAL_CORRUPT), as before marks existed.
 * Returns -1 if the frame at `at` has become complete meanwhile (a reader racing the writer):
 * scan again from `at`.
 */
export async function tornTail(sc: SegmentScanner, at: number, problem: string, synced: number | null): Promise<number> {
  const offset = sc.offset;
  const rest = await sc.rest();
  if (frameProblem(rest, 0, rest.length) === null) return -1;
  if (synced !== null) {
    if (at < synced) throw syncedDamage(sc.seg, at, offset, problem, synced);
    return rest.length;
  }
  const q = findValidFrame(rest, 1);
  if (q >= 0) {
    throw corruptAt(
      sc.seg,
      at,
      offset,
      `${problem}, and valid records follow at byte ${at + q}. If the host lost power, the bytes from ${at} ` +
        `were never synced and may be discarded with: truncate -s ${at} ${sc.seg.path}`,
    );
  }
  return rest.length;
}

/** What to do about records that had been synced and are damaged or gone: they are never discarded. */
const SYNCED_ADVICE =
  "Synced records are never discarded (sink may have applied them): restore the journal directory from a copy taken " +
  "while source was stopped, or start a fresh migration (new full copy, new journal, empty target checkpoint)";

/** JOURNAL_CORRUPT for damage at `at`, before the synced mark: not a torn write. */
export function syncedDamage(seg: SegmentInfo, at: number, offset: number, problem: string, synced: number): ReplicateError {
  const upTo = Number.isFinite(synced) ? `up to byte ${synced}` : "all of it: a later segment exists";
  return corrupt(
    `journal segment ${seg.path} is damaged at byte ${at} (record offset ${offset}): ${problem}, in records the writer had synced ` +
      `(${upTo}); a torn write cannot do this, so the disk or someone changed the file. ${SYNCED_ADVICE}`,
    `${seg.path} byte ${at} offset ${offset}`,
  );
}

/** JOURNAL_CORRUPT for a last segment that ends before its synced mark (cut short after the sync). */
export function cutShort(seg: SegmentInfo, end: number, offset: number, mark: SyncedMark): ReplicateError {
  return corrupt(
    `journal segment ${seg.path} ends at byte ${end} (record offset ${offset}), but the writer had synced it up to byte ${mark.pos} ` +
      `(record offset ${mark.offset}): synced records were cut off. ${SYNCED_ADVICE}`,
    `${seg.path} byte ${end} offset ${offset}`,
  );
}

/** JOURNAL_CORRUPT for a synced mark naming a segment the journal no longer has. */
export function markedSegmentGone(dir: string, mark: SyncedMark, last: SegmentInfo | undefined): ReplicateError {
  return corrupt(
    `journal ${dir} has no segment ${segmentName(mark.segment)}, though the writer had synced records in it up to offset ${mark.offset} ` +
      `(its last segment is ${last?.name ?? "none"}): segment files were deleted. ${SYNCED_ADVICE}`,
    `${join(dir, segmentName(mark.segment))} offset ${mark.offset}`,
  );
}

/** Sparse offset → file position map of one segment, filled as frames are scanned. */
export class SegmentIndex {
  private readonly offsets: number[] = [];
  private readonly positions: number[] = [];
  static readonly EVERY_BYTES = 1 << 20;

  constructor(first: number) {
    this.offsets.push(first);
    this.positions.push(HEADER_BYTES);
  }

  /** Records a frame boundary if it is far enough past the last one. */
  note(offset: number, pos: number): void {
    const last = this.positions.length - 1;
    if (pos - (this.positions[last] ?? 0) >= SegmentIndex.EVERY_BYTES && offset > (this.offsets[last] ?? 0)) {
      this.offsets.push(offset);
      this.positions.push(pos);
    }
  }

  /** The closest known boundary at or before `offset`. */
  floor(offset: number): { offset: number; pos: number } {
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.offsets[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { offset: this.offsets[lo] ?? 0, pos: this.positions[lo] ?? HEADER_BYTES };
  }
}

export async function openSegment(seg: SegmentInfo, flags: "r" | "r+"): Promise<FileHandle> {
  try {
    return await open(seg.path, flags);
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") {
      throw corrupt(
        `journal segment ${seg.path} disappeared while in use (deleted by hand?). Records are never skipped: put it back, or start a fresh migration (new full copy, new journal, empty target checkpoint)`,
        seg.path,
      );
    }
    throw ioError(err, seg.path, "opening a journal segment");
  }
}

export async function readHeader(fh: FileHandle, seg: SegmentInfo): Promise<Buffer> {
  const b = Buffer.alloc(HEADER_BYTES);
  try {
    const { bytesRead } = await fh.read(b, 0, HEADER_BYTES, 0);
    return b.subarray(0, bytesRead);
  } catch (err) {
    throw ioError(err, seg.path, "reading a segment header");
  }
}

/** fsync a directory so that a created or renamed entry survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw ioError(err, dir, "syncing the journal directory");
  }
}

export function corrupt(message: string, where: string, cause?: unknown): ReplicateError {
  return new ReplicateError("JOURNAL_CORRUPT", message, { where, cause });
}

export function corruptAt(seg: SegmentInfo, pos: number, offset: number, what: string): ReplicateError {
  return corrupt(
    `journal segment ${seg.path} is corrupt at byte ${pos} (record offset ${offset}): ${what}. ` +
      "Records are never skipped: restore the journal from a copy, or re-run source from a position " +
      `before offset ${offset} into a fresh journal`,
    `${seg.path} byte ${pos} offset ${offset}`,
  );
}

const ADVICE: Record<string, string> = {
  ENOSPC: "the filesystem is full: free space (or move [transport.journal] dir) and restart; an incomplete record is discarded on restart",
  EDQUOT: "the disk quota is exhausted: raise it or free space and restart; an incomplete record is discarded on restart",
  EACCES: "permission denied: the journal directory and its files must belong to the user running gs-replicate (dir 0700, files 0600)",
  EPERM: "operation not permitted: the journal directory and its files must belong to the user running gs-replicate",
  EROFS: "the filesystem is read-only: remount it read-write or choose another [transport.journal] dir",
  ENOTDIR: "a path component is not a directory: check [transport.journal] dir",
  EEXIST: "a file is in the way: check [transport.journal] dir",
  EIO: "the device reported an I/O error: check the disk (dmesg) before continuing",
};

/** Maps a filesystem error to JOURNAL_IO naming the path and what the operator can do. */
export function ioError(err: unknown, path: string, doing: string): ReplicateError {
  if (err instanceof ReplicateError) return err;
  const code = String((err as { code?: unknown } | null)?.code ?? "");
  const advice = ADVICE[code] ?? "check the filesystem holding the journal";
  return new ReplicateError("JOURNAL_IO", `${doing} failed on ${path}${code ? ` (${code})` : ""}: ${advice}`, {
    where: path,
    cause: err,
  });
}
