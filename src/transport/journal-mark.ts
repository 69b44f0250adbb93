// The synced mark: where the journal's data was when the writer's last fdatasync returned. It
// is what tells a torn write from damaged records (issue 14, item 4): bytes beyond the mark
// were never synced, so a crash or a power failure may have left them half-written and the
// writer may cut them away; bytes at or before it had been made durable, so damage there is
// corruption (a failing disk, a file edited or cut by hand) and the journal stops instead of
// discarding records that `sink` may already have applied.
//
// File `synced` in the journal directory, 96 bytes: two 48-byte slots, written in turn
// (sequence number even → slot 0, odd → slot 1) in place and fdatasynced, so a write torn by a
// power failure leaves the other slot, an older mark, intact. The valid slot (magic and CRC)
// with the higher sequence number is the mark.
//
//   slot   "GSRM" | version u16 LE (1) | reserved u16 | sequence u64 LE |
//          segment (its first offset) u64 LE | byte position u64 LE | record offset u64 LE |
//          crc u32 LE (CRC-32 over the 40 bytes before it) | reserved u32
//
// The mark is written only after the data it names is durable, so it never claims more than was
// synced; a journal written before marks existed has no `synced` file, and gets today's repair.

import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";
import { ioError, type MarkReading, type SyncedMark, syncDir } from "./journal-segment.ts";

const MARK_FILE = "synced";
const MAGIC = Buffer.from("GSRM", "latin1");
const VERSION = 1;
const SLOT_BYTES = 48;
const CRC_AT = 40;

function encodeSlot(seq: bigint, m: SyncedMark): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt16LE(VERSION, 4);
  b.writeBigUInt64LE(seq, 8);
  b.writeBigUInt64LE(BigInt(m.segment), 16);
  b.writeBigUInt64LE(BigInt(m.pos), 24);
  b.writeBigUInt64LE(BigInt(m.offset), 32);
  b.writeUInt32LE(Bun.hash.crc32(b.subarray(0, CRC_AT)) >>> 0, CRC_AT);
  return b;
}

function decodeSlot(b: Buffer): { seq: bigint; mark: SyncedMark } | null {
  if (b.length < SLOT_BYTES || !b.subarray(0, 4).equals(MAGIC) || b.readUInt16LE(4) !== VERSION) return null;
  if (Bun.hash.crc32(b.subarray(0, CRC_AT)) >>> 0 !== b.readUInt32LE(CRC_AT)) return null;
  const n = (at: number) => Number(b.readBigUInt64LE(at));
  const mark = { segment: n(16), pos: n(24), offset: n(32) };
  if (![mark.segment, mark.pos, mark.offset].every(Number.isSafeInteger)) return null;
  return { seq: b.readBigUInt64LE(8), mark };
}

/** The mark of `dir`'s journal. */
export async function readMark(dir: string): Promise<MarkReading> {
  const path = join(dir, MARK_FILE);
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return { kind: "none" };
    throw ioError(err, path, "opening the journal's synced mark");
  }
  try {
    const b = Buffer.alloc(2 * SLOT_BYTES);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    const slots = [decodeSlot(b.subarray(0, Math.min(bytesRead, SLOT_BYTES))), decodeSlot(b.subarray(SLOT_BYTES, bytesRead))];
    const best = slots.reduce((a, s) => (s && (!a || s.seq > a.seq) ? s : a), null);
    return best ? { kind: "mark", mark: best.mark, seq: best.seq } : { kind: "unreadable", why: `${path} holds no valid mark (${bytesRead} bytes)` };
  } catch (err) {
    throw ioError(err, path, "reading the journal's synced mark");
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** The writer's side: one open file, each mark written into the older slot and synced. */
export class MarkWriter {
  private constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    private seq: bigint,
  ) {}

  /** Opens (creating, 0600) the mark file of `dir`; `after` is the sequence number of the mark read at open, if any. */
  static async open(dir: string, after: bigint | undefined): Promise<MarkWriter> {
    const path = join(dir, MARK_FILE);
    let fh: FileHandle;
    try {
      fh = await open(path, "r+");
    } catch (err) {
      if ((err as { code?: unknown }).code !== "ENOENT") throw ioError(err, path, "opening the journal's synced mark");
      try {
        fh = await open(path, "wx+", 0o600);
      } catch (e) {
        throw ioError(e, path, "creating the journal's synced mark");
      }
      // The new name must survive a crash as the segments' do.
      await syncDir(dir);
    }
    return new MarkWriter(fh, path, after ?? 0n);
  }

  /** Records `m` durably. Call only once the data up to `m` is synced. */
  async write(m: SyncedMark): Promise<void> {
    const seq = this.seq + 1n;
    try {
      await this.fh.write(encodeSlot(seq, m), 0, SLOT_BYTES, Number(seq % 2n) * SLOT_BYTES);
      await this.fh.datasync();
    } catch (err) {
      throw ioError(err, this.path, "writing the journal's synced mark");
    }
    this.seq = seq;
  }

  close(): Promise<void> {
    return this.fh.close().catch(() => undefined);
  }
}
