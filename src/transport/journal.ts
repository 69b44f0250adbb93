// The local journal: the embedded, single-host stand-in for a one-partition Kafka topic.
// `source` appends AVRO change events with JournalWriter; `sink` reads them back in the same
// order with JournalReader. Offsets are consecutive integers from 0 across the whole journal.
//
// Layout of [transport.journal] dir (created 0700; every file 0600, events may hold personal data):
//
//   00000000000000000000.seg   segments, named by the offset of their first record (20 digits)
//   00000000000000412345.seg
//   lock                       pid of the writer (journal-lock.ts)
//   synced                     the synced mark: segment, byte and offset where the last fdatasync
//                              ended (journal-mark.ts)
//   cursor                     the reader's saved offset, decimal text, replaced atomically
//
// Segment file:
//
//   header  "GSRJ" | version u16 LE (1) | reserved u16 | first offset u64 LE      16 bytes
//   frame   length u32 LE | crc u32 LE | key length i32 LE (-1: null key) | key | value
//           length counts the bytes after crc; crc is CRC-32 (Bun.hash.crc32) over those bytes
//
// Frames have no offset field: a record's offset is the segment's first offset plus its index,
// so a lost or duplicated frame cannot go unnoticed as long as segments chain up (each
// segment's first offset equals the previous segment's end, checked by the reader).
//
// Writing. append() encodes a whole batch into one staging buffer (no syscall per record);
// the buffer goes to the file when full and on sync(), which also fdatasyncs. A new segment
// is started at the first append after the current one reaches segment_mib, so a batch never
// spans segments; the old segment is synced before the new file exists, and the directory is
// synced after creating it. A segment that is not the last is therefore always complete.
//
// Crash safety. A crash (or ENOSPC) can leave the end of the last segment holding part of a
// record, or garbage where the unsynced record should be, but never damage what an fdatasync
// had made durable. After each sync the writer records where it ended in the synced mark, and
// on open it scans the last segment: the first bad frame beyond the mark is a torn tail, cut
// away and reported through onWarning (JOURNAL_TORN_TAIL), even when valid frames follow (none
// of them was synced); a bad frame at or before the mark, a segment shorter than the mark, a
// mark off a record boundary, or a mark naming a segment that is gone is JOURNAL_CORRUPT naming
// the file, byte position and offset: damage to synced records (a failing disk, a file edited or
// cut), which no crash causes, and whose records sink may have applied. Corruption is never
// skipped. A journal without a mark (written before marks existed) keeps the earlier rule: a
// bad frame with any valid frame further on is JOURNAL_CORRUPT, without one a torn tail, and the
// writer marks it from then on. The reader applies the same rules (a torn tail in the last
// segment just ends the read, or is waited on when following, since the writer will repair
// or complete it) and additionally reports: any bad frame in a non-last segment (always synced
// before the next began), a gap or an overlap between segments, and a requested offset older
// than the oldest segment.
//
// Reading. JournalReader reads each segment sequentially in 4 MiB chunks and keeps a sparse
// offset → position index per segment (one entry per MiB), so read(from) seeks instead of
// rescanning. Yielded keys and values are views into the read buffers (never reused), so they
// stay valid but keep their chunk alive while referenced. In follow mode the reader waits on
// fs.watch of the directory, with a poll (pollMs) as the fallback, and moves to the next
// segment once it appears.

import type { JournalConfig } from "../config/types.ts";
import { JournalReader, type JournalReaderOptions } from "./journal-reader.ts";
import { JournalWriter, type JournalWriterOptions } from "./journal-writer.ts";

export { JournalWriter } from "./journal-writer.ts";

/** Opens the journal for appending; fails with JOURNAL_IO if another writer holds it. */
export function openJournalWriter(config: JournalConfig, options: JournalWriterOptions = {}): Promise<JournalWriter> {
  return JournalWriter.open(config, options);
}

/** Opens the journal for reading. Readers take no lock; the one `cursor` file assumes one sink per journal. */
export function openJournalReader(config: Pick<JournalConfig, "dir">, options: JournalReaderOptions = {}): Promise<JournalReader> {
  return JournalReader.open(config.dir, options);
}
