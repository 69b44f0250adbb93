// `gs-replicate source`: binlog → change events → the ordered log.
//
// Batching: records are appended in batches (at most BATCH_RECORDS, or whatever arrived in the
// last FLUSH_MS) and the log is synced whenever a batch ends on a transaction boundary. A
// crash loses at most unsynced records, and restart resumes after the last End that is in the
// log, so nothing is lost or doubled (src/events/resume.ts). Large transactions stream: their
// records are appended before their End exists, and a reader ignores them until it arrives.
// Backpressure: append() resolves when the log took the batch; the binlog queue in front is
// bounded, so a slow log slows reading from the server, not memory.

import type { Config } from "../config/types.ts";
import { parseStart } from "../config/start.ts";
import { BinlogSource } from "../binlog/source.ts";
import type { DumpStart } from "../binlog/connection.ts";
import { ChangeEventWriter } from "../events/codec.ts";
import { LogDecoder } from "../events/decode.ts";
import { messageToJson } from "../events/json.ts";
import { readTail } from "../events/resume.ts";
import { openLogWriter } from "../transport/open.ts";
import type { LogRecord, LogWriter } from "../transport/types.ts";
import { ReplicateError } from "../errors.ts";
import { log } from "./log.ts";
import { Progress } from "./progress.ts";

const BATCH_RECORDS = 4096;
const TICK: unique symbol = Symbol("tick");
const FLUSH_MS = 50;

export interface SourceRun {
  config: Config;
  stopAtEnd: boolean;
  stdout: boolean;
  signal: AbortSignal;
}

export async function runSource(run: SourceRun): Promise<void> {
  const cfg = run.config;
  const source = cfg.source!;
  const out = run.stdout ? stdoutWriter() : await openLogWriter(cfg.transport!, { onWarning: (m) => log.warn(m) });
  try {
    let start: DumpStart | { kind: "current" } = initialStart(source.start);
    const events = new ChangeEventWriter(source.server_name);
    if (!run.stdout) {
      const tail = await readTail(out);
      if (tail.fragment) {
        log.warn(`the log ends inside transaction ${tail.fragment.gtid ?? "(no GTID)"} left by an earlier run: closing it with an Abort record; it will be read again whole`);
        await out.append([events.abortRecord(tail.fragment.gtid, "source restarted: fragment of an interrupted run")]);
        await out.sync();
      }
      if (tail.resume) {
        start = { kind: "file", file: tail.resume.file, pos: tail.resume.pos };
        log.info(`resuming after ${tail.resume.gtid ?? "the last transaction"} in the log, at ${tail.resume.file}:${tail.resume.pos}`);
      }
    }
    const binlog = new BinlogSource({ config: source, start, stopAtEnd: run.stopAtEnd, signal: run.signal, onWarning: (m) => log.warn(m) });
    const progress = new Progress(cfg.log.progress_seconds, "source");
    let batch: LogRecord[] = [];
    let boundary = true;
    let lastFlush = Date.now();
    const flush = async () => {
      if (batch.length > 0) {
        const b = batch;
        batch = [];
        await out.append(b);
      }
      if (boundary) await out.sync();
      lastFlush = Date.now();
    };
    for await (const item of withTicks(binlog.items(), FLUSH_MS)) {
      if (item !== TICK) {
        const before = batch.length;
        events.write(item, batch);
        progress.events += batch.length - before;
        if (item.kind === "begin") boundary = false;
        if (item.kind === "commit" || item.kind === "rollback") {
          boundary = true;
          progress.transactions++;
          if (item.kind === "commit") progress.position(item.gtid ?? `${item.file}:${item.pos}`, item.timestampMs);
        }
        if (batch.length < BATCH_RECORDS && Date.now() - lastFlush < FLUSH_MS) {
          progress.maybeReport();
          continue;
        }
      }
      if (batch.length > 0 || item === TICK) await flush();
      progress.maybeReport();
    }
    await flush();
    progress.report(run.signal.aborted ? "stopped on signal" : "caught up");
  } finally {
    await out.close();
  }
}

function initialStart(text: string): DumpStart | { kind: "current" } {
  const s = parseStart(text);
  if (!s) throw new ReplicateError("CONFIG_BAD_VALUE", `bad [source] start "${text}"`, { kind: "config", where: "source.start" });
  return s.kind === "gtid" ? { kind: "gtid", set: s.set } : s;
}

/** `--stdout`: the same records, decoded back and printed as JSON lines. */
function stdoutWriter(): LogWriter {
  const decoder = new LogDecoder();
  let offset = 0n;
  return {
    async append(records) {
      let text = "";
      for (const r of records) {
        const line = messageToJson(decoder.decode(r, `stdout record ${offset++}`));
        if (line !== undefined) text += `${line}\n`;
      }
      if (text && !process.stdout.write(text)) await new Promise((resolve) => process.stdout.once("drain", resolve));
    },
    async sync() {},
    async tail() {
      return [];
    },
    endOffset: () => offset,
    async close() {},
  };
}


/** Interleaves a TICK whenever the source is quiet for `ms`, so batches flush while idle. */
async function* withTicks<T>(source: AsyncIterable<T>, ms: number): AsyncGenerator<T | typeof TICK> {
  const it = source[Symbol.asyncIterator]();
  let pending = it.next();
  const nextTick = (): Promise<typeof TICK> => Bun.sleep(ms).then(() => TICK);
  let tick = nextTick();
  try {
    for (;;) {
      const r: IteratorResult<T> | typeof TICK = await Promise.race([pending, tick]);
      if (r === TICK) {
        tick = nextTick();
        yield TICK;
        continue;
      }
      if (r.done) return;
      pending = it.next();
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}
