// src/sink/chunks.ts: how a huge value is cut (views of the bytes, never inside a surrogate pair).
import { expect, test } from "bun:test";
import { CHUNK_FROM, chunkSize, chunksOf, hugeParam, hugeRaw, MAX_FIELD_BYTES, refuseTooLarge } from "../../src/sink/chunks.ts";

const MiB = 1 << 20;

test("the chunk size is an eighth of the value, between 1 and 16 MiB", () => {
  expect([5 * MiB, 10 * MiB, 100 * MiB, 1024 * MiB].map(chunkSize)).toEqual([MiB, 10 * 131072, 100 * 131072, 16 * MiB]);
});

test("a byte string is cut into views that join back to it", () => {
  const v = Buffer.alloc(8 * MiB + 5, 7);
  const parts = chunksOf(v) as Buffer[];
  // ceil((8 MiB + 5) / 8) = 1 MiB + 1 per chunk: seven of them, then the rest.
  expect(parts.map((p) => p.length)).toEqual([...Array(7).fill(MiB + 1), MiB - 2]);
  expect(parts.every((p) => p.buffer === v.buffer)).toBe(true);
  expect(Buffer.concat(parts).equals(v)).toBe(true);
});

test("a text is never cut between the two halves of a character outside the BMP", () => {
  const v = "a😀".repeat(Math.floor((16 * MiB) / 3));
  const parts = chunksOf(v) as string[];
  expect(parts.join("")).toBe(v);
  for (const p of parts) {
    const last = p.charCodeAt(p.length - 1);
    expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
  }
  // chunks of 2 Mi units; 2 Mi is 2 (mod 3): the first cut falls inside a pair and moves one unit back.
  expect(chunkSize(v.length)).toBe(2 * MiB);
  expect(parts[0]!.length).toBe(2 * MiB - 1);
});

test("only values past CHUNK_FROM are huge", () => {
  expect(hugeRaw(new Uint8Array(CHUNK_FROM))).toBe(false);
  expect(hugeRaw(new Uint8Array(CHUNK_FROM + 1))).toBe(true);
  expect(hugeRaw(12)).toBe(false);
  expect(hugeParam("x".repeat(CHUNK_FROM + 1))).toBe(true);
  expect(hugeParam(null)).toBe(false);
});

test("a value past the target's 1 GB per field is refused naming where it is, before anything is sent", () => {
  const where = () => "shop.files.body of row id=7, transaction GTID 0-1-9";
  expect(() => refuseTooLarge(Buffer.allocUnsafe(MAX_FIELD_BYTES + 1), where)).toThrow(
    /larger than the 1073741824 bytes one field of the target can hold \(shop\.files\.body of row id=7/,
  );
  expect(() => refuseTooLarge(Buffer.allocUnsafe(MAX_FIELD_BYTES), where)).not.toThrow();
});
