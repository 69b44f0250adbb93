// Cell decoders. Fixtures are built by hand from the documented layouts: MySQL sql/field.cc
// Field_*::pack, sql/log_event.cc log_event_print_value, MySQL internals "Binlog Row Image",
// mysys/my_time.cc (my_time_packed_to_binary, my_datetime_packed_to_binary,
// my_timestamp_to_binary), strings/decimal.cc decimal2bin. Each fixture names its fields.

import { describe, expect, test } from "bun:test";
import { deflateRawSync, deflateSync } from "node:zlib";
import { ReplicateError } from "../../src/errors.ts";
import { ByteReader } from "../../src/binlog/reader.ts";
import { type BinlogValue, type ColumnInfo, ColumnType as T } from "../../src/binlog/types.ts";
import { formatTimestamp } from "../../src/binlog/temporal.ts";
import { decodeValue } from "../../src/binlog/values.ts";

function col(type: number, meta = 0, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  return { name: "c", type, meta, nullable: true, unsigned: false, ...extra };
}

let truncationChecks = 0;

/**
 * Decodes one cell and checks it consumed exactly the fixture, and that the fixture cut
 * short by one byte throws BINLOG_TRUNCATED (every layout here is fully bounded).
 */
function dec(c: ColumnInfo, bytes: number[]): BinlogValue {
  const r = new ByteReader(Uint8Array.from(bytes), "test.000001:4");
  const v = decodeValue(r, c);
  expect(r.remaining).toBe(0);
  if (bytes.length > 0) {
    expect(errorOf(c, bytes.slice(0, -1)).code).toBe("BINLOG_TRUNCATED");
    truncationChecks++;
  }
  return v;
}

function errorOf(c: ColumnInfo, bytes: number[]): ReplicateError {
  try {
    decodeValue(new ByteReader(Uint8Array.from(bytes), "test.000001:4"), c);
  } catch (e) {
    expect(e).toBeInstanceOf(ReplicateError);
    const err = e as ReplicateError;
    expect(err.where).toBe("test.000001:4");
    return err;
  }
  throw new Error("expected a ReplicateError");
}

/** k bytes big-endian of n (digit groups of decimals). */
function be(n: number, k: number): number[] {
  const out: number[] = [];
  for (let i = k - 1; i >= 0; i--) out.push(Math.floor(n / 256 ** i) % 256);
  return out;
}
const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];

describe("integers (little-endian, Field_*::pack)", () => {
  const u = { unsigned: true };
  test.each<[string, ColumnInfo, number[], number | bigint]>([
    ["TINY min", col(T.TINY), [0x80], -128],
    ["TINY max", col(T.TINY), [0x7f], 127],
    ["TINY unsigned max", col(T.TINY, 0, u), [0xff], 255],
    ["SHORT min", col(T.SHORT), [0x00, 0x80], -32768],
    ["SHORT max", col(T.SHORT), [0xff, 0x7f], 32767],
    ["SHORT unsigned max", col(T.SHORT, 0, u), [0xff, 0xff], 65535],
    ["INT24 min", col(T.INT24), [0x00, 0x00, 0x80], -8388608],
    ["INT24 max", col(T.INT24), [0xff, 0xff, 0x7f], 8388607],
    ["INT24 unsigned max", col(T.INT24, 0, u), [0xff, 0xff, 0xff], 16777215],
    ["INT24 -1", col(T.INT24), [0xff, 0xff, 0xff], -1],
    ["LONG min", col(T.LONG), [0x00, 0x00, 0x00, 0x80], -2147483648],
    ["LONG max", col(T.LONG), [0xff, 0xff, 0xff, 0x7f], 2147483647],
    ["LONG unsigned max", col(T.LONG, 0, u), [0xff, 0xff, 0xff, 0xff], 4294967295],
    ["LONGLONG min", col(T.LONGLONG), [0, 0, 0, 0, 0, 0, 0, 0x80], -9223372036854775808n],
    ["LONGLONG max", col(T.LONGLONG), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 9223372036854775807n],
    ["LONGLONG unsigned 2^64-1", col(T.LONGLONG, 0, u), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 18446744073709551615n],
    ["LONGLONG 2^53+1", col(T.LONGLONG), [0x01, 0, 0, 0, 0, 0, 0x20, 0], 9007199254740993n],
    ["LONGLONG small is still bigint", col(T.LONGLONG), [0x05, 0, 0, 0, 0, 0, 0, 0], 5n],
  ])("%s", (name, c, bytes, want) => {
    expect(dec(c, bytes)).toBe(want);
  });
});

describe("NEWDECIMAL (decimal2bin: 9 digits per 4 bytes, sign bit inverted, negatives XOR 0xFF)", () => {
  const d = (p: number, s: number) => col(T.NEWDECIMAL, p * 256 + s);
  test.each<[string, ColumnInfo, number[], string]>([
    // DECIMAL(10,2): intg 8 → 4 bytes (DIG2BYTES[8]); frac 2 → 1 byte.
    //   1234567 = 0x0012D687, first byte 0x00 ^ 0x80; 89 = 0x59.
    ["1234567.89", d(10, 2), [0x80, 0x12, 0xd6, 0x87, 0x59], "1234567.89"],
    // The same bytes XOR 0xFF, then the first byte's 0x80 flipped: 0xff ^ 0x80 = 0x7f.
    ["-1234567.89", d(10, 2), [0x7f, 0xed, 0x29, 0x78, 0xa6], "-1234567.89"],
    ["zero keeps its scale", d(10, 2), [0x80, 0x00, 0x00, 0x00, 0x00], "0.00"],
    // DECIMAL(5,0): intg 5 → 3 bytes, no fraction. 12345 = 0x003039.
    ["scale 0", d(5, 0), [0x80, 0x30, 0x39], "12345"],
    // -1: 00 00 01 → XOR ff → ff ff fe → first ^ 0x80 → 7f ff fe.
    ["scale 0 negative", d(5, 0), [0x7f, 0xff, 0xfe], "-1"],
    // DECIMAL(5,5): no integer digits; the fraction's 3-byte group carries the sign bit.
    ["no integer digits", d(5, 5), [0x80, 0x30, 0x39], "0.12345"],
    // DECIMAL(30,2): intg 28 = 1 leading digit (1 byte) + 3 full groups; frac 2 → 1 byte.
    ["leading zero groups", d(30, 2), [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0x05], "5.05"],
    // DECIMAL(20,0): leading 2-digit group "10" (1 byte), then 000000000, 000000005.
    ["inner zero groups keep 9 digits", d(20, 0), [0x8a, 0, 0, 0, 0, 0, 0, 0, 5], "10000000000000000005"],
    // DECIMAL(18,9): one full integer group, one full fraction group; -0.000000001.
    ["tiny negative", d(18, 9), [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], "-0.000000001"],
    // DECIMAL(4,2) 0.05: 1-byte int group 0, 1-byte frac group 5 → zero-padded "05".
    ["fraction padding", d(4, 2), [0x80, 0x05], "0.05"],
  ])("%s", (name, c, bytes, want) => {
    expect(dec(c, bytes)).toBe(want);
  });

  // DECIMAL(65,30): intg 35 = 8-digit leading group (4 bytes) + 3 full groups; frac 30 =
  // 3 full groups + 3-digit trailing group (2 bytes): 4 + 12 + 12 + 2 = 30 bytes.
  const max = [...be(99999999, 4), ...be(999999999, 4), ...be(999999999, 4), ...be(999999999, 4)];
  const maxFrac = [...be(999999999, 4), ...be(999999999, 4), ...be(999999999, 4), ...be(999, 2)];
  const maxBytes = [...max, ...maxFrac];
  maxBytes[0] = maxBytes[0]! ^ 0x80;
  const nines = `${"9".repeat(35)}.${"9".repeat(30)}`;
  test("precision 65 scale 30 maximum", () => {
    expect(dec(d(65, 30), maxBytes)).toBe(nines);
  });
  test("precision 65 scale 30 minimum", () => {
    expect(
      dec(
        d(65, 30),
        maxBytes.map((b) => b ^ 0xff),
      ),
    ).toBe(`-${nines}`);
  });
  test("precision 65 scale 30 with mixed groups", () => {
    // 12345678 | 000000001 | 0 | 000000020 . 500000000 | 0 | 0 | 007
    const b = [...be(12345678, 4), ...be(1, 4), ...be(0, 4), ...be(20, 4), ...be(500000000, 4), ...be(0, 8), ...be(7, 2)];
    b[0] = b[0]! ^ 0x80;
    expect(dec(d(65, 30), b)).toBe("12345678000000001000000000000000020.500000000000000000000000000007");
  });
  test("a digit group above 999999999 is corrupt", () => {
    // DECIMAL(18,9) with integer group 0x3B9ACA00 = 1000000000.
    expect(errorOf(d(18, 9), [0xbb, 0x9a, 0xca, 0x00, 0, 0, 0, 0]).code).toBe("BINLOG_BAD_VALUE");
  });
  test("minus zero prints as zero", () => {
    // Zero digits with the sign bit clear (negative): 7f ff ff ff ff.
    expect(dec(d(10, 2), [0x7f, 0xff, 0xff, 0xff, 0xff])).toBe("0.00");
  });
  test("bad metadata", () => {
    expect(errorOf(d(2, 5), [0x80]).code).toBe("BINLOG_BAD_VALUE");
  });
  test("pre-5.0 DECIMAL is unsupported", () => {
    expect(errorOf(col(T.DECIMAL), [0x31]).code).toBe("BINLOG_UNSUPPORTED");
  });
});

describe("FLOAT / DOUBLE (IEEE little-endian)", () => {
  test("FLOAT values are the float32 value widened", () => {
    expect(dec(col(T.FLOAT, 4), [0x00, 0x00, 0xc0, 0x3f])).toBe(1.5);
    expect(dec(col(T.FLOAT, 4), [0xcd, 0xcc, 0xcc, 0x3d])).toBe(Math.fround(0.1));
    expect(dec(col(T.FLOAT, 4), [0x00, 0x00, 0x80, 0x7f])).toBe(Infinity);
    expect(dec(col(T.FLOAT, 4), [0x00, 0x00, 0x80, 0xff])).toBe(-Infinity);
    expect(dec(col(T.FLOAT, 4), [0x00, 0x00, 0xc0, 0x7f])).toBeNaN();
    expect(Object.is(dec(col(T.FLOAT, 4), [0, 0, 0, 0x80]), -0)).toBe(true);
    expect(dec(col(T.FLOAT, 4), [0xff, 0xff, 0x7f, 0x7f])).toBe(3.4028234663852886e38);
  });
  test("DOUBLE", () => {
    expect(dec(col(T.DOUBLE, 8), [0, 0, 0, 0, 0, 0, 0xf8, 0x3f])).toBe(1.5);
    expect(dec(col(T.DOUBLE, 8), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0x7f])).toBe(Number.MAX_VALUE);
    expect(dec(col(T.DOUBLE, 8), [1, 0, 0, 0, 0, 0, 0, 0])).toBe(Number.MIN_VALUE);
    expect(dec(col(T.DOUBLE, 8), [0, 0, 0, 0, 0, 0, 0xf8, 0x7f])).toBeNaN();
    expect(dec(col(T.DOUBLE, 8), [0, 0, 0, 0, 0, 0, 0xf0, 0xff])).toBe(-Infinity);
  });
});

describe("BIT (ceil(n/8) bytes, big-endian)", () => {
  test("BIT(1)", () => {
    expect(dec(col(T.BIT, 1), [0x01])).toEqual(Uint8Array.of(1));
  });
  test("BIT(10) is 2 bytes", () => {
    expect(dec(col(T.BIT, 10), [0x03, 0xff])).toEqual(Uint8Array.of(3, 0xff));
  });
  test("BIT(64)", () => {
    const b = [0x80, 0, 0, 0, 0, 0, 0, 0x01];
    expect(dec(col(T.BIT, 64), b)).toEqual(Uint8Array.from(b));
  });
  test("the value is a copy, not a view of the event buffer", () => {
    const buf = Uint8Array.of(0x05);
    const v = decodeValue(new ByteReader(buf), col(T.BIT, 3)) as Uint8Array;
    buf[0] = 0;
    expect(v[0]).toBe(5);
  });
  test("a Node Buffer event buffer still gives a plain Uint8Array copy", () => {
    const buf = Buffer.from([0x02, 0x61, 0x62, 0x05]);
    const r = new ByteReader(buf);
    const s = decodeValue(r, col(T.VARCHAR, 10, { collation: 63 })) as Uint8Array;
    const b = decodeValue(r, col(T.BIT, 8)) as Uint8Array;
    buf.fill(0);
    expect(Buffer.isBuffer(s) || Buffer.isBuffer(b)).toBe(false);
    expect([...s, ...b]).toEqual([0x61, 0x62, 0x05]);
  });
});

describe("YEAR, DATE, TIME, DATETIME, TIMESTAMP", () => {
  test("YEAR: 1 byte, 0 or year - 1900", () => {
    expect(dec(col(T.YEAR), [0])).toBe(0);
    expect(dec(col(T.YEAR), [1])).toBe(1901);
    expect(dec(col(T.YEAR), [255])).toBe(2155);
  });
  test("DATE: 3 bytes LE, day 5 bits | month 4 bits | year", () => {
    // 2024 << 9 | 1 << 5 | 2 = 0x0FD022
    expect(dec(col(T.DATE), [0x22, 0xd0, 0x0f])).toBe("2024-01-02");
    expect(dec(col(T.DATE), [0x00, 0x00, 0x00])).toBe("0000-00-00");
    expect(dec(col(T.DATE), [0x00, 0xd0, 0x0f])).toBe("2024-00-00");
    expect(dec(col(T.DATE), [0x9f, 0x1f, 0x4e])).toBe("9999-12-31");
  });
  test("TIME (old): 3 bytes LE signed ±HHMMSS", () => {
    // 123456 = 0x01E240
    expect(dec(col(T.TIME), [0x40, 0xe2, 0x01])).toBe("12:34:56");
    // -8385959 as 24-bit two's complement = 0x800A59
    expect(dec(col(T.TIME), [0x59, 0x0a, 0x80])).toBe("-838:59:59");
    expect(dec(col(T.TIME), [0, 0, 0])).toBe("00:00:00");
  });

  // TIME2: 3 bytes BE = 0x800000 + floor(packed / 2^24), packed = ±((h<<12|m<<6|s) << 24 + µs).
  // 12:34:56 → hms = 12<<12 | 34<<6 | 56 = 0xC8B8.
  const t2 = (fsp: number) => col(T.TIME2, fsp);
  test.each<[string, number, number[], string]>([
    ["zero", 0, [0x80, 0x00, 0x00], "00:00:00"],
    ["12:34:56", 0, [0x80, 0xc8, 0xb8], "12:34:56"],
    // hms(838:59:59) = 0x346EFB; 0x800000 ± that.
    ["838:59:59", 0, [0xb4, 0x6e, 0xfb], "838:59:59"],
    ["-838:59:59", 0, [0x4b, 0x91, 0x05], "-838:59:59"],
    // fsp 2: 1 byte of centiseconds. 78 = 0x4E.
    ["fsp 2", 2, [0x80, 0xc8, 0xb8, 0x4e], "12:34:56.78"],
    // -0.5 s: int part floor(-500000/2^24) = -1 → 0x7FFFFF; centis -50 as a byte = 0xCE.
    ["-00:00:00.5", 1, [0x7f, 0xff, 0xff, 0xce], "-00:00:00.5"],
    // MySQL's own table (my_time_packed_from_binary): 7FFFFE.FF = -00:00:01.01.
    ["-00:00:01.01", 2, [0x7f, 0xff, 0xfe, 0xff], "-00:00:01.01"],
    // -12:34:56.789: int part -0xC8B8 - 1 = 0x7F3747 after offset; frac -7890 (1/10000 s)
    // as uint16 = 0xE12E.
    ["-12:34:56.789", 3, [0x7f, 0x37, 0x47, 0xe1, 0x2e], "-12:34:56.789"],
    // -1.0001 s: int part -2 (0x7FFFFE), frac -1 → 0xFFFF.
    ["-00:00:01.0001", 4, [0x7f, 0xff, 0xfe, 0xff, 0xff], "-00:00:01.0001"],
    // fsp 3, negative whole seconds: fraction 0 needs no borrow.
    ["-01:00:00.000", 3, [0x7f, 0xf0, 0x00, 0x00, 0x00], "-01:00:00.000"],
    // fsp 5-6: all 6 bytes BE = 0x800000000000 + packed; -10 µs = 0x7FFFFFFFFFF6.
    ["-00:00:00.00001", 5, [0x7f, 0xff, 0xff, 0xff, 0xff, 0xf6], "-00:00:00.00001"],
    ["-12:34:56.789012", 6, [0x7f, 0x37, 0x47, 0xf3, 0xf5, 0xec], "-12:34:56.789012"],
    // 999999 = 0x0F423F
    ["838:59:59.999999", 6, [0xb4, 0x6e, 0xfb, 0x0f, 0x42, 0x3f], "838:59:59.999999"],
  ])("TIME2 %s", (name, fsp, bytes, want) => {
    expect(dec(t2(fsp), bytes)).toBe(want);
  });

  test("DATETIME (old): 8 bytes LE decimal YYYYMMDDhhmmss", () => {
    // 20240102030405 = 0x126884177C45, little-endian over 8 bytes
    const b = [0x45, 0x7c, 0x17, 0x84, 0x68, 0x12, 0x00, 0x00];
    expect(dec(col(T.DATETIME), b)).toBe("2024-01-02 03:04:05");
    expect(dec(col(T.DATETIME), [0, 0, 0, 0, 0, 0, 0, 0])).toBe("0000-00-00 00:00:00");
    expect(dec(col(T.DATETIME), [0x77, 0x87, 0xd1, 0x05, 0xf1, 0x5a, 0x00, 0x00])).toBe("9999-12-31 23:59:59");
  });

  // DATETIME2: 5 bytes BE = 0x8000000000 + (year*13+month)<<22 | day<<17 | hour<<12 | min<<6 | sec.
  // 2024-01-02 03:04:05: ym 26313, day 2, hms 3<<12|4<<6|5 → 0x99B2443105.
  const base = [0x99, 0xb2, 0x44, 0x31, 0x05];
  test.each<[number, number[], string]>([
    [0, [], "2024-01-02 03:04:05"],
    // fsp 1-2: 1 byte of 1/100 s; .1 is stored as 10.
    [1, [0x0a], "2024-01-02 03:04:05.1"],
    [2, [0x0c], "2024-01-02 03:04:05.12"],
    // fsp 3-4: 2 bytes BE of 1/10000 s; .123 is 1230.
    [3, [0x04, 0xce], "2024-01-02 03:04:05.123"],
    [4, [0x04, 0xd2], "2024-01-02 03:04:05.1234"],
    // fsp 5-6: 3 bytes BE of µs; .12345 is 123450.
    [5, [0x01, 0xe2, 0x3a], "2024-01-02 03:04:05.12345"],
    [6, [0x01, 0xe2, 0x40], "2024-01-02 03:04:05.123456"],
  ])("DATETIME2 fsp %d", (fsp, frac, want) => {
    const c = col(T.DATETIME2, fsp);
    expect(dec(c, [...base, ...frac])).toBe(want);
  });
  test("DATETIME2 zero, zero parts and maximum", () => {
    expect(dec(col(T.DATETIME2, 0), [0x80, 0, 0, 0, 0])).toBe("0000-00-00 00:00:00");
    expect(dec(col(T.DATETIME2, 3), [0x80, 0, 0, 0, 0, 0, 0])).toBe("0000-00-00 00:00:00.000");
    expect(dec(col(T.DATETIME2, 0), [0x99, 0xb2, 0x00, 0x00, 0x00])).toBe("2024-00-00 00:00:00");
    expect(dec(col(T.DATETIME2, 6), [0xfe, 0xf3, 0xff, 0x7e, 0xfb, 0x0f, 0x42, 0x3f])).toBe("9999-12-31 23:59:59.999999");
  });
  test("DATETIME2 with a fraction above 999999 is corrupt", () => {
    expect(errorOf(col(T.DATETIME2, 6), [...base, 0x0f, 0x42, 0x40]).code).toBe("BINLOG_BAD_VALUE");
  });

  test("TIMESTAMP (old): 4 bytes LE epoch seconds, UTC", () => {
    // 1704164645 = 0x65937D25 = 2024-01-02 03:04:05 UTC
    expect(dec(col(T.TIMESTAMP), [0x25, 0x7d, 0x93, 0x65])).toBe("2024-01-02 03:04:05");
    expect(dec(col(T.TIMESTAMP), [0, 0, 0, 0])).toBe("0000-00-00 00:00:00");
    expect(dec(col(T.TIMESTAMP), [1, 0, 0, 0])).toBe("1970-01-01 00:00:01");
    expect(dec(col(T.TIMESTAMP), [0xff, 0xff, 0xff, 0x7f])).toBe("2038-01-19 03:14:07");
  });
  test("TIMESTAMP2: 4 bytes BE epoch seconds + fraction", () => {
    // fsp 3: .123 stored as 1230 = 0x04CE
    const c = col(T.TIMESTAMP2, 3);
    expect(dec(c, [0x65, 0x93, 0x7d, 0x25, 0x04, 0xce])).toBe("2024-01-02 03:04:05.123");
    expect(dec(c, [0, 0, 0, 0, 0, 0])).toBe("0000-00-00 00:00:00.000");
    expect(dec(col(T.TIMESTAMP2, 0), [0, 0, 0, 0])).toBe("0000-00-00 00:00:00");
    expect(dec(col(T.TIMESTAMP2, 0), [0xff, 0xff, 0xff, 0xff])).toBe("2106-02-07 06:28:15");
  });
  test("UTC formatting agrees with Date across the range", () => {
    for (let sec = 1; sec < 2 ** 32; sec += 9876543) {
      const want = new Date(sec * 1000).toISOString().slice(0, 19).replace("T", " ");
      expect(formatTimestamp(sec, 0, 0)).toBe(want);
    }
  });
});

describe("strings (length prefix, column charset)", () => {
  const emoji = utf8("😀");
  test("VARCHAR utf8mb4: 1-byte length when max length < 256", () => {
    const c = col(T.VARCHAR, 40, { collation: 45 });
    expect(dec(c, [emoji.length, ...emoji])).toBe("😀");
  });
  test("VARCHAR: max length 255 still 1 byte, 256 takes 2", () => {
    expect(dec(col(T.VARCHAR, 255, { collation: 46 }), [0x01, 0x61])).toBe("a");
    const c = col(T.VARCHAR, 300, { collation: 255 });
    expect(dec(c, [0x03, 0x00, 0x61, 0x62, 0x63])).toBe("abc");
  });
  test("latin1 is cp1252: é is 0xE9, € is 0x80, 0x81 is U+0081", () => {
    const c = col(T.VARCHAR, 10, { collation: 8 });
    expect(dec(c, [0x03, 0xe9, 0x80, 0x81])).toBe("é€\u0081");
  });
  test("invalid utf8 is an error, not U+FFFD", () => {
    expect(errorOf(col(T.VARCHAR, 10, { collation: 45 }), [0x02, 0xc3, 0x28]).code).toBe("BINLOG_BAD_VALUE");
  });
  test("binary collation gives bytes", () => {
    const c = col(T.VARCHAR, 300, { collation: 63 });
    expect(dec(c, [0x03, 0x00, 0x00, 0xff, 0x10])).toEqual(Uint8Array.of(0, 0xff, 0x10));
  });
  test("undefined collation: VARCHAR/CHAR are utf8mb4, BLOB is bytes", () => {
    expect(dec(col(T.VARCHAR, 10), [0x02, 0xc3, 0xa9])).toBe("é");
    expect(dec(col(T.STRING, 10), [0x02, 0xc3, 0xa9])).toBe("é");
    expect(dec(col(T.BLOB, 2), [0x02, 0x00, 0xc3, 0xa9])).toEqual(Uint8Array.of(0xc3, 0xa9));
  });
  test("unknown collation id is unsupported", () => {
    expect(errorOf(col(T.VARCHAR, 10, { collation: 9999 }), [0x01, 0x61]).code).toBe("BINLOG_UNSUPPORTED");
  });
  test.each<[string, number, number[], string]>([
    ["utf8mb3 general_ci", 33, [0xc3, 0xa9], "é"],
    ["utf8mb4_0900_ai_ci", 255, emoji, "😀"],
    ["MariaDB utf8mb4_general_nopad_ci", 1069, emoji, "😀"],
    ["MariaDB utf8mb4_uca1400_ai_ci", 2304, emoji, "😀"],
    ["ascii", 11, [0x61, 0x62], "ab"],
    ["ucs2 (big-endian)", 35, [0x00, 0x41, 0x20, 0xac], "A€"],
    ["utf16 (big-endian, surrogates)", 54, [0xd8, 0x3d, 0xde, 0x00], "😀"],
    ["utf16le", 56, [0x41, 0x00, 0xac, 0x20], "A€"],
    ["utf32", 60, [0x00, 0x00, 0x00, 0x41, 0x00, 0x01, 0xf6, 0x00], "A😀"],
    ["cp1251", 51, [0xc0], "А"],
  ])("charset %s", (_name, collation, bytes, want) => {
    expect(dec(col(T.VARCHAR, 100, { collation }), [bytes.length, ...bytes])).toBe(want);
  });
  test("CHAR: length prefix by max byte length (CHAR(255) utf8mb4 = 1020 → 2 bytes)", () => {
    const c = col(T.STRING, 1020, { collation: 45 });
    expect(dec(c, [0x02, 0x00, 0x61, 0x62])).toBe("ab");
    expect(dec(col(T.STRING, 10, { collation: 45 }), [0x02, 0x61, 0x62])).toBe("ab");
  });
  test("BINARY(n): trailing 0x00 stripped by Field_string::pack are restored", () => {
    const c = col(T.STRING, 4, { collation: 63 });
    expect(dec(c, [0x02, 0x61, 0x62])).toEqual(Uint8Array.of(0x61, 0x62, 0, 0));
    expect(dec(c, [0x00])).toEqual(new Uint8Array(4));
  });
  test("BLOB family: length prefix of meta bytes", () => {
    const c = col(T.BLOB, 2, { collation: 63 });
    expect(dec(c, [0x03, 0x00, 1, 2, 3])).toEqual(Uint8Array.of(1, 2, 3));
    const text = col(T.BLOB, 1, { collation: 45 });
    expect(dec(text, [0x06, ...utf8("héllo")])).toBe("héllo");
    const long = col(T.BLOB, 4, { collation: 45 });
    expect(dec(long, [0x01, 0x00, 0x00, 0x00, 0x7a])).toBe("z");
    const medium = col(T.BLOB, 3);
    expect(dec(medium, [0x00, 0x00, 0x00])).toEqual(new Uint8Array(0));
    expect(dec(col(T.MEDIUM_BLOB, 0, { collation: 63 }), [0x01, 0x00, 0x00, 0x09])).toEqual(Uint8Array.of(9));
    expect(errorOf(col(T.BLOB, 7), [0]).code).toBe("BINLOG_BAD_VALUE");
  });
  test("GEOMETRY: length-prefixed SRID + WKB bytes", () => {
    // POINT(1 2), SRID 0: srid(4) byte-order 01, type 1 (u32 LE), x 1.0, y 2.0 (doubles LE)
    const wkb = [0, 0, 0, 0, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40];
    const c = col(T.GEOMETRY, 4);
    expect(dec(c, [wkb.length, 0, 0, 0, ...wkb])).toEqual(Uint8Array.from(wkb));
  });
});

describe("ENUM and SET", () => {
  const values = ["a", "b", "c"];
  test("ENUM: 1-based index, 1 or 2 bytes", () => {
    const c = col(T.ENUM, 1, { enumValues: values });
    expect(dec(c, [0x02])).toBe("b");
    expect(dec(c, [0x00])).toBe("");
    expect(dec(col(T.ENUM, 1), [0x02])).toBe(2);
    expect(dec(col(T.ENUM, 2), [0x01, 0x01])).toBe(257);
    expect(errorOf(c, [0x04]).code).toBe("BINLOG_BAD_VALUE");
  });
  test("SET: bitmask of meta bytes, little-endian", () => {
    const c = col(T.SET, 1, { setValues: values });
    expect(dec(c, [0x05])).toBe("a,c");
    expect(dec(c, [0x00])).toBe("");
    expect(dec(col(T.SET, 1), [0x05])).toBe(5n);
    expect(errorOf(c, [0x08]).code).toBe("BINLOG_BAD_VALUE");
  });
  test("SET of 64 members", () => {
    const names = Array.from({ length: 64 }, (_, i) => `v${i}`);
    const all = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    expect(dec(col(T.SET, 8), all)).toBe(18446744073709551615n);
    expect(dec(col(T.SET, 8, { setValues: names }), [0x01, 0, 0, 0, 0, 0, 0, 0x80])).toBe("v0,v63");
    // 5 bytes: bit 33 is byte 4, bit 1.
    expect(dec(col(T.SET, 5, { setValues: names }), [0, 0, 0, 0, 0x02])).toBe("v33");
    expect(dec(col(T.SET, 5), [0, 0, 0, 0x80, 0x02])).toBe(0x280000000n);
  });
});

describe("JSON column", () => {
  test("binary JSON behind a 4-byte length", () => {
    // doc: 0x0c string, length 2, "hi"
    const c = col(T.JSON, 4);
    expect(dec(c, [0x04, 0, 0, 0, 0x0c, 0x02, 0x68, 0x69])).toBe('"hi"');
  });
  test("empty JSON is null", () => {
    expect(dec(col(T.JSON, 4), [0, 0, 0, 0])).toBe("null");
  });
  test("a text collation means the flavour logged JSON text", () => {
    const text = utf8('{"a": 1}');
    expect(dec(col(T.JSON, 4, { collation: 46 }), [text.length, 0, 0, 0, ...text])).toBe('{"a": 1}');
  });
  test("MariaDB JSON is a LONGTEXT BLOB and decodes as text", () => {
    const text = utf8('{"a":1}');
    expect(dec(col(T.BLOB, 4, { collation: 46 }), [text.length, 0, 0, 0, ...text])).toBe('{"a":1}');
  });
});

describe("MariaDB compressed columns (field_comp.cc)", () => {
  const BLOB_COMPRESSED = 140;
  const VARCHAR_COMPRESSED = 141;
  test("header 0x00: stored uncompressed", () => {
    const c = col(VARCHAR_COMPRESSED, 100, { collation: 45 });
    expect(dec(c, [0x04, 0x00, 0x61, 0x62, 0x63])).toBe("abc");
    expect(dec(c, [0x00])).toBe("");
  });
  test("header 0x80 | length bytes: zlib stream", () => {
    const text = "hello ".repeat(50);
    const z = [...deflateSync(Buffer.from(text))];
    // header 0x82: bit 7 compressed, bits 0-2 = 2 bytes of original length; 300 = 0x012C BE.
    const body = [0x82, 0x01, 0x2c, ...z];
    const c = col(BLOB_COMPRESSED, 2, { collation: 45 });
    expect(dec(c, [body.length & 0xff, body.length >> 8, ...body])).toBe(text);
  });
  test("header bit 3: raw deflate; binary collation gives bytes", () => {
    const z = [...deflateRawSync(Buffer.from([1, 2, 3]))];
    const body = [0x89, 0x03, ...z];
    expect(dec(col(BLOB_COMPRESSED, 1, { collation: 63 }), [body.length, ...body])).toEqual(Uint8Array.of(1, 2, 3));
  });
  test("bytes captured from a MariaDB 10.11 binlog", () => {
    // VARCHAR(500) COMPRESSED utf8mb4 (meta 2001 → 2-byte length 15); header 0x8a = compressed,
    // raw deflate (bit 3), 2 length bytes: 0x012C = 300; then the deflate stream.
    const vc = [0x0f, 0x00, 0x8a, 0x01, 0x2c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x18, 0x25, 0x89, 0x20, 0x01];
    expect(dec(col(VARCHAR_COMPRESSED, 2001, { collation: 45 }), vc)).toBe("hello ".repeat(50));
    // BLOB COMPRESSED holding 'x': too short to compress, header 0x00.
    expect(dec(col(BLOB_COMPRESSED, 2, { collation: 63 }), [0x02, 0x00, 0x00, 0x78])).toEqual(Uint8Array.of(0x78));
  });
  test("length mismatch is corrupt", () => {
    const z = [...deflateSync(Buffer.from("abc"))];
    const body = [0x81, 0x04, ...z];
    expect(errorOf(col(BLOB_COMPRESSED, 1, { collation: 45 }), [body.length, ...body]).code).toBe("BINLOG_BAD_VALUE");
  });
});

describe("other types", () => {
  test("NULL type has no bytes", () => {
    expect(dec(col(T.NULL), [])).toBeNull();
  });
  test("unknown type is unsupported", () => {
    expect(errorOf(col(T.TYPED_ARRAY), [0]).code).toBe("BINLOG_UNSUPPORTED");
  });
});

test("every fixture above was also checked cut short by one byte", () => {
  expect(truncationChecks).toBeGreaterThan(100);
});
