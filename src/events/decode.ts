// Reader side of encode.ts: log record bytes back to typed messages, with every column value
// back in the binlog layer's exact form (src/binlog/types.ts). Schemas come from SchemaRecords
// met in the log, or from `register` (a sink restarting mid-log restores the ones it stored).

import type avro from "avsc";
import { ReplicateError } from "../errors.ts";
import type { BinlogValue } from "../binlog/types.ts";
import type { LogRecord } from "../log-contract.ts";
import { fingerprintHex } from "./fingerprint.ts";
import { BUILTIN_SCHEMAS, type HistoryRun } from "./encode.ts";
import { compile, LEGACY_BUILTIN, type BuiltinKind, type CompiledSchema } from "./schemas.ts";
import { fromAvro, type AvroValue, type Descriptor } from "./values.ts";

/** A table as the log's schema records describe it (not the source's full definition, binlog/ddl-apply.ts TableDef). */
export interface LoggedTable {
  database: string;
  table: string;
  names: string[];
  descriptors: Descriptor[];
  /** Primary key column names; empty for a table without one. */
  key: string[];
  /** Fingerprint of the envelope schema: changes whenever the table's shape does. */
  version: string;
}

export interface BeginMessage {
  kind: "begin";
  gtid: string | null;
  flavour: string;
  serverId: number;
  file: string;
  pos: number;
  tsMs: number;
  lastCommitted: number | null;
  sequenceNumber: number | null;
  commitId: bigint | null;
  /** False when the transaction's first rows were written with FOREIGN_KEY_CHECKS=0. */
  foreignKeyChecks: boolean;
}
export interface ChangeMessage {
  kind: "change";
  table: LoggedTable;
  op: "c" | "u" | "d";
  before: BinlogValue[] | null;
  after: BinlogValue[] | null;
  gtid: string | null;
}
export interface DdlMessage {
  kind: "ddl";
  gtid: string | null;
  database: string;
  statement: string;
  sqlMode: bigint | null;
  /** The source's lower_case_table_names ≠ 0: parse names in the statement in lower case. */
  lowerCaseNames: boolean;
  /** The session's FOREIGN_KEY_CHECKS when it ran the statement (true in records written before it was logged). */
  foreignKeyChecks: boolean;
  file: string;
  pos: number;
  tsMs: number;
}
export interface EndMessage {
  kind: "end";
  gtid: string | null;
  file: string;
  pos: number;
  tsMs: number;
  eventCount: number;
  historyOffset: bigint | null;
  /** False when rows of the transaction were written with FOREIGN_KEY_CHECKS=0. */
  foreignKeyChecks: boolean;
}
export interface AbortMessage {
  kind: "abort";
  gtid: string | null;
  reason: string;
}
export interface PositionMessage {
  kind: "position";
  gtid: string | null;
  file: string;
  pos: number;
  historyOffset: bigint | null;
}
export interface HistoryMessage {
  kind: "history";
  /** A part of the history (format 2), or the whole history in one (format 1, chain null). */
  json: string;
  /** Every part of the history as of this record, this one last; null in the earlier layout. */
  chain: HistoryRun[] | null;
}
export interface SchemaMessage {
  kind: "schema";
  fingerprint: string;
  schema: string;
}

export type LogMessage = BeginMessage | ChangeMessage | DdlMessage | EndMessage | AbortMessage | SchemaMessage | HistoryMessage | PositionMessage;

interface TableEntry {
  compiled: CompiledSchema;
  /** Reads only what the sink uses (before, after, op, transaction): AVRO schema resolution
   *  skips the source block without building objects for it. */
  reader: avro.Type;
  resolver: avro.Resolver;
  def: LoggedTable;
}

interface EnvelopeJson {
  gs?: { db: string; table: string; key: string[] };
  fields: Array<{ name: string; type: unknown }>;
}

/** Built-in record layouts by fingerprint, the current ones and those earlier versions wrote. */
const builtinByFp = new Map<bigint, { kind: BuiltinKind; schema: CompiledSchema }>([
  ...Object.entries(BUILTIN_SCHEMAS).map(([k, s]) => [s.fingerprint, { kind: k as BuiltinKind, schema: s }] as const),
  ...LEGACY_BUILTIN.map((l) => {
    const schema = compile(l.schema);
    return [schema.fingerprint, { kind: l.kind, schema }] as const;
  }),
]);

export class LogDecoder {
  private readonly tables = new Map<bigint, TableEntry>();
  /** Key schemas and other non-envelope schemas: decodable, but not change events. */
  private readonly others = new Set<bigint>();

  /** Registers a schema's JSON text (as found in a SchemaRecord). */
  register(schemaText: string): void {
    const json = JSON.parse(schemaText) as EnvelopeJson;
    const compiled = compile(json);
    if (!json.gs) {
      this.others.add(compiled.fingerprint);
      return;
    }
    const valueRecord = (json.fields[0]!.type as unknown[])[1] as { fields: Array<{ name: string; gs: Descriptor }> };
    const reader = compile({ ...json, fields: json.fields.filter((f) => f.name !== "source" && f.name !== "ts_ms") }).type;
    this.tables.set(compiled.fingerprint, {
      compiled,
      reader,
      resolver: reader.createResolver(compiled.type),
      def: {
        database: json.gs.db,
        table: json.gs.table,
        names: valueRecord.fields.map((f) => f.name),
        descriptors: valueRecord.fields.map((f) => f.gs),
        key: json.gs.key,
        version: fingerprintHex(compiled.fingerprint),
      },
    });
  }

  decode(record: LogRecord, where = "log"): LogMessage {
    const v = record.value;
    if (v.length < 10 || v[0] !== 0xc3 || v[1] !== 0x01) {
      throw new ReplicateError("AVRO_ENCODE", "log record is not an AVRO single-object encoded message (bad magic)", { where });
    }
    const fp = Buffer.from(v.buffer, v.byteOffset + 2, 8).readBigUInt64LE(0);
    const body = Buffer.from(v.buffer, v.byteOffset + 10, v.length - 10);
    const builtin = builtinByFp.get(fp);
    if (builtin) return this.builtin(builtin.kind, builtin.schema.type.fromBuffer(body) as Record<string, unknown>);
    const table = this.tables.get(fp);
    if (!table) {
      throw new ReplicateError("AVRO_ENCODE", `record written with schema ${fingerprintHex(fp)}, which was never published before it: the log was cut or written by another tool`, {
        where,
      });
    }
    const env = table.reader.fromBuffer(body, table.resolver) as {
      before: Record<string, AvroValue> | null;
      after: Record<string, AvroValue> | null;
      op: "c" | "u" | "d";
      transaction: { id: string | null } | null;
    };
    const def = table.def;
    return {
      kind: "change",
      table: def,
      op: env.op,
      before: env.before ? image(def, env.before) : null,
      after: env.after ? image(def, env.after) : null,
      gtid: env.transaction?.id ?? null,
    };
  }

  private builtin(kind: BuiltinKind, r: Record<string, unknown>): LogMessage {
    const n = (x: unknown) => (x === null ? null : Number(x as bigint));
    switch (kind) {
      case "schema": {
        this.register(r.schema as string);
        return { kind: "schema", fingerprint: r.fingerprint as string, schema: r.schema as string };
      }
      case "begin":
        return {
          kind: "begin",
          gtid: r.gtid as string | null,
          flavour: r.flavour as string,
          serverId: Number(r.server_id),
          file: r.file as string,
          pos: Number(r.pos),
          tsMs: Number(r.ts_ms),
          lastCommitted: n(r.last_committed),
          sequenceNumber: n(r.sequence_number),
          commitId: r.commit_id as bigint | null,
          foreignKeyChecks: r.foreign_key_checks !== false,
        };
      case "end":
        return {
          kind: "end",
          gtid: r.gtid as string | null,
          file: r.file as string,
          pos: Number(r.pos),
          tsMs: Number(r.ts_ms),
          eventCount: Number(r.event_count),
          historyOffset: r.history_offset as bigint | null,
          foreignKeyChecks: r.foreign_key_checks !== false,
        };
      case "history":
        return { kind: "history", json: r.json as string, chain: (r.chain as HistoryRun[] | undefined) ?? null };
      case "position":
        return {
          kind: "position",
          gtid: r.gtid as string | null,
          file: r.file as string,
          pos: Number(r.pos),
          historyOffset: r.history_offset as bigint | null,
        };
      case "abort":
        return { kind: "abort", gtid: r.gtid as string | null, reason: r.reason as string };
      case "ddl":
        return {
          kind: "ddl",
          gtid: r.gtid as string | null,
          database: r.database as string,
          statement: r.statement as string,
          sqlMode: r.sql_mode as bigint | null,
          lowerCaseNames: r.lower_case_names === true,
          foreignKeyChecks: r.foreign_key_checks !== false,
          file: r.file as string,
          pos: Number(r.pos),
          tsMs: Number(r.ts_ms),
        };
    }
  }
}

function image(def: LoggedTable, rec: Record<string, AvroValue>): BinlogValue[] {
  const out = new Array<BinlogValue>(def.names.length);
  for (let i = 0; i < def.names.length; i++) out[i] = fromAvro(def.descriptors[i]!, rec[def.names[i]!] ?? null);
  return out;
}

/**
 * The built-in kind of a record (begin, end, abort, ddl, schema), or "change" for a table
 * envelope — without needing its schema. `source` uses it to read its log's tail on restart.
 */
export function recordKind(record: LogRecord): BuiltinKind | "change" | "unknown" {
  const v = record.value;
  if (v.length < 10 || v[0] !== 0xc3 || v[1] !== 0x01) return "unknown";
  const fp = Buffer.from(v.buffer, v.byteOffset + 2, 8).readBigUInt64LE(0);
  return builtinByFp.get(fp)?.kind ?? "change";
}

/** Decodes a built-in record (not a change) without any registered schema. */
export function decodeBuiltin(record: LogRecord): LogMessage {
  return new LogDecoder().decode(record);
}
