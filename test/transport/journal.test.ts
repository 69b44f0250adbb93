import { afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReplicateError } from "../../src/errors.ts";
import { type JournalWriter, openJournalReader, openJournalWriter } from "../../src/transport/journal.ts";
import { encodeFrames, frameBytes, frameHead } from "../../src/transport/journal-segment.ts";
import type { LogRecord, OffsetRecord } from "../../src/log-contract.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const temps: string[] = [];

afterEach(() => {
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});

/** A journal directory that does not exist yet, inside a fresh temporary directory. */
function journalDir(): string {
  const t = mkdtempSync(join(tmpdir(), "gsr-journal-"));
  temps.push(t);
  return join(t, "journal");
}

function rec(i: number): LogRecord {
  return { key: i % 3 === 0 ? null : enc.encode(`k${i}`), value: enc.encode(`value-${i}-${"x".repeat(i % 40)}`) };
}

/** Bytes a record takes in a segment: length, crc, key length, key, value. */
function frameSize(r: LogRecord): number {
  return 12 + (r.key?.length ?? 0) + r.value.length;
}

function writer(dir: string, extra: { segmentBytes?: number; onWarning?: (m: string) => void } = {}): Promise<JournalWriter> {
  return openJournalWriter({ dir, segment_mib: 128 }, extra);
}

async function writeRange(w: JournalWriter, from: number, to: number, batch = 100): Promise<void> {
  for (let i = from; i < to; i += batch) {
    const recs: LogRecord[] = [];
    for (let j = i; j < Math.min(to, i + batch); j++) recs.push(rec(j));
    await w.append(recs);
    await w.sync();
  }
}

async function readAll(dir: string, from = 0n): Promise<OffsetRecord[]> {
  const r = await openJournalReader({ dir });
  const out: OffsetRecord[] = [];
  for await (const x of r.read(from, { follow: false })) out.push(x);
  await r.close();
  return out;
}

function expectRecords(got: OffsetRecord[], from: number, to: number): void {
  expect(got.length).toBe(to - from);
  got.forEach((x, n) => {
    const want = rec(from + n);
    expect(x.offset).toBe(BigInt(from + n));
    expect(x.record.key === null ? null : dec.decode(x.record.key)).toBe(want.key === null ? null : dec.decode(want.key));
    expect(dec.decode(x.record.value)).toBe(dec.decode(want.value));
  });
}

function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".seg"))
    .sort();
}

async function failure(p: Promise<unknown>): Promise<ReplicateError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ReplicateError) return err;
    throw err;
  }
  throw new Error("expected a ReplicateError");
}

/** Position and offset of the first byte of record `i`'s value in a single-segment journal. */
/**
 * Appends the frames of `records` to the last segment by hand, as writes after the last sync
 * that a crash or a power failure left in the file, less `cut` bytes at the end (a torn write).
 * Returns the segment's path and its size before.
 */
function appendUnsynced(dir: string, records: LogRecord[], cut = 0): { seg: string; synced: number } {
  const seg = join(dir, segments(dir).at(-1) as string);
  const synced = statSync(seg).size;
  const b = Buffer.alloc(records.reduce((n, r) => n + frameBytes(r), 0));
  encodeFrames(records, b, 0);
  writeFileSync(seg, b.subarray(0, b.length - cut), { flag: "a" });
  return { seg, synced };
}

function valuePosition(i: number): number {
  let pos = 16;
  for (let j = 0; j < i; j++) pos += frameSize(rec(j));
  const r = rec(i);
  return pos + 12 + (r.key?.length ?? 0);
}

describe("journal round trip", () => {
  test("many records across several segments keep consecutive offsets", async () => {
    const dir = journalDir();
    const w = await writer(dir, { segmentBytes: 4096 });
    await writeRange(w, 0, 3000, 250);
    expect(w.endOffset()).toBe(3000n);
    await w.close();
    expect(segments(dir).length).toBeGreaterThan(5);
    expect(segments(dir)[0]).toBe("00000000000000000000.seg");
    expectRecords(await readAll(dir), 0, 3000);
    expectRecords(await readAll(dir, 1777n), 1777, 3000);
    expectRecords(await readAll(dir, 3000n), 3000, 3000);
    const r = await openJournalReader({ dir });
    expect(await r.endOffset()).toBe(3000n);
    await r.close();
  });

  test("null keys, empty keys and empty values survive", async () => {
    const dir = journalDir();
    const w = await writer(dir);
    const recs: LogRecord[] = [
      { key: null, value: enc.encode("a") },
      { key: new Uint8Array(0), value: new Uint8Array(0) },
      { key: null, value: new Uint8Array(0) },
      { key: new Uint8Array([0, 255, 7]), value: new Uint8Array([1, 2, 3]) },
    ];
    await w.append(recs);
    await w.close();
    const got = await readAll(dir);
    expect(got.map((x) => x.record.key)).toEqual([null, new Uint8Array(0), null, new Uint8Array([0, 255, 7])]);
    expect(got.map((x) => [...x.record.value])).toEqual([[97], [], [], [1, 2, 3]]);
  });

  test("a record written as its frame's head then its value has the bytes encodeFrames gives it", () => {
    for (const r of [rec(1), rec(3), { key: new Uint8Array(0), value: new Uint8Array(0) }, { key: enc.encode("big"), value: new Uint8Array(70_000).map((_, i) => i & 0xff) }]) {
      const whole = Buffer.alloc(frameBytes(r));
      encodeFrames([r], whole, 0);
      expect(Buffer.concat([frameHead(r), r.value]).equals(whole)).toBe(true);
    }
  });

  test("records larger than the write buffer and the read chunk", async () => {
    const dir = journalDir();
    const w = await writer(dir, { segmentBytes: 1 << 20 });
    const big = new Uint8Array(6 << 20).map((_, i) => (i * 7) & 0xff);
    await w.append([rec(0), { key: enc.encode("big"), value: big }, rec(2)]);
    await w.append([{ key: null, value: big.subarray(1) }]);
    await w.close();
    expect(segments(dir).length).toBe(2);
    const got = await readAll(dir);
    expect(got.map((x) => x.offset)).toEqual([0n, 1n, 2n, 3n]);
    expect(Buffer.from(got[1]?.record.value ?? []).equals(big)).toBe(true);
    expect(Buffer.from(got[3]?.record.value ?? []).equals(big.subarray(1))).toBe(true);
    expect(dec.decode(got[2]?.record.value)).toBe(dec.decode(rec(2).value));
  });

  test("reopening continues the offsets", async () => {
    const dir = journalDir();
    let w = await writer(dir, { segmentBytes: 2048 });
    await writeRange(w, 0, 300, 70);
    await w.close();
    w = await writer(dir, { segmentBytes: 2048 });
    expect(w.endOffset()).toBe(300n);
    await writeRange(w, 300, 450, 70);
    await w.close();
    expectRecords(await readAll(dir), 0, 450);
  });

  test("tail returns the last records, including ones not yet synced", async () => {
    const dir = journalDir();
    const w = await writer(dir, { segmentBytes: 1024 });
    expect(await w.tail(5)).toEqual([]);
    await writeRange(w, 0, 200, 30);
    await w.append([rec(200), rec(201)]);
    expectRecords(await w.tail(5), 197, 202);
    expectRecords(await w.tail(150), 52, 202);
    expectRecords(await w.tail(10_000), 0, 202);
    expect(await w.tail(0)).toEqual([]);
    await w.close();
  });
});

describe("crash safety", () => {
  test("a torn last record is truncated on open, and appending continues", async () => {
    const dir = journalDir();
    let w = await writer(dir);
    await writeRange(w, 0, 9);
    await w.close();
    // rec(9) written after the last sync, and torn
    const { seg, synced } = appendUnsynced(dir, [rec(9)], 3);

    const warnings: string[] = [];
    w = await writer(dir, { onWarning: (m) => warnings.push(m) });
    expect(w.endOffset()).toBe(9n);
    expect(warnings.join("\n")).toContain(seg);
    expect(warnings.join("\n")).toContain(`[JOURNAL_TORN_TAIL at ${seg} byte ${synced}]`);
    expect(statSync(seg).size).toBe(synced);
    await w.append([rec(9), rec(10)]);
    await w.close();
    expectRecords(await readAll(dir), 0, 11);
  });

  test("a read to the end over a damaged last record says so (no writer running), instead of ending as if the log ended there", async () => {
    const dir = journalDir();
    const w = await writer(dir);
    await writeRange(w, 0, 4);
    await w.close();
    // rec(4) written after the last sync, then damaged: its CRC no longer matches
    const { seg } = appendUnsynced(dir, [rec(4)]);
    const bytes = readFileSync(seg);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 0xff, bytes.length - 2);
    writeFileSync(seg, bytes);
    const warnings: string[] = [];
    const r = await openJournalReader({ dir }, { onWarning: (m) => warnings.push(m) });
    const got: OffsetRecord[] = [];
    for await (const x of r.read(0n, { follow: false })) got.push(x);
    await r.close();
    expectRecords(got, 0, 4);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain(`journal segment ${seg} ends with ${frameSize(rec(4))} bytes of a damaged or incomplete record`);
    expect(warnings[0]).toContain("CRC mismatch");
    expect(warnings[0]).toContain("run source, then the sink");
  });

  test("garbage after the last record (unsynced data lost in a crash) is truncated", async () => {
    const dir = journalDir();
    let w = await writer(dir);
    await writeRange(w, 0, 5);
    await w.close();
    const seg = join(dir, segments(dir)[0] as string);
    const size = statSync(seg).size;
    writeFileSync(seg, new Uint8Array(300), { flag: "a" });
    // a reader before the repair stops at the last good record
    expectRecords(await readAll(dir), 0, 5);
    const warnings: string[] = [];
    w = await writer(dir, { onWarning: (m) => warnings.push(m) });
    expect(warnings.length).toBe(1);
    expect(statSync(seg).size).toBe(size);
    expect(w.endOffset()).toBe(5n);
    await w.close();
  });

  test("a segment left without its header by a crash is rewritten on open", async () => {
    const dir = journalDir();
    let w = await writer(dir);
    await writeRange(w, 0, 20);
    await w.close();
    const bare = join(dir, "00000000000000000020.seg");
    writeFileSync(bare, new Uint8Array(7), { mode: 0o600 });
    expectRecords(await readAll(dir), 0, 20);
    const warnings: string[] = [];
    w = await writer(dir, { onWarning: (m) => warnings.push(m) });
    expect(warnings.join("\n")).toContain(bare);
    await writeRange(w, 20, 25);
    await w.close();
    expectRecords(await readAll(dir), 0, 25);
    expect(statSync(bare).size).toBeGreaterThan(16);
  });

  test("a corrupted byte in the middle is JOURNAL_CORRUPT for the writer and the reader", async () => {
    const dir = journalDir();
    const w = await writer(dir);
    await writeRange(w, 0, 100);
    await w.close();
    const seg = join(dir, segments(dir)[0] as string);
    const bytes = readFileSync(seg);
    const at = valuePosition(50);
    bytes[at + 2] = (bytes[at + 2] ?? 0) ^ 0x40;
    writeFileSync(seg, bytes);
    const frameStart = at - 12 - (rec(50).key?.length ?? 0);

    for (const err of [await failure(writer(dir)), await failure(readAll(dir))]) {
      expect(err.code).toBe("JOURNAL_CORRUPT");
      expect(err.retriable).toBe(false);
      expect(err.message).toContain(seg);
      expect(err.message).toContain(`byte ${frameStart}`);
      expect(err.message).toContain("offset 50");
    }
    // records before the damage are still delivered before the error
    const r = await openJournalReader({ dir });
    const seen: bigint[] = [];
    const err = await failure(
      (async () => {
        for await (const x of r.read(0n, { follow: false })) seen.push(x.offset);
      })(),
    );
    expect(err.code).toBe("JOURNAL_CORRUPT");
    expect(seen.length).toBe(50);
    await r.close();
    // the failed open released the lock
    expect(existsSync(join(dir, "lock"))).toBe(false);
  });

  test("a damaged length field in the middle is JOURNAL_CORRUPT, not a silent end of the journal", async () => {
    const dir = journalDir();
    const w = await writer(dir);
    await writeRange(w, 0, 100);
    await w.close();
    const seg = join(dir, segments(dir)[0] as string);
    const bytes = readFileSync(seg);
    const frameStart = valuePosition(50) - 12 - (rec(50).key?.length ?? 0);
    bytes.writeUInt32LE(0xffffff, frameStart); // now claims more bytes than the file holds
    writeFileSync(seg, bytes);
    const r = await openJournalReader({ dir });
    for (const err of [await failure(readAll(dir)), await failure(r.endOffset()), await failure(writer(dir))]) {
      expect(err.code).toBe("JOURNAL_CORRUPT");
      expect(err.message).toContain(`byte ${frameStart} (record offset 50)`);
    }
    await r.close();
  });

  test("damage in a segment that is not the last is JOURNAL_CORRUPT for the reader", async () => {
    const dir = journalDir();
    const w = await writer(dir, { segmentBytes: 1024 });
    await writeRange(w, 0, 200, 20);
    await w.close();
    const first = join(dir, segments(dir)[0] as string);
    truncateSync(first, statSync(first).size - 1);
    const err = await failure(readAll(dir));
    expect(err.code).toBe("JOURNAL_CORRUPT");
    expect(err.message).toContain(first);
    // the writer only scans the last segment, so it still opens
    await (await writer(dir, { segmentBytes: 1024 })).close();
  });

  test("a deleted middle segment is JOURNAL_CORRUPT naming the missing offsets", async () => {
    const dir = journalDir();
    const w = await writer(dir, { segmentBytes: 1024 });
    await writeRange(w, 0, 200, 20);
    await w.close();
    const segs = segments(dir);
    expect(segs.length).toBeGreaterThan(3);
    const gone = segs[1] as string;
    const end = Number((segs[2] as string).slice(0, 20)) - 1;
    rmSync(join(dir, gone));
    const err = await failure(readAll(dir));
    expect(err.code).toBe("JOURNAL_CORRUPT");
    expect(err.message).toContain(`offsets ${Number(gone.slice(0, 20))} to ${end} are missing`);
  });

  test("reading from an offset whose segment was deleted is JOURNAL_CORRUPT", async () => {
    const dir = journalDir();
    const w = await writer(dir, { segmentBytes: 1024 });
    await writeRange(w, 0, 200, 20);
    await w.close();
    rmSync(join(dir, segments(dir)[0] as string));
    const err = await failure(readAll(dir, 3n));
    expect(err.code).toBe("JOURNAL_CORRUPT");
    expect(err.message).toContain("no longer holds offset 3");
  });

  test("an unusable directory is JOURNAL_IO naming the path", async () => {
    const dir = journalDir();
    const file = `${dir}.file`;
    writeFileSync(file, "not a directory");
    const err = await failure(writer(join(file, "journal")));
    expect(err.code).toBe("JOURNAL_IO");
    expect(err.message).toContain(file);
  });
});

describe("synced records are never taken for a torn write (issue 14, item 4)", () => {
  /** A reader's whole read and its end offset, as JOURNAL_CORRUPT or the records. */
  async function readerFailures(dir: string): Promise<ReplicateError[]> {
    const r = await openJournalReader({ dir });
    try {
      return [await failure(readAll(dir)), await failure(r.endOffset())];
    } finally {
      await r.close();
    }
  }

  test("a flipped byte in the last synced record: JOURNAL_CORRUPT for the writer and the reader, and nothing is cut", async () => {
    const dir = journalDir();
    const w = await writer(dir);
    await writeRange(w, 0, 10);
    await w.close();
    const seg = join(dir, segments(dir)[0] as string);
    const bytes = readFileSync(seg);
    const at = valuePosition(9);
    bytes[at + 1] = (bytes[at + 1] ?? 0) ^ 0x01;
    writeFileSync(seg, bytes);
    const size = statSync(seg).size;
    const frameStart = at - 12 - (rec(9).key?.length ?? 0);
    const warnings: string[] = [];
    for (const err of [await failure(writer(dir, { onWarning: (m) => warnings.push(m) })), ...(await readerFailures(dir))]) {
      expect(err.code).toBe("JOURNAL_CORRUPT");
      expect(err.retriable).toBe(false);
      expect(err.message).toContain(`journal segment ${seg} is damaged at byte ${frameStart} (record offset 9): CRC mismatch, in records the writer had synced`);
      expect(err.message).toContain("restore the journal directory from a copy");
      expect(err.where).toBe(`${seg} byte ${frameStart} offset 9`);
    }
    expect(warnings.filter((m) => m.includes("discarded"))).toEqual([]);
    expect(statSync(seg).size).toBe(size);
    expect(existsSync(join(dir, "lock"))).toBe(false);
  });

  test("synced records cut off the end (the segment shorter than what was synced): JOURNAL_CORRUPT, at a record boundary too", async () => {
    const dir = journalDir();
    const w = await writer(dir);
    await writeRange(w, 0, 10);
    await w.close();
    const seg = join(dir, segments(dir)[0] as string);
    const full = statSync(seg).size;
    for (const cut of [3, frameSize(rec(9))]) {
      truncateSync(seg, full - cut);
      for (const err of [await failure(writer(dir)), ...(await readerFailures(dir))]) {
        expect(err.code).toBe("JOURNAL_CORRUPT");
        expect(err.message).toContain(seg);
        expect(err.message).toMatch(/synced/);
      }
      expect(statSync(seg).size).toBe(full - cut);
    }
  });

  test("the last segment deleted: the mark names it, JOURNAL_CORRUPT instead of writing on at its offsets", async () => {
    const dir = journalDir();
    const w = await writer(dir, { segmentBytes: 1024 });
    await writeRange(w, 0, 200, 20);
    await w.close();
    const last = segments(dir).at(-1) as string;
    rmSync(join(dir, last));
    for (const err of [await failure(writer(dir, { segmentBytes: 1024 })), ...(await readerFailures(dir))]) {
      expect(err.code).toBe("JOURNAL_CORRUPT");
      expect(err.message).toContain(`has no segment ${last}, though the writer had synced records in it up to offset 200`);
    }
  });

  test("damage after the synced mark, with valid records after it (unsynced writes a power failure left out of order): cut as a torn tail, logged", async () => {
    const dir = journalDir();
    let w = await writer(dir);
    await writeRange(w, 0, 10);
    await w.close();
    const { seg, synced } = appendUnsynced(dir, [rec(10), rec(11), rec(12)]);
    const bytes = readFileSync(seg);
    bytes[synced + 14] = (bytes[synced + 14] ?? 0) ^ 0xff; // inside rec(10); rec(11) and rec(12) stay valid
    writeFileSync(seg, bytes);
    // A reader stops before it, saying so; it is not JOURNAL_CORRUPT.
    const said: string[] = [];
    const r = await openJournalReader({ dir }, { onWarning: (m) => said.push(m) });
    const got: OffsetRecord[] = [];
    for await (const x of r.read(0n, { follow: false })) got.push(x);
    expect(await r.endOffset()).toBe(10n);
    await r.close();
    expectRecords(got, 0, 10);
    expect(said.join("\n")).toContain(`[JOURNAL_TORN_TAIL at ${seg} byte ${synced}]`);
    const warnings: string[] = [];
    w = await writer(dir, { onWarning: (m) => warnings.push(m) });
    expect(w.endOffset()).toBe(10n);
    expect(statSync(seg).size).toBe(synced);
    expect(warnings.join("\n")).toContain(`(synced up to byte ${synced})`);
    expect(warnings.join("\n")).toContain(`[JOURNAL_TORN_TAIL at ${seg} byte ${synced}]`);
    await writeRange(w, 10, 15);
    await w.close();
    expectRecords(await readAll(dir), 0, 15);
  });

  test("a journal of an older version (no synced mark): the last record's damage is repaired as before, saying why; the writer marks it from then on", async () => {
    const dir = journalDir();
    let w = await writer(dir);
    await writeRange(w, 0, 10);
    await w.close();
    rmSync(join(dir, "synced"));
    const seg = join(dir, segments(dir)[0] as string);
    const bytes = readFileSync(seg);
    bytes[valuePosition(9) + 1] = (bytes[valuePosition(9) + 1] ?? 0) ^ 0x01;
    writeFileSync(seg, bytes);
    const warnings: string[] = [];
    w = await writer(dir, { onWarning: (m) => warnings.push(m) });
    expect(w.endOffset()).toBe(9n);
    expect(warnings.join("\n")).toContain("this journal has no synced mark, as written by a version before marks");
    await w.close();
    expect(existsSync(join(dir, "synced"))).toBe(true);
    // Marked now: the same damage again is corruption.
    const again = readFileSync(seg);
    again[valuePosition(8) + 1] = (again[valuePosition(8) + 1] ?? 0) ^ 0x01;
    writeFileSync(seg, again);
    expect((await failure(writer(dir))).code).toBe("JOURNAL_CORRUPT");
  });

  test("a mark torn by a power failure: the other slot, an older mark, is used", async () => {
    const dir = journalDir();
    let w = await writer(dir);
    await writeRange(w, 0, 10, 5);
    await w.close();
    const mark = join(dir, "synced");
    const slots = readFileSync(mark);
    expect(slots.length).toBe(96);
    // The newer slot is the one holding the higher sequence number (bytes 8..15 of each slot).
    const newer = slots.readBigUInt64LE(8) > slots.readBigUInt64LE(56) ? 0 : 48;
    slots[newer + 20] = (slots[newer + 20] ?? 0) ^ 0xff;
    writeFileSync(mark, slots);
    w = await writer(dir);
    expect(w.endOffset()).toBe(10n);
    await w.close();
    expectRecords(await readAll(dir), 0, 10);
  });
});

describe("follow mode", () => {
  test("sees records appended after the read started, across segments, and stops on abort", async () => {
    const dir = journalDir();
    const w = await writer(dir, { segmentBytes: 2048 });
    await writeRange(w, 0, 10);
    const r = await openJournalReader({ dir }, { pollMs: 20 });
    const stop = new AbortController();
    const got: OffsetRecord[] = [];
    const total = 600;
    const reading = (async () => {
      for await (const x of r.read(5n, { follow: true, signal: stop.signal })) {
        got.push(x);
        if (got.length === total - 5) stop.abort();
      }
    })();
    for (let i = 10; i < total; i += 37) {
      await Bun.sleep(2);
      const recs: LogRecord[] = [];
      for (let j = i; j < Math.min(total, i + 37); j++) recs.push(rec(j));
      await w.append(recs);
      await w.sync();
    }
    await Promise.race([reading, Bun.sleep(10_000).then(() => Promise.reject(new Error("follow read did not finish")))]);
    expectRecords(got, 5, total);
    expect(segments(dir).length).toBeGreaterThan(3);
    await w.close();
    await r.close();
  });

  test("waits for the journal to be created and ends at once when aborted while idle", async () => {
    const dir = journalDir();
    const r = await openJournalReader({ dir }, { pollMs: 20 });
    const stop = new AbortController();
    const got: bigint[] = [];
    const reading = (async () => {
      for await (const x of r.read(0n, { follow: true, signal: stop.signal })) got.push(x.offset);
    })();
    await Bun.sleep(50);
    const w = await writer(dir);
    await writeRange(w, 0, 3);
    for (let i = 0; i < 1000 && got.length < 3; i++) await Bun.sleep(10);
    stop.abort();
    await reading;
    expect(got).toEqual([0n, 1n, 2n]);
    await w.close();
    await r.close();
  });

  test("a torn tail is waited on, then read once the writer repairs it", async () => {
    const dir = journalDir();
    let w = await writer(dir);
    await writeRange(w, 0, 3);
    await w.close();
    appendUnsynced(dir, [rec(3)], 5);
    const r = await openJournalReader({ dir }, { pollMs: 20 });
    const stop = new AbortController();
    const got: OffsetRecord[] = [];
    const reading = (async () => {
      for await (const x of r.read(0n, { follow: true, signal: stop.signal })) {
        got.push(x);
        if (got.length === 6) stop.abort();
      }
    })();
    for (let i = 0; i < 1000 && got.length < 3; i++) await Bun.sleep(10);
    await Bun.sleep(60); // a few polls over the torn record change nothing
    expect(got.length).toBe(3);
    w = await writer(dir, { onWarning: () => undefined });
    await writeRange(w, 3, 6);
    await reading;
    expectRecords(got, 0, 6);
    await w.close();
    await r.close();
  });
});

describe("cursor, lock and permissions", () => {
  test("the cursor survives reopening", async () => {
    const dir = journalDir();
    let r = await openJournalReader({ dir });
    expect(await r.loadCursor()).toBeNull();
    await r.saveCursor(41n);
    await r.saveCursor(42n);
    await r.close();
    r = await openJournalReader({ dir });
    expect(await r.loadCursor()).toBe(42n);
    await r.close();
    expect(readdirSync(dir).filter((n) => n.startsWith("cursor"))).toEqual(["cursor"]);
  });

  test("a second writer fails while the first is open and succeeds after it closes", async () => {
    const dir = journalDir();
    const first = await writer(dir);
    const err = await failure(writer(dir));
    expect(err.code).toBe("JOURNAL_IO");
    expect(err.message).toContain(dir);
    expect(err.message).toContain(`pid ${process.pid}`);
    await first.close();
    const second = await writer(dir);
    await second.close();
    expect(existsSync(join(dir, "lock"))).toBe(false);
  });

  test("a writer in another live process keeps the lock", async () => {
    const dir = journalDir();
    await (await writer(dir)).close();
    const child = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(join(dir, "lock"), `${child.pid}\n`);
      const err = await failure(writer(dir));
      expect(err.message).toContain(`pid ${child.pid}`);
      expect(err.message).toContain(join(dir, "lock"));
    } finally {
      child.kill();
    }
  });

  test("a stale lock of a dead pid is taken over with a warning", async () => {
    const dir = journalDir();
    await (await writer(dir)).close();
    const dead = spawnSync("true").pid;
    writeFileSync(join(dir, "lock"), `${dead}\n`);
    const warnings: string[] = [];
    const w = await writer(dir, { onWarning: (m) => warnings.push(m) });
    expect(warnings.join("\n")).toContain(`pid ${dead}`);
    expect(readFileSync(join(dir, "lock"), "latin1")).toBe(`${process.pid}\n`);
    await w.close();
    // our own pid, left by an earlier incarnation (same pid after a container restart)
    writeFileSync(join(dir, "lock"), `${process.pid}\n`);
    warnings.length = 0;
    await (await writer(dir, { onWarning: (m) => warnings.push(m) })).close();
    expect(warnings.join("\n")).toContain("no longer running");
  });

  test("the directory is 0700 and every file 0600", async () => {
    const dir = journalDir();
    const w = await writer(dir, { segmentBytes: 512 });
    await writeRange(w, 0, 50, 10);
    const r = await openJournalReader({ dir });
    await r.saveCursor(7n);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const names = readdirSync(dir);
    expect(names).toContain("lock");
    expect(names).toContain("cursor");
    for (const n of names) expect([n, statSync(join(dir, n)).mode & 0o777]).toEqual([n, 0o600]);
    await w.close();
    await r.close();
  });
});

// ENOSPC needs a small filesystem: a tmpfs, which only root with CAP_SYS_ADMIN may mount.
// Probed once here so that, where it cannot run, the test is reported as skipped, not passed.
const canMount = (() => {
  if (process.getuid?.() !== 0 || process.platform !== "linux") return false;
  const probe = mkdtempSync(join(tmpdir(), "gsr-mount-probe-"));
  const ok = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]).status === 0;
  if (ok) spawnSync("umount", [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

describe("full disk", () => {
  test.skipIf(!canMount)("ENOSPC is JOURNAL_IO, stops the writer, and leaves a journal that reopens cleanly", async () => {
    const t = mkdtempSync(join(tmpdir(), "gsr-journal-enospc-"));
    temps.push(t);
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", t]).status).toBe(0);
    try {
      const dir = join(t, "journal");
      const w = await writer(dir);
      let written = 0;
      let err: ReplicateError | null = null;
      for (; written < 10_000; written += 10) {
        const recs = Array.from({ length: 10 }, (_, n) => rec(written + n));
        try {
          await w.append(recs);
          await w.sync();
        } catch (e) {
          err = e as ReplicateError;
          break;
        }
      }
      expect(err?.code).toBe("JOURNAL_IO");
      expect(err?.message).toContain("ENOSPC");
      expect(err?.message).toContain(dir);
      expect((await failure(w.append([rec(0)]))).code).toBe("JOURNAL_IO");
      await w.close();
      // everything synced before the failure is intact, nothing after it is half there
      const again = await writer(dir, { onWarning: () => undefined });
      expect(again.endOffset()).toBe(BigInt(written));
      await again.close();
      expectRecords(await readAll(dir), 0, written);
    } finally {
      spawnSync("umount", [t]);
    }
  });
});
