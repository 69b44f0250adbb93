// src/sink/chunks.ts: how a huge value is cut (views of the bytes, never inside a surrogate pair).
import { expect, test } from "bun:test";
import { chunksOf, hugeParam, hugeRaw, MAX_FIELD_BYTES, refuseTooLarge, VALUE_CHUNK } from "../../src/sink/chunks.ts";

test("a byte string is cut into views of VALUE_CHUNK bytes that join back to it", () => {
  const v = Buffer.alloc(2 * VALUE_CHUNK + 5, 7);
  const parts = chunksOf(v) as Buffer[];
  expect(parts.map((p) => p.length)).toEqual([VALUE_CHUNK, VALUE_CHUNK, 5]);
  expect(parts.every((p) => p.buffer === v.buffer)).toBe(true);
  expect(Buffer.concat(parts).equals(v)).toBe(true);
});

test("a text is never cut between the two halves of a character outside the BMP", () => {
  const v = "a😀".repeat(Math.ceil((2 * VALUE_CHUNK) / 3));
  const parts = chunksOf(v) as string[];
  expect(parts.join("")).toBe(v);
  for (const p of parts) {
    const last = p.charCodeAt(p.length - 1);
    expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
  }
  // 8 Mi units is 2 (mod 3): the first cut falls inside a pair and moves one unit back.
  expect(parts[0]!.length).toBe(VALUE_CHUNK - 1);
});

test("only values past VALUE_CHUNK are huge", () => {
  expect(hugeRaw(new Uint8Array(VALUE_CHUNK))).toBe(false);
  expect(hugeRaw(new Uint8Array(VALUE_CHUNK + 1))).toBe(true);
  expect(hugeRaw(12)).toBe(false);
  expect(hugeParam("x".repeat(VALUE_CHUNK + 1))).toBe(true);
  expect(hugeParam(null)).toBe(false);
});

test("a value past the target's 1 GB per field is refused naming where it is, before anything is sent", () => {
  const where = () => "shop.files.body of row id=7, transaction GTID 0-1-9";
  expect(() => refuseTooLarge(Buffer.allocUnsafe(MAX_FIELD_BYTES + 1), where)).toThrow(/larger than the 1073741824 bytes one field of the target can hold \(shop\.files\.body of row id=7/);
  expect(() => refuseTooLarge(Buffer.allocUnsafe(MAX_FIELD_BYTES), where)).not.toThrow();
});
