// AVRO schemas of everything that travels in the log.
//
// Per table (Debezium naming): <server>.<db>.<table>.Key, .Value, .Envelope. The Envelope is
// { before, after, source, op, ts_ms, transaction } as Debezium's MySQL connector writes it,
// plus an attribute "gs" { db, table, key } so a consumer knows the primary key by name.
// Built-in records (namespace io.gsreplicate): SchemaRecord, Begin, End, Abort, Ddl, Position,
// SchemaHistory.
//
// Fingerprints: CRC-64-AVRO of the schema's full JSON text as published, not of its Parsing
// Canonical Form: the canonical form drops logical-type attributes (decimal scale, fraction
// digits), so DECIMAL(10,2) and DECIMAL(10,3) would share a fingerprint and read back wrong.

import avro from "avsc";
import { ReplicateError } from "../errors.ts";
import { AVRO_NAME } from "../config/schema.ts";
import type { TableInfo } from "../binlog/types.ts";
import { fingerprintBytes, rabinFingerprint } from "./fingerprint.ts";
import { describeColumn, fieldType, type AvroSchema, type Descriptor } from "./values.ts";

const NS = "io.gsreplicate";

/** Throws AVRO_NAME naming the identifier (the openGauss tool's documented rule). */
function checkAvroName(name: string, what: string): void {
  if (!AVRO_NAME.test(name)) {
    throw new ReplicateError(
      "AVRO_NAME",
      `${what} "${name}" breaks the AVRO naming rule [A-Za-z_][A-Za-z0-9_]*: rename it on the source (or leave it out of [source] databases) before migrating`,
      { where: what },
    );
  }
}

const optional = (t: AvroSchema) => ["null", t];

const SOURCE_RECORD = {
  type: "record",
  name: `${NS}.Source`,
  fields: [
    { name: "version", type: "string" },
    { name: "connector", type: "string" },
    { name: "name", type: "string" },
    { name: "ts_ms", type: "long" },
    { name: "db", type: "string" },
    { name: "table", type: "string" },
    { name: "server_id", type: "long" },
    { name: "gtid", type: optional("string") },
    { name: "file", type: "string" },
    { name: "pos", type: "long" },
    { name: "row", type: "int" },
    { name: "last_committed", type: optional("long") },
    { name: "sequence_number", type: optional("long") },
    { name: "commit_id", type: optional("long") },
  ],
};

const TRANSACTION_RECORD = {
  type: "record",
  name: `${NS}.Transaction`,
  fields: [
    { name: "id", type: optional("string") },
    { name: "total_order", type: "long" },
    { name: "data_collection_order", type: "long" },
  ],
};

/** The DDL record as the first release wrote it (its JSON, hence its fingerprint, must not change). */
const DDL_V1 = {
  type: "record",
  name: `${NS}.Ddl`,
  fields: [
    { name: "gtid", type: optional("string") },
    { name: "database", type: "string" },
    { name: "statement", type: "string" },
    { name: "sql_mode", type: optional("long") },
    { name: "file", type: "string" },
    { name: "pos", type: "long" },
    { name: "ts_ms", type: "long" },
  ],
} as const;

/** The schema history record as versions before history parts wrote it: one whole history. */
const HISTORY_V1 = {
  type: "record",
  name: `${NS}.SchemaHistory`,
  fields: [{ name: "json", type: "string" }],
} as const;

/** The DDL record with lower_case_names, as the second layout wrote it (fingerprint 0x219e98aad72e8343). */
const DDL_V2 = {
  ...DDL_V1,
  // The source's lower_case_table_names ≠ 0 (names in the statement are case-insensitive).
  fields: [...DDL_V1.fields, { name: "lower_case_names", type: "boolean", default: false }],
} as const;

/** The Begin record before foreign_key_checks (its JSON, hence its fingerprint, must not change). */
const BEGIN_V1 = {
  type: "record",
  name: `${NS}.Begin`,
  fields: [
    { name: "gtid", type: optional("string") },
    { name: "flavour", type: "string" },
    { name: "server_id", type: "long" },
    { name: "file", type: "string" },
    { name: "pos", type: "long" },
    { name: "ts_ms", type: "long" },
    { name: "last_committed", type: optional("long") },
    { name: "sequence_number", type: optional("long") },
    { name: "commit_id", type: optional("long") },
  ],
} as const;

/** The End record before foreign_key_checks (its JSON, hence its fingerprint, must not change). */
const END_V1 = {
  type: "record",
  name: `${NS}.End`,
  fields: [
    { name: "gtid", type: optional("string") },
    { name: "file", type: "string" },
    { name: "pos", type: "long" },
    { name: "ts_ms", type: "long" },
    { name: "event_count", type: "long" },
    // Log offset of the SchemaHistory record in effect after this transaction (sources that
    // do not log column names): a restarted source reloads the schema from there.
    { name: "history_offset", type: optional("long"), default: null },
    {
      name: "data_collections",
      type: {
        type: "array",
        items: {
          type: "record",
          name: `${NS}.DataCollection`,
          fields: [
            { name: "data_collection", type: "string" },
            { name: "event_count", type: "long" },
          ],
        },
      },
    },
  ],
} as const;

export const BUILTIN = {
  schema: {
    type: "record",
    name: `${NS}.SchemaRecord`,
    fields: [
      { name: "fingerprint", type: "string" },
      { name: "schema", type: "string" },
    ],
  },
  begin: {
    ...BEGIN_V1,
    // Added later: false when the transaction's first rows were written with
    // FOREIGN_KEY_CHECKS=0 (the End says it for all of them): a transaction the sink streams
    // (too large to hold) must know before its first chunk. Earlier layouts read as true.
    fields: [...BEGIN_V1.fields, { name: "foreign_key_checks", type: "boolean", default: true }],
  },
  end: {
    ...END_V1,
    // Added later: false when a rows event of the transaction was written with
    // FOREIGN_KEY_CHECKS=0 (a dump's data, an admin's fix): the sink then applies it without
    // the target's foreign keys, as MySQL did (src/sink/unchecked.ts). Earlier layouts read as true.
    fields: [...END_V1.fields, { name: "foreign_key_checks", type: "boolean", default: true }],
  },
  position: {
    type: "record",
    name: `${NS}.Position`,
    doc: "where the source stands after transactions it did not publish (filtered out); a restart continues from the last End or Position",
    fields: [
      { name: "gtid", type: optional("string") },
      { name: "file", type: "string" },
      { name: "pos", type: "long" },
      { name: "history_offset", type: optional("long"), default: null },
    ],
  },
  history: {
    ...HISTORY_V1,
    doc: "one part of the schema history (src/events/history.ts); chain lists every part of the history as of this one, this one last",
    fields: [
      ...HISTORY_V1.fields,
      {
        name: "chain",
        type: {
          type: "array",
          items: {
            type: "record",
            name: `${NS}.HistoryRun`,
            fields: [
              { name: "first", type: "long" },
              { name: "count", type: "int" },
            ],
          },
        },
      },
    ],
  },
  abort: {
    type: "record",
    name: `${NS}.Abort`,
    fields: [
      { name: "gtid", type: optional("string") },
      { name: "reason", type: "string" },
    ],
  },
  ddl: {
    ...DDL_V2,
    // Added later still: the session's FOREIGN_KEY_CHECKS (0 in schema dumps, whose foreign keys
    // may name tables created later). Records of earlier layouts read as 1 (LEGACY_BUILTIN).
    fields: [...DDL_V2.fields, { name: "foreign_key_checks", type: "boolean", default: true }],
  },
} as const;

export type BuiltinKind = keyof typeof BUILTIN;

/** Earlier layouts of built-in records, still read from logs written by earlier versions. */
export const LEGACY_BUILTIN: Array<{ kind: BuiltinKind; schema: unknown }> = [
  { kind: "ddl", schema: DDL_V1 },
  { kind: "history", schema: HISTORY_V1 },
  { kind: "ddl", schema: DDL_V2 },
  { kind: "end", schema: END_V1 },
  { kind: "begin", schema: BEGIN_V1 },
];

/** avsc with 64-bit longs as bigint: unsigned INT, BIGINT and microsecond times exceed 2^53. */
const BigLong = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64LE(n);
    return b;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === "bigint",
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

export interface CompiledSchema {
  text: string;
  fingerprint: bigint;
  type: avro.Type;
  /** C3 01 + fingerprint: the single-object header of every record with this schema. */
  header: Uint8Array;
}

export function compile(schema: unknown): CompiledSchema {
  const text = JSON.stringify(schema);
  // The registry covers "long"; the hook covers longs written as objects ({"type": "long", "logicalType": …}).
  const type = avro.Type.forSchema(schema as avro.Schema, {
    registry: { long: BigLong } as unknown as Record<string, avro.Type>,
    typeHook: (s: avro.Schema) => (typeof s === "object" && s !== null && (s as { type?: unknown }).type === "long" ? BigLong : undefined),
  });
  const fingerprint = rabinFingerprint(text);
  const header = new Uint8Array(10);
  header.set([0xc3, 0x01]);
  header.set(fingerprintBytes(fingerprint), 2);
  return { text, fingerprint, type, header };
}

export interface TableSchema {
  envelope: CompiledSchema;
  key: CompiledSchema | null;
  descriptors: Descriptor[];
  names: string[];
  primaryKey: number[];
  database: string;
  table: string;
}

export function tableSchema(server: string, t: TableInfo): TableSchema {
  const where = `${t.database}.${t.table}`;
  checkAvroName(server, "[source] server_name");
  checkAvroName(t.database, "database");
  checkAvroName(t.table, `table ${t.database}.${t.table}`);
  const descriptors: Descriptor[] = [];
  const fields = t.columns.map((c) => {
    checkAvroName(c.name, `column ${where}.${c.name}`);
    const d = describeColumn(c, `${where}.${c.name}`);
    descriptors.push(d);
    return { name: c.name, type: fieldType(d), ...(d.nullable ? { default: null } : {}), gs: d };
  });
  const base = `${server}.${t.database}.${t.table}`;
  const value = { type: "record", name: `${base}.Value`, fields };
  const keyNames = t.primaryKey.map((i) => t.columns[i]!.name);
  const envelope = {
    type: "record",
    name: `${base}.Envelope`,
    gs: { db: t.database, table: t.table, key: keyNames },
    fields: [
      { name: "before", type: ["null", value], default: null },
      { name: "after", type: ["null", `${base}.Value`], default: null },
      { name: "source", type: SOURCE_RECORD },
      { name: "op", type: "string" },
      { name: "ts_ms", type: "long" },
      { name: "transaction", type: ["null", TRANSACTION_RECORD], default: null },
    ],
  };
  const key =
    t.primaryKey.length > 0
      ? compile({
          type: "record",
          name: `${base}.Key`,
          fields: t.primaryKey.map((i) => {
            const d = { ...descriptors[i]!, nullable: false };
            return { name: t.columns[i]!.name, type: fieldType(d), gs: d };
          }),
        })
      : null;
  return {
    envelope: compile(envelope),
    key,
    descriptors,
    names: t.columns.map((c) => c.name),
    primaryKey: t.primaryKey,
    database: t.database,
    table: t.table,
  };
}
