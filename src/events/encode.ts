// Change events in the log: binlog stream items in, self-identifying AVRO records out
// (decode.ts reads them back). Every record value uses AVRO single-object encoding:
//   C3 01 | CRC-64-AVRO fingerprint of the writer schema, 8 bytes little-endian | AVRO binary
// A schema is published in the log itself (a SchemaRecord, whose own schema is built in)
// before the first record that uses it, so a reader needs nothing but the log.
//
// A transaction in the log: Begin, then Envelope (one per row) and Ddl records in source
// order, then End (with the event count). A transaction cut short (connection loss, crash of
// the source) is followed by an Abort record or simply by the next Begin: readers discard any
// transaction not closed by its End.

import { ReplicateError } from "../errors.ts";
import type { StreamItem, BeginItem } from "../binlog/transactions.ts";
import type { BinlogValue, TableInfo } from "../binlog/types.ts";
import type { LogRecord } from "../log-contract.ts";
import { fingerprintHex } from "./fingerprint.ts";
import { BUILTIN, compile, tableSchema, type BuiltinKind, type CompiledSchema, type TableSchema } from "./schemas.ts";
import { toAvro, type AvroValue } from "./values.ts";

const CONNECTOR_VERSION = "1";

/** Consecutive log records [first, first + count). */
export interface HistoryRun {
  first: bigint;
  count: number;
}

const builtins = Object.fromEntries(Object.entries(BUILTIN).map(([k, s]) => [k, compile(s)])) as Record<BuiltinKind, CompiledSchema>;

/** Encoding space for records that fit it; a larger one is encoded again into its own buffer. */
const scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The single-object encoding of `value`: header and AVRO body in one buffer, the body encoded
 * straight behind the header. (avsc's toBuffer, then a copy behind the header, held every
 * value twice: 100 MB more for a 100 MB BLOB.)
 */
export function singleObject(schema: CompiledSchema, value: unknown): Buffer {
  try {
    const end = schema.type.encode(value, scratch, 10);
    if (end >= 0) {
      const out = Buffer.allocUnsafe(end);
      scratch.copy(out, 10, 10, end);
      out.set(schema.header, 0);
      return out;
    }
    // encode() returns minus the bytes it lacked.
    const out = Buffer.allocUnsafe(scratch.length - end);
    schema.type.encode(value, out, 10);
    out.set(schema.header, 0);
    return out;
  } catch (cause) {
    const bad: string[] = [];
    schema.type.isValid(value, { errorHook: (path: string[], v: unknown) => bad.push(`${path.join(".")}=${typeof v === "bigint" ? `${v}n` : String(v)}`) });
    throw new ReplicateError("AVRO_ENCODE", `value does not fit its AVRO schema ${schema.type.name ?? ""}: ${bad.join(", ") || (cause as Error).message}`, { cause });
  }
}

const text = new TextEncoder();
const opCode = { insert: "c", update: "u", delete: "d" } as const;

/**
 * Source side: turns binlog stream items into log records. Stateful per stream: it opens a
 * transaction at its first change (transactions whose rows were all filtered out are not
 * written), numbers events, and publishes each schema before its first use.
 */
export class ChangeEventWriter {
  private readonly published = new Set<bigint>();
  private readonly tables = new Map<string, TableSchema>();
  private readonly byInfo = new WeakMap<TableInfo, TableSchema>();
  private begin: BeginItem | undefined;
  private written = false;
  private total = 0;
  private perTable = new Map<string, number>();
  /** A rows event of the open transaction was written with FOREIGN_KEY_CHECKS=0. */
  private uncheckedRows = false;
  /** Offset of the latest SchemaHistory record; written into every End. */
  historyOffset: bigint | null = null;

  constructor(private readonly server: string) {}

  /** Appends the records of one item to `out`. */
  write(item: StreamItem, out: LogRecord[]): void {
    switch (item.kind) {
      case "begin":
        this.begin = item;
        this.written = false;
        this.total = 0;
        this.perTable = new Map();
        this.uncheckedRows = false;
        return;
      case "rows":
        return this.rows(item, out);
      case "ddl": {
        const b = this.open(out);
        this.total++;
        out.push(
          this.builtin("ddl", b.gtid, {
            gtid: b.gtid,
            database: item.database,
            statement: item.statement,
            sql_mode: item.sqlMode ?? null,
            file: b.file,
            pos: BigInt(b.pos),
            ts_ms: BigInt(Math.trunc(b.timestampMs)),
            lower_case_names: item.lowerCaseNames === true,
            foreign_key_checks: item.noForeignKeyChecks !== true,
          }),
        );
        return;
      }
      case "commit": {
        if (this.written) {
          out.push(
            this.builtin("end", item.gtid, {
              gtid: item.gtid,
              file: item.file,
              pos: BigInt(item.pos),
              ts_ms: BigInt(Math.trunc(item.timestampMs)),
              event_count: BigInt(this.total),
              history_offset: this.historyOffset,
              foreign_key_checks: !this.uncheckedRows,
              data_collections: [...this.perTable].map(([name, n]) => ({ data_collection: name, event_count: BigInt(n) })),
            }),
          );
        }
        this.begin = undefined;
        this.written = false;
        return;
      }
      case "rollback":
        if (this.written) out.push(this.builtin("abort", this.begin?.gtid ?? null, { gtid: this.begin?.gtid ?? null, reason: item.reason }));
        this.begin = undefined;
        this.written = false;
        return;
      case "heartbeat":
        return;
    }
  }

  /** Where the source stands between transactions (see Position in schemas.ts). */
  positionRecord(file: string, pos: number, gtid: string | null): LogRecord {
    return this.builtin("position", gtid, { gtid, file, pos: BigInt(pos), history_offset: this.historyOffset });
  }

  /** One part of the schema history (src/events/history.ts), for a restarted source. */
  historyRecord(json: string, chain: readonly HistoryRun[]): LogRecord {
    return this.builtin("history", null, { json, chain });
  }

  /** A fragment of an earlier run (seen in the log's tail) is closed explicitly. */
  abortRecord(gtid: string | null, reason: string): LogRecord {
    return this.builtin("abort", gtid, { gtid, reason });
  }

  private open(out: LogRecord[]): BeginItem {
    const b = this.begin;
    if (!b) throw new ReplicateError("INTERNAL", "change outside a transaction");
    if (!this.written) {
      this.written = true;
      out.push(
        this.builtin("begin", b.gtid, {
          gtid: b.gtid,
          flavour: b.flavour,
          server_id: BigInt(b.serverId),
          file: b.file,
          pos: BigInt(b.pos),
          ts_ms: BigInt(Math.trunc(b.timestampMs)),
          last_committed: b.clock.lastCommitted === undefined ? null : BigInt(b.clock.lastCommitted),
          sequence_number: b.clock.sequenceNumber === undefined ? null : BigInt(b.clock.sequenceNumber),
          commit_id: b.clock.commitId ?? null,
          foreign_key_checks: !this.uncheckedRows,
        }),
      );
    }
    return b;
  }

  private rows(item: Extract<StreamItem, { kind: "rows" }>, out: LogRecord[]): void {
    if (item.noForeignKeyChecks) this.uncheckedRows = true;
    const b = this.open(out);
    const ts = this.schemaFor(item.table, out);
    const name = `${ts.database}.${ts.table}`;
    const source = {
      version: CONNECTOR_VERSION,
      connector: b.flavour,
      name: this.server,
      ts_ms: BigInt(Math.trunc(b.timestampMs)),
      db: ts.database,
      table: ts.table,
      server_id: BigInt(b.serverId),
      gtid: b.gtid,
      file: b.file,
      pos: BigInt(b.pos),
      row: 0,
      last_committed: b.clock.lastCommitted === undefined ? null : BigInt(b.clock.lastCommitted),
      sequence_number: b.clock.sequenceNumber === undefined ? null : BigInt(b.clock.sequenceNumber),
      commit_id: b.clock.commitId ?? null,
    };
    const now = BigInt(Date.now());
    let n = this.perTable.get(name) ?? 0;
    for (let r = 0; r < item.rows.length; r++) {
      const change = item.rows[r]!;
      this.total++;
      n++;
      const before = change.before ? this.image(ts, change.before) : null;
      const after = change.after ? this.image(ts, change.after) : null;
      const value = singleObject(ts.envelope, {
        before,
        after,
        source: { ...source, row: r },
        op: opCode[item.op],
        ts_ms: now,
        transaction: { id: b.gtid, total_order: BigInt(this.total), data_collection_order: BigInt(n) },
      });
      out.push({ key: this.key(ts, change.after ?? change.before!), value });
    }
    this.perTable.set(name, n);
  }

  private image(ts: TableSchema, img: readonly (BinlogValue | undefined)[]): Record<string, AvroValue> {
    const rec: Record<string, AvroValue> = {};
    const names = ts.names;
    for (let i = 0; i < names.length; i++) rec[names[i]!] = toAvro(ts.descriptors[i]!, img[i], names[i]!);
    return rec;
  }

  private key(ts: TableSchema, img: readonly (BinlogValue | undefined)[]): Uint8Array | null {
    if (!ts.key) return null;
    const rec: Record<string, AvroValue> = {};
    for (const i of ts.primaryKey) rec[ts.names[i]!] = toAvro({ ...ts.descriptors[i]!, nullable: false }, img[i], ts.names[i]!);
    return singleObject(ts.key, rec);
  }

  private schemaFor(t: TableInfo, out: LogRecord[]): TableSchema {
    let ts = this.byInfo.get(t);
    if (!ts) {
      const sig = signature(t);
      ts = this.tables.get(sig);
      if (!ts) {
        ts = tableSchema(this.server, t);
        this.tables.set(sig, ts);
      }
      this.byInfo.set(t, ts);
    }
    for (const s of ts.key ? [ts.envelope, ts.key] : [ts.envelope]) {
      if (!this.published.has(s.fingerprint)) {
        out.push({
          key: text.encode(`schema:${fingerprintHex(s.fingerprint)}`),
          value: singleObject(builtins.schema, { fingerprint: fingerprintHex(s.fingerprint), schema: s.text }),
        });
        this.published.add(s.fingerprint);
      }
    }
    return ts;
  }

  private builtin(kind: BuiltinKind, gtid: string | null, value: unknown): LogRecord {
    return { key: gtid === null ? null : text.encode(gtid), value: singleObject(builtins[kind], value) };
  }
}

function signature(t: TableInfo): string {
  let s = `${t.database}\u0000${t.table}\u0000${t.primaryKey.join(",")}`;
  for (const c of t.columns) {
    s += `\u0000${c.name}:${c.type}:${c.meta}:${c.unsigned ? 1 : 0}:${c.nullable ? 1 : 0}:${c.collation ?? ""}`;
    if (c.enumValues) s += `:e${c.enumValues.join("\u0001")}`;
    if (c.setValues) s += `:s${c.setValues.join("\u0001")}`;
  }
  return s;
}

export { builtins as BUILTIN_SCHEMAS };
