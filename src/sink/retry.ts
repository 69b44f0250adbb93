// Waiting out outages: the sink's own statements (checkpoint, low-water mark, schemas, catalog
// reads) retry while the target restarts, and its log read starts again where it was while the
// brokers are away. Each wait has a bound (ATTEMPTS with backoff, about a minute in all); what
// it waits for is on the progress line meanwhile, and a lasting outage stops the sink with the
// last error, exit 1, nothing lost: the checkpoint in the target says where to resume.

import { describeError, isRetriable, ReplicateError } from "../errors.ts";
import { log } from "../cli/log.ts";
import type { LogReader, OffsetRecord, ReadOptions } from "../transport/types.ts";
import { connectionLost } from "./worker.ts";

const ATTEMPTS = 10;

function backoffMs(attempt: number): number {
  return Math.min(10_000, 250 * 2 ** attempt);
}

/** What the sink is waiting for, by cause; the progress line shows the set. */
export class WaitBoard {
  private readonly waits = new Map<string, string>();

  constructor(private readonly onChange: (text: string | undefined) => void) {}

  set(key: string, what: string): void {
    this.waits.set(key, what);
    this.onChange(this.text());
  }

  clear(key: string): void {
    if (this.waits.delete(key)) this.onChange(this.text());
  }

  text(): string | undefined {
    return this.waits.size === 0 ? undefined : [...new Set(this.waits.values())].join("; ");
  }
}

/** Errors of a statement that another attempt can cure: the target is restarting or unreachable. */
export function targetTransient(err: unknown): boolean {
  return connectionLost(err) || (err instanceof ReplicateError && err.retriable && err.code === "TARGET_CONNECTION");
}

/** Runs `fn` until it succeeds, retrying transient target failures with backoff. */
export async function retryTarget<T>(what: string, board: WaitBoard, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const key = `target:${what}`;
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await fn();
      board.clear(key);
      return out;
    } catch (err) {
      if (!targetTransient(err) || attempt >= ATTEMPTS || signal?.aborted) {
        board.clear(key);
        throw err;
      }
      const delay = backoffMs(attempt);
      log.warn(`${what}: the target is unreachable (${describeError(err)}); trying again in ${delay} ms (attempt ${attempt + 1} of ${ATTEMPTS})`);
      board.set(key, `the target (${what}, attempt ${attempt + 1} of ${ATTEMPTS})`);
      await Bun.sleep(delay);
    }
  }
}

/**
 * The log from `from`, reading again from the next offset after a retriable failure (brokers
 * down past kafkajs's own retries). Offsets are checked by the transports, so a new read picks
 * up exactly where the last one stopped.
 */
export async function* readRetrying(reader: LogReader, from: bigint, opts: ReadOptions, board: WaitBoard): AsyncGenerator<OffsetRecord> {
  let next = from;
  for (let attempt = 0; ; ) {
    try {
      for await (const r of reader.read(next, opts)) {
        if (attempt > 0) {
          attempt = 0;
          board.clear("log");
        }
        next = r.offset + 1n;
        yield r;
      }
      board.clear("log");
      return;
    } catch (err) {
      if (!isRetriable(err) || opts.signal?.aborted || attempt + 1 >= ATTEMPTS) {
        board.clear("log");
        throw err;
      }
      attempt++;
      const delay = backoffMs(attempt);
      log.warn(`reading the log failed (${describeError(err)}); reading again from offset ${next} in ${delay} ms (attempt ${attempt + 1} of ${ATTEMPTS})`);
      board.set("log", `the log at offset ${next} (attempt ${attempt + 1} of ${ATTEMPTS})`);
      await Bun.sleep(delay);
    }
  }
}
