// Column codecs in isolation: decimals and unsigned BIGINTs around every byte-width boundary
// (AVRO decimal = minimal big-endian two's complement of the unscaled value), temporal edges.
import { describe, expect, test } from "bun:test";
import { fromAvro, toAvro, type Descriptor } from "../../src/events/values.ts";

const dec = (p: number, s: number): Descriptor => ({ k: "decimal", m: "decimal", p, s, nullable: false });

describe("AVRO decimal bytes", () => {
  test("byte layout follows the AVRO spec's two's complement, big-endian, minimal length", () => {
    const hex = (v: string, s = 0) => (toAvro(dec(65, s), v, "c") as Buffer).toString("hex");
    expect(hex("0")).toBe("00");
    expect(hex("127")).toBe("7f");
    expect(hex("128")).toBe("0080");
    expect(hex("255")).toBe("00ff");
    expect(hex("-1")).toBe("ff");
    expect(hex("-128")).toBe("80");
    expect(hex("-129")).toBe("ff7f");
    expect(hex("-1.50", 2)).toBe("ff6a"); // unscaled -150
    expect(hex("9007199254740993")).toBe("20000000000001"); // 2^53 + 1, past the fast path
  });

  test("round trips at every width boundary up to 65 digits", () => {
    const values: string[] = [];
    for (let bits = 1; bits < 220; bits++) {
      const n = 1n << BigInt(bits);
      for (const v of [n - 1n, n, n + 1n, -n, -n - 1n, -n + 1n]) values.push(v.toString());
    }
    for (const v of values) {
      if (v.replace("-", "").length > 65) continue;
      expect(fromAvro(dec(65, 0), toAvro(dec(65, 0), v, "c"))).toBe(v);
    }
    for (const v of ["0.000000000000000000000000000001", "-12345678901234567890123456789012345.000000000000000000000000000001"]) {
      expect(fromAvro(dec(65, 30), toAvro(dec(65, 30), v, "c"))).toBe(v.startsWith("0.") ? v : v);
    }
    const u64: Descriptor = { k: "uint64", m: "bigint unsigned", nullable: false };
    for (const v of [0n, 1n, 255n, 9007199254740993n, 18446744073709551615n]) expect(fromAvro(u64, toAvro(u64, v, "c"))).toBe(v);
  });

  test("a value with more fraction digits than the scale is refused, not rounded", () => {
    expect(() => toAvro(dec(10, 2), "1.234", "price")).toThrow(/does not fit scale 2/);
  });
});
