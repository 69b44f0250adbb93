// The replication connection: log in with mysql2 (auth plugins and TLS come from it), prepare
// the session as a replica, and run the binlog dump through a command object of our own that
// hands over each packet's bytes. mysql2's own BinlogDump command parses almost nothing and
// crashes on ROTATE, so it is not used. mysql2 already reassembles packets split at 16 MiB.
//
// Dump packets (MySQL client/server protocol, "COM_BINLOG_DUMP" and "COM_BINLOG_DUMP_GTID"):
//   COM_BINLOG_DUMP (MySQL and MariaDB)   0x12, binlog_pos u32, flags u16, server_id u32, file name (rest)
//   COM_BINLOG_DUMP_GTID (MySQL only)     0x1e, flags u16, server_id u32, name_len u32, name,
//                                         binlog_pos u64, data_len u32, GTID set (gtid.ts encode())
// Each reply packet is 0x00 + one event, 0xFE (EOF: end of binlog in non-blocking mode) or 0xFF (error).

import mysql from "mysql2";
import { readFileSync } from "node:fs";
import { ReplicateError, isRetriable } from "../errors.ts";
import type { SourceConfig } from "../config/types.ts";
import { explainTlsFailure } from "../config/tls.ts";
import { MysqlGtidSet } from "./gtid.ts";
import type { Flavour } from "./events/control.ts";

const DUMP_FLAG_NON_BLOCK = 0x01;
/** The client/server protocol's largest packet payload; longer ones come split (0xffffff each). */
const MAX_PACKET_PAYLOAD = 0xffffff;
/** MariaDB: send ANNOTATE_ROWS events (the original statement) before row events. */
const DUMP_FLAG_SEND_ANNOTATE_ROWS = 0x02;
/** MySQL COM_BINLOG_DUMP_GTID: start from the GTID set (not from file:pos). */
const DUMP_FLAG_THROUGH_GTID = 0x04;

export interface ServerInfo {
  version: string;
  flavour: Flavour;
  serverId: number;
  /** "CRC32" or "NONE" */
  checksum: string;
  /** @@lower_case_table_names: not 0 means database and table names are stored in lower case. */
  lowerCaseTableNames: number;
}

export type DumpStart = { kind: "file"; file: string; pos: number } | { kind: "gtid"; set: string };

/** "binlog.000003:4" or "GTID 0-1-100", for messages and `where`. */
export function describeStart(s: DumpStart): string {
  return s.kind === "file" ? `${s.file}:${s.pos}` : `GTID ${s.set}`;
}

interface DumpOptions {
  start: DumpStart;
  nonBlocking: boolean;
}

type RawConnection = mysql.Connection & {
  clientEncoding: string;
  addCommand(cmd: unknown): unknown;
  writePacket(packet: unknown): void;
  _resetSequenceId(): void;
  pause(): void;
  resume(): void;
};

interface WirePacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isError(): boolean;
  asError(encoding: string): Error & { code?: string; errno?: number };
}

export class BinlogConnection {
  private constructor(
    private readonly conn: RawConnection,
    readonly info: ServerInfo,
    private readonly cfg: SourceConfig,
  ) {}

  static async open(cfg: SourceConfig): Promise<BinlogConnection> {
    const where = `${cfg.host}:${cfg.port}`;
    const conn = mysql.createConnection({
      host: cfg.host,
      port: cfg.port,
      user: cfg.user,
      password: cfg.password?.reveal() ?? "",
      ssl: tlsOptions(cfg),
      connectTimeout: 10_000,
      supportBigNumbers: true,
      bigNumberStrings: true,
    }) as RawConnection;
    const failed = new Promise<never>((_, reject) => conn.once("error", reject));
    try {
      await Promise.race([query(conn, "SELECT 1"), failed]);
    } catch (cause) {
      conn.destroy();
      const said = (cause as Error).message;
      const tls = cfg.tls.mode === "disabled" ? undefined : explainTlsFailure(cause, "source", cfg.tls, cfg.host);
      throw new ReplicateError("SOURCE_CONNECTION", `cannot connect to the source ${where} as ${cfg.user}: ${tls ?? said}`, {
        retriable: isRetriable(cause),
        where,
        cause,
      });
    }
    conn.on("error", () => {}); // errors surface through the running command
    const [row] = (await query(conn, "SELECT VERSION() AS v, @@server_id AS id, @@global.binlog_checksum AS c, @@lower_case_table_names AS l")) as Array<{
      v: string;
      id: number | string;
      c: string;
      l: number | string;
    }>;
    const version = String(row?.v ?? "");
    const detected: Flavour = /mariadb/i.test(version) ? "mariadb" : "mysql";
    const flavour = cfg.flavor === "auto" ? detected : cfg.flavor;
    return new BinlogConnection(conn, { version, flavour, serverId: Number(row?.id), checksum: String(row?.c ?? "NONE"), lowerCaseTableNames: Number(row?.l ?? 0) }, cfg);
  }

  query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    return query(this.conn, sql) as Promise<T[]>;
  }

  /** The server's current end of binlog: where "current" starts. */
  async currentPosition(): Promise<{ file: string; pos: number }> {
    let rows: Array<{ File?: string; Position?: number | string }>;
    try {
      rows = await this.query("SHOW MASTER STATUS");
    } catch {
      rows = await this.query("SHOW BINARY LOG STATUS"); // MySQL 8.4 removed the old name
    }
    const r = rows[0];
    if (!r?.File) {
      throw new ReplicateError("SOURCE_SERVER_ERROR", "the source has no binary log (log_bin is OFF); enable log_bin and restart it", {
        where: `${this.cfg.host}:${this.cfg.port}`,
      });
    }
    return { file: r.File, pos: Number(r.Position) };
  }

  /**
   * Starts the dump. Each raw event (without the 0x00 status byte) is passed to `onEvent`;
   * `onEnd` is called once: with no error at EOF (non-blocking mode), or with the error.
   * Returns controls for flow control: the caller pauses the socket while its queue is full.
   */
  async startDump(opts: DumpOptions, onEvent: (raw: Buffer) => void, onEnd: (err?: Error) => void): Promise<{ pause(): void; resume(): void }> {
    const f = this.info.flavour;
    await this.query(`SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum`);
    await this.query(`SET @master_heartbeat_period = ${BigInt(this.cfg.heartbeat_seconds) * 1_000_000_000n}`);
    if (f === "mariadb") {
      await this.query("SET @mariadb_slave_capability = 4");
      const state = opts.start.kind === "gtid" ? opts.start.set : "";
      if (opts.start.kind === "gtid") {
        await this.query(`SET @slave_connect_state = ${mysql.escape(state)}, @slave_gtid_strict_mode = 1, @slave_gtid_ignore_duplicates = 0`);
      }
    }
    const flags = opts.nonBlocking ? DUMP_FLAG_NON_BLOCK : 0;
    const packet =
      f === "mysql" && opts.start.kind === "gtid"
        ? encodeDumpGtid(this.cfg.server_id, flags | DUMP_FLAG_THROUGH_GTID, MysqlGtidSet.parse(opts.start.set))
        : encodeDump(
            this.cfg.server_id,
            flags | (f === "mariadb" ? DUMP_FLAG_SEND_ANNOTATE_ROWS : 0),
            opts.start.kind === "file" ? opts.start.file : "",
            opts.start.kind === "file" ? opts.start.pos : 4,
          );
    const conn = this.conn;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      onEnd(err);
    };
    const command = {
      started: false,
      execute(p: WirePacket | undefined, c: RawConnection): boolean {
        if (!this.started) {
          this.started = true;
          c._resetSequenceId();
          c.writePacket(wirePacket(packet));
          return false;
        }
        if (!p) return false;
        if (p.isError()) {
          finish(serverError(p.asError(c.clientEncoding), opts.start));
          return true;
        }
        const b = p.buffer;
        if (b[p.offset] === 0xfe && p.end - p.offset < 9) {
          finish();
          return true;
        }
        // An event past one packet (16 MiB) was reassembled by mysql2 from parts that are
        // garbage now: collected before the event is decoded and encoded again, so a huge
        // value is held twice at most, not three times (measured: bench/memory.ts).
        if (p.end - p.offset > MAX_PACKET_PAYLOAD) Bun.gc(true);
        onEvent(b.subarray(p.offset + 1, p.end));
        return false;
      },
      onResult(err: Error) {
        finish(err);
      },
    };
    conn.addCommand(command);
    conn.once("end", () => finish(new ReplicateError("SOURCE_CONNECTION", "the source closed the replication connection", { retriable: true })));
    return { pause: () => conn.pause(), resume: () => conn.resume() };
  }

  /** The server's id of this session (CONNECTION_ID()): what KILL names. */
  get threadId(): number {
    return Number(this.conn.threadId);
  }

  /**
   * The rows of one query as they arrive, in batches, for `copy`'s chunks: the server's result
   * is read with backpressure, never gathered whole. The connection is paused once a batch holds
   * `maxRows` rows or `maxBytes` bytes of values, and resumed when the consumer takes it, so at
   * most the batch being consumed and the one filling are held (plus the socket's buffers):
   * bounded for rows of 1 MB BLOBs too, where mysql2's object stream held 256 rows.
   * Batches rather than rows: an async iterator's step per row cost more than decoding the row
   * (bench/copy-stages.ts).
   */
  async *streamRowBatches(options: mysql.QueryOptions, maxRows = 1024, maxBytes = 4 * 1024 * 1024): AsyncGenerator<unknown[][]> {
    const conn = this.conn;
    const query = conn.query(options);
    let batch: unknown[][] = [];
    let bytes = 0;
    let paused = false;
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const wakeUp = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    query.on("result", (row: unknown) => {
      if (ended) return;
      const values = row as unknown[];
      batch.push(values);
      for (const v of values) if (v !== null) bytes += (v as { length: number }).length;
      if (!paused && (batch.length >= maxRows || bytes >= maxBytes)) {
        paused = true;
        conn.pause();
      }
      if (batch.length === 1 || paused) wakeUp();
    });
    query.on("error", (err: Error) => {
      failure ??= err;
      wakeUp();
    });
    query.on("end", () => {
      ended = true;
      wakeUp();
    });
    try {
      for (;;) {
        if (batch.length === 0 && !ended && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
        if (failure !== undefined) throw failure;
        if (batch.length > 0) {
          const full = batch;
          batch = [];
          bytes = 0;
          if (paused) {
            paused = false;
            conn.resume();
          }
          yield full;
        } else if (ended) return;
      }
    } finally {
      // A consumer that stops early: the rest of the result is read and dropped, never left paused.
      ended = true;
      batch = [];
      if (paused) conn.resume();
    }
  }

  close(): void {
    this.conn.destroy();
  }
}

/** Error 1236 (ER_MASTER_FATAL_ERROR_READING_BINLOG) means the start position is gone or invalid. */
function serverError(err: Error & { errno?: number }, start: DumpStart): ReplicateError {
  const at = describeStart(start);
  if (err.errno === 1236) {
    return new ReplicateError(
      "SOURCE_POSITION_PURGED",
      `the source cannot send the binlog from ${at}: ${err.message}. If the binlogs were purged, the gap cannot be replicated: take a new full copy and start from "current"`,
      { where: at, cause: err },
    );
  }
  return new ReplicateError("SOURCE_SERVER_ERROR", `the source refused the binlog dump from ${at}: ${err.message}`, { where: at, cause: err });
}

/**
 * SOURCE_POSITION_PURGED with what the server still has (SHOW BINARY LOGS, on a connection of
 * its own: the failed one may be gone): whether the start was purged or lies beyond the end,
 * and the oldest position a new start could use. Other errors are returned unchanged.
 */
export async function explainPurged(cfg: SourceConfig, err: unknown): Promise<unknown> {
  if (!(err instanceof ReplicateError) || err.code !== "SOURCE_POSITION_PURGED") return err;
  const cause = err.cause as { message?: string } | undefined;
  const at = err.where ?? "?";
  let logs: Array<{ file: string; size: number }>;
  try {
    const conn = await BinlogConnection.open(cfg);
    try {
      const rows = await conn.query<{ Log_name?: string; File_size?: number | string }>("SHOW BINARY LOGS");
      logs = rows.filter((r) => r.Log_name).map((r) => ({ file: String(r.Log_name), size: Number(r.File_size) }));
    } finally {
      conn.close();
    }
  } catch {
    return err; // the server's own message is still there; nothing better to say
  }
  const oldest = logs[0];
  const newest = logs.at(-1);
  if (!oldest || !newest) return err;
  const file = at.includes(":") && !at.startsWith("GTID ") && !at.startsWith("gtid ") ? at.slice(0, at.lastIndexOf(":")) : null;
  const range = `the source's binlogs now run from ${oldest.file}:4 (the oldest position it can send) to ${newest.file}:${newest.size}`;
  const fresh = `take a new full copy of the data and start a new log from the copy's position (or "current")`;
  const server = `(server: ${cause?.message ?? err.message})`;
  // A start the server never had is not a purge: purge advice would send the operator to
  // take a new copy for a typo or a position from another server.
  const never = (what: string) => new ReplicateError("SOURCE_POSITION_UNKNOWN", `${what} ${server}`, { kind: "runtime", where: at, cause: err.cause });
  if (file !== null && file > newest.file) {
    return never(
      `binlog file ${file} of position ${at} does not exist on the source, which has not written it (${range}): check [source] start, and that this is the server the position was taken from`,
    );
  }
  if (file !== null && file >= oldest.file && !logs.some((l) => l.file === file)) {
    return never(`binlog file ${file} of position ${at} does not exist on the source (${range}), though files before and after it do: check the file name in [source] start`);
  }
  if (file === null && (await gtidAhead(cfg, at))) {
    return never(
      `the source has not written ${at}: its GTID position is behind it (${range}). That GTID comes from another server, or from a replica that diverged: check [source] start, and that this is the server the position was taken from`,
    );
  }
  let what: string;
  if (file !== null && file < oldest.file) {
    what = `binlog position ${at} was purged from the source: ${range}. The changes between ${at} and ${oldest.file}:4 can no longer be read, so replicating on from there would lose them; ${fresh}, and keep binlogs longer on the source (binlog_expire_logs_seconds, MariaDB expire_logs_days)`;
  } else {
    what = `the source cannot send the binlog from ${at}: ${range}. If the binlogs were purged, the changes in between cannot be replicated: ${fresh}`;
  }
  return new ReplicateError("SOURCE_POSITION_PURGED", `${what} ${server}`, { where: at, cause: err.cause });
}

/**
 * Whether the GTID start (as describeStart wrote it: "GTID <set>") is ahead of what the server
 * has written: a MariaDB domain whose requested sequence number is above the server's
 * @@gtid_binlog_pos, or a MySQL GTID set with transactions outside @@gtid_executed.
 */
async function gtidAhead(cfg: SourceConfig, at: string): Promise<boolean> {
  const set = at.replace(/^GTID /i, "").trim();
  try {
    const conn = await BinlogConnection.open(cfg);
    try {
      if (conn.info.flavour === "mariadb") {
        const [row] = await conn.query<{ p?: string }>("SELECT @@global.gtid_binlog_pos AS p");
        const have = new Map<string, bigint>();
        for (const g of String(row?.p ?? "")
          .split(",")
          .filter(Boolean)) {
          const [d, , q] = g.trim().split("-");
          have.set(d!, BigInt(q!));
        }
        return set
          .split(",")
          .filter(Boolean)
          .some((g) => {
            const [d, , q] = g.trim().split("-");
            return q !== undefined && BigInt(q) > (have.get(d!) ?? -1n);
          });
      }
      const [row] = await conn.query<{ ok?: number | string }>(`SELECT GTID_SUBSET('${set.replace(/'/g, "")}', @@global.gtid_executed) AS ok`);
      return Number(row?.ok) === 0;
    } finally {
      conn.close();
    }
  } catch {
    return false; // nothing better to say than the server's own message
  }
}

function query(conn: mysql.Connection, sql: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => conn.query(sql, (err, rows) => (err ? reject(err) : resolve(rows as unknown[]))));
}

/** A packet object as mysql2's writePacket expects: 4 header bytes reserved at the front. */
function wirePacket(payload: Uint8Array) {
  const buffer = Buffer.alloc(4 + payload.length);
  buffer.set(payload, 4);
  return {
    buffer,
    length: () => buffer.length,
    writeHeader(seq: number) {
      buffer.writeUIntLE(payload.length, 0, 3);
      buffer[3] = seq;
    },
  };
}

export function encodeDump(serverId: number, flags: number, file: string, pos: number): Uint8Array {
  const name = Buffer.from(file, "utf8");
  const out = Buffer.alloc(11 + name.length);
  out[0] = 0x12;
  out.writeUInt32LE(pos, 1);
  out.writeUInt16LE(flags, 5);
  out.writeUInt32LE(serverId, 7);
  name.copy(out, 11);
  return out;
}

export function encodeDumpGtid(serverId: number, flags: number, set: MysqlGtidSet, file = "", pos = 4): Uint8Array {
  const name = Buffer.from(file, "utf8");
  const data = set.encode();
  const out = Buffer.alloc(1 + 2 + 4 + 4 + name.length + 8 + 4 + data.length);
  let p = 0;
  out[p++] = 0x1e;
  out.writeUInt16LE(flags, p);
  p += 2;
  out.writeUInt32LE(serverId, p);
  p += 4;
  out.writeUInt32LE(name.length, p);
  p += 4;
  name.copy(out, p);
  p += name.length;
  out.writeBigUInt64LE(BigInt(pos), p);
  p += 8;
  out.writeUInt32LE(data.length, p);
  p += 4;
  out.set(data, p);
  return out;
}

function tlsOptions(cfg: SourceConfig): mysql.SslOptions | undefined {
  const t = cfg.tls;
  if (t.mode === "disabled") return undefined;
  const read = (p?: string) => (p ? readFileSync(p, "utf8") : undefined);
  // mysql2 ignores checkServerIdentity: it checks the host name only when verifyIdentity is
  // set. Without `ca`, rejectUnauthorized verifies against the system's trusted CAs.
  return {
    ca: read(t.ca),
    cert: read(t.cert),
    key: read(t.key),
    rejectUnauthorized: t.mode !== "required",
    verifyIdentity: t.mode === "verify-full",
  };
}
