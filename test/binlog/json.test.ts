// MySQL binary JSON → text. Every fixture is laid out by hand from MySQL's
// sql-common/json_binary.h "JSON binary format" (WL#8132): offsets count from the first byte
// of the container's element count; small containers use 2-byte counts/sizes/offsets, large
// ones 4-byte; literals and int16/uint16 (plus int32/uint32 in large) are inlined in entries.

import { describe, expect, test } from "bun:test";
import { jsonBinaryToText } from "../../src/binlog/json.ts";
import { ByteReader } from "../../src/binlog/reader.ts";
import { ReplicateError } from "../../src/errors.ts";

function json(bytes: number[]): string {
  const r = new ByteReader(Uint8Array.from(bytes), "test.000001:900");
  const out = jsonBinaryToText(r, bytes.length);
  expect(r.remaining).toBe(0);
  return out;
}

function codeOf(bytes: number[], n = bytes.length): string {
  try {
    jsonBinaryToText(new ByteReader(Uint8Array.from(bytes), "test.000001:900"), n);
  } catch (e) {
    expect(e).toBeInstanceOf(ReplicateError);
    expect((e as ReplicateError).where).toBe("test.000001:900");
    return (e as ReplicateError).code;
  }
  throw new Error("expected a ReplicateError");
}

const f64 = (d: number): number[] => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, d, true);
  return [...b];
};
const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];

describe("scalars at the top level (type byte + value)", () => {
  test.each<[string, number[], string]>([
    ["null", [0x04, 0x00], "null"],
    ["true", [0x04, 0x01], "true"],
    ["false", [0x04, 0x02], "false"],
    ["int16 min", [0x05, 0x00, 0x80], "-32768"],
    ["uint16 max", [0x06, 0xff, 0xff], "65535"],
    ["int32 min", [0x07, 0x00, 0x00, 0x00, 0x80], "-2147483648"],
    ["uint32 max", [0x08, 0xff, 0xff, 0xff, 0xff], "4294967295"],
    ["int64 min", [0x09, 0, 0, 0, 0, 0, 0, 0, 0x80], "-9223372036854775808"],
    ["int64 2^53+1 stays exact", [0x09, 0x01, 0, 0, 0, 0, 0, 0x20, 0], "9007199254740993"],
    ["uint64 max", [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "18446744073709551615"],
    ["double 1.5", [0x0b, ...f64(1.5)], "1.5"],
    ["double integral keeps .0", [0x0b, ...f64(3)], "3.0"],
    ["double exponent without +", [0x0b, ...f64(1.5e300)], "1.5e300"],
    ["double negative exponent", [0x0b, ...f64(1e-7)], "1e-7"],
    ["double -0.1", [0x0b, ...f64(-0.1)], "-0.1"],
    // string: 1-byte length (< 128), utf8mb4 bytes
    ["string", [0x0c, 0x05, ...utf8("hello")], '"hello"'],
    ["emoji string", [0x0c, 0x04, ...utf8("😀")], '"😀"'],
  ])("%s", (_name, bytes, want) => {
    expect(json(bytes)).toBe(want);
  });

  test('string escapes follow MySQL: " \\ \\n and \\u00xx for controls, / and é kept', () => {
    const s = 'a"b\\c\n\x01/é';
    const b = utf8(s);
    expect(json([0x0c, b.length, ...b])).toBe('"a\\"b\\\\c\\n\\u0001/é"');
  });
  test("variable-length string length: 7 bits per byte, low group first", () => {
    // 200 = 0b1_1001000 → 0xC8 (0x48 | more), 0x01
    expect(json([0x0c, 0xc8, 0x01, ...new Array(200).fill(0x78)])).toBe(`"${"x".repeat(200)}"`);
    // 20000 = 0x4E20 → 0xA0 (0x20 | more), 0x9C (0x1C | more), 0x01
    expect(json([0x0c, 0xa0, 0x9c, 0x01, ...new Array(20000).fill(0x79)])).toBe(`"${"y".repeat(20000)}"`);
  });
  test("empty document is JSON null", () => {
    expect(json([])).toBe("null");
  });
});

describe("objects and arrays", () => {
  test("small object with inlined int16 and an offset string", () => {
    // prettier-ignore
    const doc = [
      0x00,                   // small object
      0x02, 0x00,             // count 2
      0x17, 0x00,             // size 23
      0x12, 0x00, 0x01, 0x00, // key 0 at 18, length 1
      0x13, 0x00, 0x02, 0x00, // key 1 at 19, length 2
      0x05, 0x01, 0x00,       // value 0: int16 1, inlined
      0x0c, 0x15, 0x00,       // value 1: string at 21
      0x61,                   // 18: "a"
      0x62, 0x63,             // 19: "bc"
      0x01, 0x78,             // 21: length 1, "x"
    ];
    expect(json(doc)).toBe('{"a": 1, "bc": "x"}');
  });

  test("small array: literals, negative int16, int32 by offset, string", () => {
    // prettier-ignore
    const doc = [
      0x02,                   // small array
      0x05, 0x00,             // count 5
      0x19, 0x00,             // size 25
      0x04, 0x01, 0x00,       // true, inlined
      0x04, 0x00, 0x00,       // null, inlined
      0x05, 0xfe, 0xff,       // int16 -2, inlined
      0x07, 0x13, 0x00,       // int32 at 19 (not inlined in the small form)
      0x0c, 0x17, 0x00,       // string at 23
      0x70, 0x11, 0x01, 0x00, // 19: 70000
      0x01, 0x73,             // 23: "s"
    ];
    expect(json(doc)).toBe('[true, null, -2, 70000, "s"]');
  });

  test("nested: object → array → object", () => {
    // prettier-ignore
    const doc = [
      0x00,                   // small object
      0x01, 0x00, 0x22, 0x00, // count 1, size 34
      0x0b, 0x00, 0x01, 0x00, // key at 11, length 1
      0x02, 0x0c, 0x00,       // value: small array at 12
      0x6b,                   // 11: "k"
      // 12: the array; its offsets count from here
      0x02, 0x00, 0x16, 0x00, // count 2, size 22
      0x05, 0x01, 0x00,       // int16 1, inlined
      0x00, 0x0a, 0x00,       // small object at array+10
      // array+10: the inner object
      0x01, 0x00, 0x0c, 0x00, // count 1, size 12
      0x0b, 0x00, 0x01, 0x00, // key at 11, length 1
      0x04, 0x02, 0x00,       // false, inlined
      0x7a,                   // "z"
    ];
    expect(json(doc)).toBe('{"k": [1, {"z": false}]}');
  });

  test("large object: 4-byte counts and offsets, int32/uint32 inlined", () => {
    // prettier-ignore
    const doc = [
      0x01,                               // large object
      0x02, 0x00, 0x00, 0x00,             // count 2
      0x20, 0x00, 0x00, 0x00,             // size 32
      0x1e, 0x00, 0x00, 0x00, 0x01, 0x00, // key 0 at 30, length 1
      0x1f, 0x00, 0x00, 0x00, 0x01, 0x00, // key 1 at 31, length 1
      0x07, 0x70, 0x11, 0x01, 0x00,       // int32 70000, inlined
      0x08, 0xff, 0xff, 0xff, 0xff,       // uint32 4294967295, inlined
      0x61, 0x62,                         // "a", "b"
    ];
    expect(json(doc)).toBe('{"a": 70000, "b": 4294967295}');
  });

  test("large array: inlined literal and int16 in 4-byte fields, string and double by offset", () => {
    // prettier-ignore
    const doc = [
      0x03,                         // large array
      0x04, 0x00, 0x00, 0x00,       // count 4
      0x26, 0x00, 0x00, 0x00,       // size 38
      0x04, 0x00, 0x00, 0x00, 0x00, // null
      0x05, 0xff, 0xff, 0xff, 0xff, // int16 -1 (written with int4store)
      0x0c, 0x1c, 0x00, 0x00, 0x00, // string at 28
      0x0b, 0x1e, 0x00, 0x00, 0x00, // double at 30
      0x01, 0x78,                   // 28: "x"
      ...f64(1.5),                  // 30: 1.5
    ];
    expect(json(doc)).toBe('[null, -1, "x", 1.5]');
  });

  test("64-bit integers by offset", () => {
    // prettier-ignore
    const doc = [
      0x02, 0x02, 0x00, 0x1a, 0x00,   // small array, count 2, size 26
      0x0a, 0x0a, 0x00,               // uint64 at 10
      0x09, 0x12, 0x00,               // int64 at 18
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
    ];
    expect(json(doc)).toBe("[18446744073709551615, -9223372036854775808]");
    // Same entries with size 22: the int64 at 18 would run past the container.
    const short = [...doc.slice(0, 3), 0x16, ...doc.slice(4, 23)];
    expect(codeOf(short)).toBe("BINLOG_BAD_VALUE");
  });

  test("empty object and array", () => {
    expect(json([0x00, 0x00, 0x00, 0x04, 0x00])).toBe("{}");
    expect(json([0x02, 0x00, 0x00, 0x04, 0x00])).toBe("[]");
    expect(json([0x03, 0, 0, 0, 0, 0x08, 0, 0, 0])).toBe("[]");
  });

  test("deep nesting", () => {
    expect(json(nestedArrays(200))).toBe(`${"[".repeat(201)}${"]".repeat(201)}`);
  });
});

/** n small arrays each holding the next, innermost holding an empty array. */
function nestedArrays(n: number): number[] {
  let inner = [0x00, 0x00, 0x04, 0x00]; // count 0, size 4
  for (let i = 0; i < n; i++) {
    const size = 7 + inner.length; // count, size, one entry (type + offset), child
    inner = [0x01, 0x00, size & 0xff, size >> 8, 0x02, 0x07, 0x00, ...inner];
  }
  return [0x02, ...inner];
}

describe("opaque values (custom-type data-length bytes)", () => {
  test("DECIMAL: precision, scale, decimal2bin", () => {
    // DECIMAL(4,2) 12.34: 1-byte integer group 12 | 0x80, 1-byte fraction group 34
    expect(json([0x0f, 0xf6, 0x04, 0x04, 0x02, 0x8c, 0x22])).toBe("12.34");
    // DECIMAL(3,2) -1.50: 01 32 → XOR ff → fe cd → first ^ 0x80 → 7e cd
    expect(json([0x0f, 0xf6, 0x04, 0x03, 0x02, 0x7e, 0xcd])).toBe("-1.50");
  });
  test("DECIMAL inside an object", () => {
    // prettier-ignore
    const doc = [
      0x00, 0x01, 0x00, 0x12, 0x00,  // small object, count 1, size 18
      0x0b, 0x00, 0x01, 0x00,        // key at 11, length 1
      0x0f, 0x0c, 0x00,              // opaque at 12
      0x64,                          // "d"
      0xf6, 0x04, 0x04, 0x02, 0x8c, 0x22, // NEWDECIMAL, 4 bytes: DECIMAL(4,2) 12.34
    ];
    expect(json(doc)).toBe('{"d": 12.34}');
  });
  // Packed datetime, 8 bytes LE: (((year*13+month) << 5 | day) << 17 | h << 12 | m << 6 | s) << 24 | µs
  test("DATETIME / TIMESTAMP / DATE", () => {
    // 2024-01-02 03:04:05.000006
    const dt = [0x06, 0x00, 0x00, 0x05, 0x31, 0x44, 0xb2, 0x19];
    expect(json([0x0f, 0x0c, 0x08, ...dt])).toBe('"2024-01-02 03:04:05.000006"');
    // 2038-01-19 03:14:07.123
    const ts = [0x78, 0xe0, 0x01, 0x87, 0x33, 0xe6, 0xdf, 0x19];
    expect(json([0x0f, 0x07, 0x08, ...ts])).toBe('"2038-01-19 03:14:07.123000"');
    // 2024-01-02, time part zero
    const d = [0x00, 0x00, 0x00, 0x00, 0x00, 0x44, 0xb2, 0x19];
    expect(json([0x0f, 0x0a, 0x08, ...d])).toBe('"2024-01-02"');
  });
  test("TIME: signed packed time", () => {
    // -((12<<12 | 34<<6 | 56) << 24 + 500000), 64-bit two's complement LE
    const t = [0xe0, 0x5e, 0xf8, 0x47, 0x37, 0xff, 0xff, 0xff];
    expect(json([0x0f, 0x0b, 0x08, ...t])).toBe('"-12:34:56.500000"');
  });
  test("other field types print as base64:type<N>:", () => {
    expect(json([0x0f, 0x0f, 0x02, 0xca, 0xfe])).toBe('"base64:type15:yv4="');
    expect(json([0x0f, 0xfc, 0x00])).toBe('"base64:type252:"');
  });
  test("bad opaque lengths", () => {
    expect(codeOf([0x0f, 0x0c, 0x07, 0, 0, 0, 0, 0, 0, 0])).toBe("BINLOG_BAD_VALUE");
    // DECIMAL(4,2) needs 2 bytes of digits; data-length 5 leaves one over
    expect(codeOf([0x0f, 0xf6, 0x05, 0x04, 0x02, 0x8c, 0x22, 0x00])).toBe("BINLOG_BAD_VALUE");
  });
});

describe("malformed documents → BINLOG_BAD_VALUE", () => {
  test.each<[string, number[]]>([
    ["value offset past the container", [0x02, 0x01, 0x00, 0x07, 0x00, 0x0c, 0x09, 0x00]],
    ["value offset inside the header (self reference)", [0x02, 0x01, 0x00, 0x09, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00]],
    ["container size larger than the document", [0x02, 0x00, 0x00, 0xff, 0x00]],
    ["entries do not fit the size", [0x02, 0x05, 0x00, 0x06, 0x00, 0x04, 0x00]],
    ["key offset out of bounds", [0x00, 0x01, 0x00, 0x0c, 0x00, 0x20, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x61]],
    ["unknown type", [0x0d, 0x00]],
    ["unknown literal", [0x04, 0x03]],
    ["unknown inlined literal", [0x02, 0x01, 0x00, 0x07, 0x00, 0x04, 0x05, 0x00]],
    ["string longer than the document", [0x0c, 0x05, 0x61]],
    ["invalid utf8 string", [0x0c, 0x02, 0xc3, 0x28]],
    ["data length over 32 bits", [0x0c, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
    ["NaN double", [0x0b, ...f64(Number.NaN)]],
    // string at 7, length 3: inside the document but past the container's 9 bytes
    ["nested value past its container", [0x02, 0x01, 0x00, 0x09, 0x00, 0x0c, 0x07, 0x00, 0x03, 0x61, 0x62, 0x63, 0x63]],
    ["truncated container header", [0x03, 0x01, 0x00]],
  ])("%s", (_name, bytes) => {
    expect(codeOf(bytes)).toBe("BINLOG_BAD_VALUE");
  });

  test("nesting beyond 1000 levels", () => {
    expect(json(nestedArrays(999))).toBe(`${"[".repeat(1000)}${"]".repeat(1000)}`);
    expect(codeOf(nestedArrays(1000))).toBe("BINLOG_BAD_VALUE");
  });
});

describe("bounds of the enclosing event", () => {
  test("a document longer than the event is BINLOG_TRUNCATED", () => {
    expect(codeOf([0x0c, 0x01, 0x61], 10)).toBe("BINLOG_TRUNCATED");
  });
  test("consumes exactly n bytes and leaves the reader usable", () => {
    const r = new ByteReader(Uint8Array.of(0x04, 0x01, 0x99), "test");
    expect(jsonBinaryToText(r, 2)).toBe("true");
    expect(r.u8()).toBe(0x99);
  });
});
