// Collation id → character set, for decoding CHAR/VARCHAR/TEXT cells.
//
// Source of the ids: MySQL's INFORMATION_SCHEMA.COLLATIONS (`SHOW COLLATION`, 5.7 and 8.0)
// and MariaDB's (10.x/11.x), which agree on every id below 256. Ids that only one flavour
// uses are marked. The binlog (TABLE_MAP optional metadata, or the tracked schema) gives a
// collation id; the column's bytes are in that collation's character set.
//
// Decoders are WHATWG TextDecoder encodings. Two choices matter for exactness:
//  - utf8mb3/utf8mb4 decode with fatal:true, so invalid bytes raise instead of silently
//    turning into U+FFFD (a replica must not invent characters).
//  - MySQL "latin1" is really Windows-1252 (0x80 is €), with the 5 holes of cp1252 mapped to
//    the C1 controls; WHATWG "windows-1252" does exactly that, so it is the right decoder.
//    WHATWG "ascii" is also an alias of windows-1252: a superset of MySQL ascii, fine for
//    bytes MySQL accepted.
// Legacy multi-byte and single-byte sets map to their closest WHATWG encoding; MySQL's own
// tables differ from WHATWG in a handful of rarely used code points (e.g. cp932 vs Shift_JIS
// vendor extensions), which is documented here rather than hidden.

export interface Charset {
  /** MySQL character set name, for error messages. */
  readonly name: string;
  /** True for the "binary" pseudo-charset: the cell is bytes, not text. */
  readonly binary: boolean;
  /** Decodes one cell; throws TypeError on invalid input for the fatal (utf8) sets. */
  readonly decode: (bytes: Uint8Array) => string;
}

type EncodingLabel = NonNullable<ConstructorParameters<typeof TextDecoder>[0]>;

function whatwg(name: string, label: EncodingLabel, fatal = false): Charset {
  const dec = new TextDecoder(label, { fatal });
  return { name, binary: false, decode: (b) => dec.decode(b) };
}

// utf32 has no WHATWG decoder; it is fixed-width big-endian, so decoding by hand is trivial.
function decodeUtf32(b: Uint8Array): string {
  if (b.length % 4 !== 0) throw new TypeError("utf32 data length is not a multiple of 4");
  let out = "";
  for (let i = 0; i < b.length; i += 4) {
    const cp = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new TypeError(`invalid utf32 code point ${cp}`);
    out += String.fromCodePoint(cp);
  }
  return out;
}

export const UTF8MB4: Charset = whatwg("utf8mb4", "utf-8", true);
const UTF8MB3: Charset = whatwg("utf8mb3", "utf-8", true);
const LATIN1: Charset = whatwg("latin1", "windows-1252");
const ASCII: Charset = whatwg("ascii", "windows-1252");
export const BINARY: Charset = {
  name: "binary",
  binary: true,
  decode: () => {
    throw new TypeError("binary charset has no text form");
  },
};
// ucs2 is UCS-2 big-endian, a subset of UTF-16BE; MySQL "utf16" is big-endian too.
const UCS2: Charset = whatwg("ucs2", "utf-16be", true);
const UTF16: Charset = whatwg("utf16", "utf-16be", true);
const UTF16LE: Charset = whatwg("utf16le", "utf-16le", true);
const UTF32: Charset = { name: "utf32", binary: false, decode: decodeUtf32 };

// Index = collation id. Sparse, built once; lookups are one array read in the hot path.
const BY_ID: (Charset | undefined)[] = [];

function put(cs: Charset, ...ids: (number | [number, number])[]): void {
  for (const id of ids) {
    if (typeof id === "number") BY_ID[id] = cs;
    else for (let i = id[0]; i <= id[1]; i++) BY_ID[i] = cs;
  }
}

// utf8mb4: general_ci, bin, the 4.0.0 UCA tailorings, and MySQL 8.0's 0900 (UCA 9.0.0) set:
// 255 utf8mb4_0900_ai_ci … 309 utf8mb4_0900_bin; 8.0.30 added more tailorings after 309,
// all utf8mb4. MariaDB: 608-610 (croatian_mysql561, myanmar, thai_520_w2).
put(UTF8MB4, 45, 46, [224, 247], [255, 323], [608, 610]);
// utf8mb3 ("utf8" before 8.0.30): general_ci, bin, UCA tailorings, general_mysql500_ci;
// 76 is MySQL 8.0's utf8mb3_tolower_ci; MariaDB: 576-578.
put(UTF8MB3, 33, 83, [192, 215], 223, 76, [576, 578]);
put(LATIN1, 5, 8, 15, 31, 47, 48, 49, 94);
put(ASCII, 11, 65);
put(BINARY, 63);
put(UCS2, 35, 90, [128, 151], 159, [640, 642]);
put(UTF16, 54, 55, [101, 124], [672, 674]);
put(UTF16LE, 56, 62);
put(UTF32, 60, 61, [160, 183], [736, 738]);

// Legacy sets, closest WHATWG encoding.
put(whatwg("latin2", "iso-8859-2"), 2, 9, 21, 27, 77);
put(whatwg("cp1250", "windows-1250"), 26, 34, 44, 66, 99);
put(whatwg("cp1251", "windows-1251"), 14, 23, 50, 51, 52);
put(whatwg("cp1256", "windows-1256"), 57, 67);
put(whatwg("cp1257", "windows-1257"), 29, 58, 59);
put(whatwg("greek", "iso-8859-7"), 25, 70);
put(whatwg("hebrew", "iso-8859-8"), 16, 71);
put(whatwg("latin5", "iso-8859-9"), 30, 78);
put(whatwg("latin7", "iso-8859-13"), 20, 41, 42, 79);
put(whatwg("koi8r", "koi8-r"), 7, 74);
put(whatwg("koi8u", "koi8-u"), 22, 75);
put(whatwg("cp866", "ibm866"), 36, 68);
put(whatwg("macroman", "macintosh"), 39, 53);
put(whatwg("tis620", "windows-874"), 18, 89);
put(whatwg("big5", "big5"), 1, 84);
put(whatwg("gbk", "gbk"), 28, 87);
put(whatwg("gb2312", "gbk"), 24, 86);
put(whatwg("gb18030", "gb18030"), 248, 249, 250);
put(whatwg("sjis", "shift_jis"), 13, 88);
put(whatwg("cp932", "shift_jis"), 95, 96);
put(whatwg("ujis", "euc-jp"), 12, 91);
put(whatwg("eucjpms", "euc-jp"), 97, 98);
put(whatwg("euckr", "euc-kr"), 19, 85);

// MariaDB NO PAD collations are numbered base id + 1024 (MY_NOPAD_ID), e.g. 1032
// latin1_swedish_nopad_ci, 1069 utf8mb4_general_nopad_ci, 1070 utf8mb4_nopad_bin.
for (let id = 0; id < 1024; id++) {
  const cs = BY_ID[id];
  if (cs !== undefined && !cs.binary && BY_ID[id + 1024] === undefined) BY_ID[id + 1024] = cs;
}
// MariaDB 10.10+ UCA 14.0.0 collations: 2048 + (charset << 8) + tailoring/flags, charset
// 0 utf8mb3, 1 utf8mb4 (2304 = utf8mb4_uca1400_ai_ci), 2 ucs2, 3 utf16, 4 utf32.
put(UTF8MB3, [2048, 2303]);
put(UTF8MB4, [2304, 2559]);
put(UCS2, [2560, 2815]);
put(UTF16, [2816, 3071]);
put(UTF32, [3072, 3327]);

/** The character set of a collation id, or undefined when the id is not known here. */
export function charsetOf(collation: number): Charset | undefined {
  return BY_ID[collation];
}

/** The character set named as the schema history names it ("latin1", "utf8mb4"; "utf8" is utf8mb3), or undefined when no collation id here has it. */
export function charsetNamed(name: string): Charset | undefined {
  const n = name.toLowerCase() === "utf8" ? "utf8mb3" : name.toLowerCase();
  return BY_ID.find((cs) => cs?.name === n);
}
