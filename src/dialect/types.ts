// MySQL/MariaDB column types → target column types: ONE table (TYPE_TABLE), read by the DDL
// translator (mapType) and rendered into docs/types.md (renderTypeTable; a test keeps
// the two identical). This file is longer than most because it is that one table.
//
// Principles:
//   - Never narrower than the source: every value MySQL can store fits, so replication never
//     fails on range (TINYINT → smallint, INT UNSIGNED → bigint, BIGINT UNSIGNED → numeric(20,0)).
//     Unsigned ranges are enforced by the source while it writes; the target types are wider.
//   - Types are written in PostgreSQL's canonical spelling (what format_type() prints), so a
//     translated column and one read back from the target catalog compare as plain strings.
//   - The sink sends every value as a parameter (src/dialect/values.ts toParam): numbers as
//     numbers or exact decimal strings, temporals as text (TIMESTAMP with "+00": it is UTC in
//     the log), TIME as "[-]HHH:MM:SS[.f]" (interval input), BIT as a bit string, JSON as text.
//     MySQL zero and invalid dates ('0000-00-00') have no target value: [sink] zero_date decides
//     (error, or NULL), see values.ts.
//   - "opengauss" is a database in compatibility PG or B (mode A stores '' as NULL and is
//     refused, src/dialect/compat.ts; mode C is accepted). Modes A and C count CHAR/VARCHAR
//     lengths in BYTES, so VARCHAR(n) becomes nvarchar2(n) (characters in every mode) and
//     CHAR(n) becomes character(4n) (room for n characters of up to 4 bytes): one mapping holds
//     every MySQL value in every accepted mode. The `dolphin` column says what a B database with
//     the dolphin plugin has natively, for a DBA who pre-creates tables there.

import type { ColumnType } from "../binlog/ddl-model.ts";

export type TargetDialect = "postgresql" | "opengauss";

/** How the translator treats a target type: defaults, casts, implicit values. */
export type TypeFamily = "int" | "numeric" | "float" | "bit" | "text" | "bytes" | "date" | "timestamp" | "timestamptz" | "interval" | "json" | "other";

export interface TypeRow {
  /** The MySQL type(s), as documented. */
  mysql: string;
  match: (t: ColumnType) => boolean;
  /** Target type templates: {n} length, {4n} four times the length, {p},{s} precision and scale,
   *  {f} fractional digits, {L} longest ENUM member / longest SET value. null: no mapping. */
  postgresql: string | null;
  opengauss: string | null;
  /** openGauss B-compatibility database with the dolphin plugin: its native type (not generated). */
  dolphin: string;
  family: TypeFamily;
  /** ENUM/SET: a CHECK constraint keeps the column to the declared members. */
  members?: "enum" | "set";
  note: string;
}

const is =
  (...names: string[]) =>
  (t: ColumnType) =>
    names.includes(t.name);
const signed = (name: string) => (t: ColumnType) => t.name === name && !t.unsigned;
const unsigned = (name: string) => (t: ColumnType) => t.name === name && t.unsigned;

export const TYPE_TABLE: readonly TypeRow[] = [
  {
    mysql: "TINYINT(1), BOOL, BOOLEAN",
    match: (t) => t.name === "tinyint" && t.length === 1 && !t.unsigned,
    postgresql: "smallint",
    opengauss: "smallint",
    dolphin: "tinyint",
    family: "int",
    note: "kept an integer: MySQL booleans are TINYINT and may hold any of -128..127 (boolean would refuse 2)",
  },
  {
    mysql: "TINYINT",
    match: signed("tinyint"),
    postgresql: "smallint",
    opengauss: "smallint",
    dolphin: "tinyint",
    family: "int",
    note: "no 1-byte signed type (openGauss core tinyint is unsigned 0..255)",
  },
  { mysql: "TINYINT UNSIGNED", match: unsigned("tinyint"), postgresql: "smallint", opengauss: "smallint", dolphin: "uint1", family: "int", note: "" },
  { mysql: "SMALLINT", match: signed("smallint"), postgresql: "smallint", opengauss: "smallint", dolphin: "smallint", family: "int", note: "" },
  { mysql: "SMALLINT UNSIGNED", match: unsigned("smallint"), postgresql: "integer", opengauss: "integer", dolphin: "uint2", family: "int", note: "widened: 0..65535" },
  { mysql: "MEDIUMINT", match: signed("mediumint"), postgresql: "integer", opengauss: "integer", dolphin: "mediumint", family: "int", note: "" },
  { mysql: "MEDIUMINT UNSIGNED", match: unsigned("mediumint"), postgresql: "integer", opengauss: "integer", dolphin: "uint4", family: "int", note: "" },
  { mysql: "INT", match: signed("int"), postgresql: "integer", opengauss: "integer", dolphin: "integer", family: "int", note: "" },
  { mysql: "INT UNSIGNED", match: unsigned("int"), postgresql: "bigint", opengauss: "bigint", dolphin: "uint4", family: "int", note: "widened: 0..4294967295" },
  { mysql: "BIGINT", match: signed("bigint"), postgresql: "bigint", opengauss: "bigint", dolphin: "bigint", family: "int", note: "" },
  {
    mysql: "BIGINT UNSIGNED, SERIAL",
    match: unsigned("bigint"),
    postgresql: "numeric(20,0)",
    opengauss: "numeric(20,0)",
    dolphin: "uint8",
    family: "numeric",
    note: "widened: 0..18446744073709551615 does not fit bigint",
  },
  {
    mysql: "DECIMAL(p,s) [UNSIGNED]",
    match: is("decimal"),
    postgresql: "numeric({p},{s})",
    opengauss: "numeric({p},{s})",
    dolphin: "numeric(p,s)",
    family: "numeric",
    note: "exact; DECIMAL without (p,s) is (10,0)",
  },
  {
    mysql: "FLOAT, FLOAT(M,D), FLOAT(p≤24)",
    match: is("float"),
    postgresql: "real",
    opengauss: "real",
    dolphin: "real",
    family: "float",
    note: "4-byte float; (M,D) rounding was done by the source before logging",
  },
  {
    mysql: "DOUBLE, REAL, FLOAT(p>24)",
    match: is("double"),
    postgresql: "double precision",
    opengauss: "double precision",
    dolphin: "double precision",
    family: "float",
    note: "",
  },
  { mysql: "BIT(n)", match: is("bit"), postgresql: "bit({n})", opengauss: "bit({n})", dolphin: "bit(n)", family: "bit", note: "sent as a bit string of exactly n digits" },
  { mysql: "YEAR", match: is("year"), postgresql: "smallint", opengauss: "smallint", dolphin: "year", family: "int", note: "the zero year is 0" },
  {
    mysql: "DATE",
    match: is("date"),
    postgresql: "date",
    opengauss: "date",
    dolphin: "date",
    family: "date",
    note: "zero/invalid dates: [sink] zero_date",
  },
  {
    mysql: "DATETIME(fsp)",
    match: is("datetime"),
    postgresql: "timestamp({f}) without time zone",
    opengauss: "timestamp({f}) without time zone",
    dolphin: "datetime(fsp)",
    family: "timestamp",
    note: "wall-clock value as written, no time zone (like DATETIME); zero dates: [sink] zero_date",
  },
  {
    mysql: "TIMESTAMP(fsp)",
    match: is("timestamp"),
    postgresql: "timestamp({f}) with time zone",
    opengauss: "timestamp({f}) with time zone",
    dolphin: "timestamp(fsp)",
    family: "timestamptz",
    note: "an instant: the log carries TIMESTAMP in UTC and the sink sends it with +00; reads show it in the session time zone",
  },
  {
    mysql: "TIME(fsp)",
    match: is("time"),
    postgresql: "interval({f})",
    opengauss: "interval({f})",
    dolphin: "time(fsp)",
    family: "interval",
    note: "a signed duration: MySQL TIME spans -838:59:59..838:59:59, which time of day cannot hold",
  },
  {
    mysql: "CHAR(n)",
    match: is("char"),
    postgresql: "character({n})",
    opengauss: "character({4n})",
    dolphin: "char(n)",
    family: "text",
    note: "n counts characters on PostgreSQL; openGauss modes A and C count bytes, so 4n bytes hold any n characters (the n-character limit is then the source's); CHAR(0) becomes length 1",
  },
  {
    mysql: "VARCHAR(n)",
    match: is("varchar"),
    postgresql: "character varying({n})",
    opengauss: "nvarchar2({n})",
    dolphin: "varchar(n)",
    family: "text",
    note: "n counts characters (openGauss: nvarchar2 counts characters in every mode, varchar counts bytes in A and C); VARCHAR(0) becomes length 1",
  },
  {
    mysql: "TINYTEXT, TEXT, MEDIUMTEXT, LONGTEXT",
    match: is("tinytext", "text", "mediumtext", "longtext"),
    postgresql: "text",
    opengauss: "text",
    dolphin: "tinytext … longtext",
    family: "text",
    note: 'up to 1 GB on the target (see "Large values" below)',
  },
  {
    mysql: "BINARY(n), VARBINARY(n)",
    match: is("binary", "varbinary"),
    postgresql: "bytea",
    opengauss: "bytea",
    dolphin: "binary(n), varbinary(n)",
    family: "bytes",
    note: "the bytes as logged (BINARY pads with 0x00 to n)",
  },
  {
    mysql: "TINYBLOB, BLOB, MEDIUMBLOB, LONGBLOB",
    match: is("tinyblob", "blob", "mediumblob", "longblob"),
    postgresql: "bytea",
    opengauss: "bytea",
    dolphin: "tinyblob … longblob",
    family: "bytes",
    note: 'up to 1 GB on the target (see "Large values" below)',
  },
  {
    mysql: "ENUM('a',…)",
    match: is("enum"),
    postgresql: "character varying({L}) + CHECK",
    opengauss: "nvarchar2({L}) + CHECK",
    dolphin: "enum('a',…)",
    family: "text",
    members: "enum",
    note: "CHECK (c IN (members…, '')): '' is MySQL's value for an invalid member outside strict mode; sorts by text, not by member index",
  },
  {
    mysql: "SET('a',…)",
    match: is("set"),
    postgresql: "character varying({L}) + CHECK",
    opengauss: "nvarchar2({L}) + CHECK",
    dolphin: "set('a',…)",
    family: "text",
    members: "set",
    note: "the comma-separated text MySQL returns, L = all members and commas; CHECK: every element is a member",
  },
  {
    mysql: "JSON",
    match: is("json"),
    postgresql: "jsonb",
    opengauss: "jsonb",
    dolphin: "json",
    family: "json",
    note: "the sink sends JSON text; jsonb rather than json (which keeps the text exactly) for equality and indexes, and it normalises like MySQL's own JSON; MariaDB's JSON is text, whose spacing, key order and duplicate keys are not kept; a string holding \\u0000 is refused; MariaDB's JSON as SHOW CREATE TABLE and mariadb-dump write it (``LONGTEXT … CHECK (json_valid(`c`))``, an unnamed check of that column) in a `CREATE TABLE`, or in an `ALTER TABLE` that adds, modifies or changes the column, is JSON too, its check not recorded",
  },
  {
    mysql: "GEOMETRY, POINT, LINESTRING, POLYGON, MULTI…, GEOMETRYCOLLECTION",
    match: is("geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection"),
    postgresql: "bytea",
    opengauss: "bytea",
    dolphin: "bytea",
    family: "bytes",
    note: "MySQL's internal form: 4-byte little-endian SRID, then WKB (PostGIS is not assumed)",
  },
  {
    mysql: "UUID, INET4, INET6, VECTOR (MariaDB)",
    match: is("uuid", "inet4", "inet6", "vector"),
    postgresql: null,
    opengauss: null,
    dolphin: "—",
    family: "other",
    note: "no mapping (TARGET_DDL_INCOMPATIBLE): the binlog carries MariaDB's internal bytes for them; create the column by hand",
  },
];

export interface MappedType {
  /** The target type in canonical spelling, e.g. "character varying(20)". */
  sql: string;
  family: TypeFamily;
  members?: { kind: "enum" | "set"; values: string[] };
  row: TypeRow;
}

/** The target type of a MySQL column type; undefined when there is none (see the row's note). */
export function mapType(t: ColumnType, dialect: TargetDialect): { mapped?: MappedType; row?: TypeRow } {
  const row = TYPE_TABLE.find((r) => r.match(t));
  if (!row) return {};
  const template = row[dialect];
  if (template === null) return { row };
  // MySQL drops trailing spaces from ENUM/SET members when it stores the definition.
  const values = (t.values ?? []).map((v) => v.replace(/ +$/, ""));
  const n = Math.max(1, t.length ?? 1);
  const longest = row.members === "set" ? Math.max(1, values.reduce((a, v) => a + [...v].length, 0) + values.length - 1) : Math.max(1, ...values.map((v) => [...v].length));
  const sql = template
    .replace(" + CHECK", "")
    .replace("{4n}", String(4 * n))
    .replace("{n}", String(n))
    .replace("{p}", String(t.precision ?? 10))
    .replace("{s}", String(t.scale ?? 0))
    .replace("{f}", String(t.fsp ?? 0))
    .replace("{L}", String(longest));
  const mapped: MappedType = { sql, family: row.family, row };
  if (row.members) mapped.members = { kind: row.members, values };
  return { mapped, row };
}

/** The family of a target type in canonical spelling (as format_type prints it). */
export function familyOf(sql: string): TypeFamily {
  const base = sql.replace(/\(.*$/, "").replace(/\[\]$/, "").trim();
  if (/^(smallint|integer|bigint)$/.test(base)) return "int";
  if (base === "numeric") return "numeric";
  if (base === "real" || base === "double precision") return "float";
  if (/^bit( varying)?$/.test(base)) return "bit";
  if (/^(character varying|character|text|nvarchar2|varchar|char|bpchar)$/.test(base)) return "text";
  if (base === "bytea") return "bytes";
  if (base === "date") return "date";
  if (/^timestamp.*with time zone$/.test(sql) || base === "timestamptz") return "timestamptz";
  if (/^timestamp/.test(sql)) return "timestamp";
  if (base === "interval") return "interval";
  if (base === "json" || base === "jsonb") return "json";
  return "other";
}

/** docs/types.md: the table above as Markdown. */
export function renderTypeTable(): string {
  const show = (s: string | null) =>
    s === null
      ? "refused"
      : `\`${s
          .replace(/\{4n\}/g, "4n")
          .replace(/\{f\}/g, "fsp")
          .replace(/\{(\w+)\}/g, "$1")}\``.replace(" + CHECK`", "` + CHECK");
  const lines = [
    "| MySQL / MariaDB | PostgreSQL | openGauss | openGauss B + dolphin (native) | notes |",
    "| --- | --- | --- | --- | --- |",
    ...TYPE_TABLE.map((r) => `| ${r.mysql} | ${show(r.postgresql)} | ${show(r.opengauss)} | ${r.dolphin === "—" ? "—" : `\`${r.dolphin}\``} | ${r.note.replace(/\|/g, "\\|")} |`),
  ];
  return lines.join("\n");
}
