// BinlogSource: the binlog layer's one entry point. It owns a replication connection, decodes
// what arrives, assembles transactions, and survives dropped connections: after a retriable
// failure it reconnects with backoff and resumes right after the last committed transaction
// (an open one is closed with a rollback item first, then read again whole).
//
// Flow control: raw events wait in a queue bounded by bytes; the socket is paused while the
// queue is over its high mark, so a slow consumer slows the server's sending, not our memory.

import { setTimeout as timer } from "node:timers/promises";
import { ReplicateError, isRetriable } from "../errors.ts";
import type { SourceConfig } from "../config/types.ts";
import { BinlogConnection, explainPurged, type DumpStart, type ServerInfo } from "./connection.ts";
import { EventDecoder } from "./decode.ts";
import type { TableMap } from "./events/tablemap.ts";
import { TransactionAssembler, databaseFilter, type StreamItem } from "./transactions.ts";
import type { TableInfo } from "./types.ts";
import type { SchemaHistory } from "./schema.ts";
import { backoff } from "../backoff.ts";

interface BinlogSourceOptions {
  config: SourceConfig;
  /** Where to start; "current" asks the server for its end of binlog. */
  start: DumpStart | { kind: "current" };
  /** Return once everything the server has now was read (non-blocking dump). */
  stopAtEnd: boolean;
  signal?: AbortSignal;
  /**
   * Schema history for servers that do not log column names (binlog_row_metadata below FULL,
   * MySQL 5.7): completes each TABLE_MAP, and follows every DDL of the stream. DDL is applied
   * here, before the next event is decoded, so rows after an ALTER use the new definition.
   */
  history?: SchemaHistory;
  onWarning?: (message: string) => void;
  /** Told what a reconnection waits for (for the progress line), and undefined once data flows again. */
  onWaiting?: (what: string | undefined) => void;
  /** Told of each reconnection after a failure, with the failure (for the retry metrics). */
  onRetry?: (err: unknown) => void;
  /** Told the size of each event received (for the bytes-read metric). */
  onBytes?: (n: number) => void;
  /** Reconnect attempts after a retriable failure before giving up (default: forever). */
  maxRetries?: number;
  queueHighBytes?: number;
}

interface SourcePosition {
  file: string;
  pos: number;
  /** GTID of the last committed transaction, when the server has GTIDs. */
  gtid: string | null;
}

export class BinlogSource {
  info: ServerInfo | undefined;
  /** Position after the last transaction handed out whole. */
  committed: SourcePosition | undefined;
  private readonly opts: BinlogSourceOptions;

  constructor(opts: BinlogSourceOptions) {
    this.opts = opts;
  }

  async *items(): AsyncGenerator<StreamItem> {
    const { config, signal } = this.opts;
    let start = this.opts.start;
    let attempt = 0;
    for (;;) {
      let conn: BinlogConnection | undefined;
      const assembler = new TransactionAssembler({ databases: config.databases });
      const out: StreamItem[] = [];
      try {
        conn = await BinlogConnection.open(config);
        this.info = conn.info;
        const lowerCase = conn.info.lowerCaseTableNames !== 0;
        assembler.setLowerCaseNames(lowerCase);
        if (start.kind === "current") start = { kind: "file", ...(await conn.currentPosition()) };
        const dump: DumpStart = start;
        const decoder = new EventDecoder({
          file: dump.kind === "file" ? dump.file : "?",
          flavour: conn.info.flavour,
          onTableMap: (map) => this.completeTable(map),
          keepDatabase: databaseFilter(config.databases, lowerCase),
        });
        assembler.file = decoder.file;
        for await (const raw of this.events(conn, dump)) {
          this.opts.onBytes?.(raw.length);
          const ev = decoder.decode(raw);
          if (ev.kind === "payload") {
            for (const inner of decoder.expandPayload(ev)) assembler.push(inner, out, ev.header.logPos);
          } else {
            assembler.push(ev, out);
          }
          if (attempt > 0) {
            attempt = 0;
            this.opts.onWaiting?.(undefined);
          }
          for (const item of out) {
            if (item.kind === "ddl" && this.opts.history) this.opts.history.apply(item);
            if (item.kind === "commit") {
              this.committed = { file: item.file, pos: item.pos, gtid: item.gtid };
              start = { kind: "file", file: item.file, pos: item.pos };
            }
            yield item;
          }
          out.length = 0;
        }
        assembler.interrupt(out, "the stream ended inside a transaction");
        yield* out;
        return;
      } catch (err) {
        out.length = 0;
        assembler.interrupt(out, `connection lost: ${(err as Error).message}`);
        yield* out;
        const retriable = isRetriable(err);
        // A stop asked while the server is away ends the stream like a stop at any other time.
        if (retriable && signal?.aborted) {
          this.opts.onWaiting?.(undefined);
          return;
        }
        if (!retriable || attempt >= (this.opts.maxRetries ?? Infinity)) {
          this.opts.onWaiting?.(undefined);
          throw await explainPurged(config, err);
        }
        attempt++;
        this.opts.onRetry?.(err);
        const delay = backoff(attempt, { firstMs: 500, maxMs: 30_000 });
        const at = start.kind === "file" ? `${start.file}:${start.pos}` : start.kind === "gtid" ? `GTID ${start.set}` : "the current position";
        this.opts.onWarning?.(`source connection failed (${(err as Error).message}); reconnecting in ${delay} ms (attempt ${attempt}), resuming at ${at}`);
        this.opts.onWaiting?.(`the source ${config.host}:${config.port} (reconnecting, attempt ${attempt})`);
        await sleepUnlessAborted(delay, signal);
        if (signal?.aborted) {
          this.opts.onWaiting?.(undefined);
          return;
        }
      } finally {
        conn?.close();
      }
    }
  }

  private completeTable(map: TableMap): TableInfo | undefined {
    if (map.namesFromMetadata) return undefined;
    if (this.opts.history) return this.opts.history.resolve(map);
    const t = map.table;
    throw new ReplicateError(
      "BINLOG_SCHEMA_MISSING",
      `the binlog does not name the columns of ${t.database}.${t.table}: set binlog_row_metadata=FULL on the source (MySQL 8.0.1+, MariaDB 10.5+)`,
      { where: `${t.database}.${t.table}` },
    );
  }

  /** Raw events of one connection, with a bounded queue and a silence watchdog. */
  private async *events(conn: BinlogConnection, start: DumpStart): AsyncGenerator<Uint8Array> {
    // Bounded by bytes and by count: a small event costs more as a JS object than its bytes.
    const high = this.opts.queueHighBytes ?? 8 * 1024 * 1024;
    const highCount = 16_384;
    const queue: Uint8Array[] = [];
    let head = 0;
    let queued = 0;
    let ended = false;
    let failure: Error | undefined;
    let paused = false;
    let wake: (() => void) | undefined;
    let lastData = Date.now();
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const flow = await conn.startDump(
      { start, nonBlocking: this.opts.stopAtEnd },
      (raw) => {
        queue.push(raw);
        queued += raw.length;
        lastData = Date.now();
        if (!paused && (queued > high || queue.length - head > highCount)) {
          paused = true;
          flow.pause();
        }
        notify();
      },
      (err) => {
        ended = true;
        failure = err;
        notify();
      },
    );
    const silenceMs = this.opts.config.heartbeat_seconds * 3000;
    const watchdog = setInterval(
      () => {
        if (!paused && Date.now() - lastData > silenceMs) {
          failure ??= new ReplicateError("SOURCE_CONNECTION", `no data or heartbeat from the source for ${silenceMs / 1000} s`, { retriable: true });
          ended = true;
          notify();
        }
      },
      Math.min(1000, silenceMs),
    );
    const onAbort = () => {
      ended = true;
      notify();
    };
    this.opts.signal?.addEventListener("abort", onAbort);
    try {
      for (;;) {
        if (head < queue.length) {
          const raw = queue[head]!;
          queue[head++] = EMPTY;
          queued -= raw.length;
          if (head > 4096 && head * 2 > queue.length) {
            queue.splice(0, head);
            head = 0;
          }
          if (paused && queued < high / 4 && queue.length - head < highCount / 4) {
            paused = false;
            lastData = Date.now();
            flow.resume();
          }
          yield raw;
          continue;
        }
        if (this.opts.signal?.aborted) return;
        if (ended) {
          if (failure) throw failure;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      clearInterval(watchdog);
      this.opts.signal?.removeEventListener("abort", onAbort);
    }
  }
}

const EMPTY = new Uint8Array(0);

function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return timer(ms, undefined, { signal }).catch(() => undefined);
}
