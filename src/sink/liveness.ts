// A target that stops answering without closing its connections (a network partition: the
// sockets stay open, nothing comes back, and TCP keepalive sees nothing while the path still
// acknowledges) would hold the sink for ever: no error arrives to retry on. So while units are
// in flight and none has finished for SILENCE_MS, a probe opens a NEW connection and runs
// SELECT 1, bounded by PROBE_MS:
//   - an answer: the target is alive and busy (a long transaction is legitimate): wait on;
//   - no answer: the progress line says so, and after [sink] unresponsive_seconds without an
//     answer the sink stops with TARGET_UNRESPONSIVE (exit 1, nothing of the units in flight
//     committed: the next run applies them), closing its connections.
// A target that answers again before the bound (the partition healed) lets the units in flight
// finish as if nothing had happened: their bytes were only delayed.

import type postgres from "postgres";
import type { TargetConfig } from "../config/types.ts";
import { connectTarget } from "../dialect/connect.ts";
import { describeError, ReplicateError } from "../errors.ts";
import type { WaitBoard } from "./retry.ts";

/** No unit finished for this long while some run: probe. */
const SILENCE_MS = 10_000;
/** A probe's bound: connecting and SELECT 1. */
const PROBE_MS = 10_000;
const TICK_MS = 2_000;
const KEY = "target-silent";

interface WatchOptions {
  boundMs: number;
  board: WaitBoard;
  /** Units (or a streamed transaction) waiting on the target now. */
  busy: () => boolean;
  /** Called once when the bound is passed. */
  onDead: (err: ReplicateError) => void;
}

export class TargetWatch {
  private lastDone = Date.now();
  private lastAnswer = Date.now();
  private probing = false;
  private dead = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly target: TargetConfig,
    private readonly opts: WatchOptions,
  ) {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref?.();
  }

  /** A unit (or a chunk of a streamed transaction) finished: the target answers. */
  done(): void {
    this.lastDone = Date.now();
    this.lastAnswer = this.lastDone;
    this.opts.board.clear(KEY);
  }

  stop(): void {
    clearInterval(this.timer);
    this.opts.board.clear(KEY);
  }

  private async tick(): Promise<void> {
    if (this.probing || this.dead) return;
    const now = Date.now();
    if (!this.opts.busy()) {
      this.lastDone = now;
      this.lastAnswer = now;
      return;
    }
    if (now - this.lastDone < SILENCE_MS) return;
    this.probing = true;
    try {
      const failure = await probe(this.target);
      if (failure === undefined) {
        this.lastAnswer = Date.now();
        this.opts.board.clear(KEY);
        return;
      }
      const silent = Math.round((Date.now() - this.lastAnswer) / 1000);
      this.opts.board.set(KEY, `the target, which has not answered for ${silent} s (a new connection gets no answer either: ${failure})`);
      if (Date.now() - this.lastAnswer < this.opts.boundMs) return;
      this.dead = true;
      const err = new ReplicateError(
        "TARGET_UNRESPONSIVE",
        `the target has not answered for ${silent} s: the transactions in flight get no reply, and a new connection gets none either (${failure}). ` +
          `Nothing of those transactions is committed; the next run applies them. Check the network path to ${this.target.host}:${this.target.port} and the server, then start the sink again ([sink] unresponsive_seconds sets how long it waits)`,
        { retriable: false, where: `${this.target.host}:${this.target.port}` },
      );
      this.opts.onDead(err);
    } finally {
      this.probing = false;
    }
  }
}

/** SELECT 1 on a new connection within PROBE_MS; undefined when answered, else what happened. */
async function probe(target: TargetConfig): Promise<string | undefined> {
  let sql: postgres.Sql | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    sql = connectTarget(target, 1);
    const answer = sql.unsafe("SELECT 1").then(
      () => undefined,
      (err: unknown) => describeError(err),
    );
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${PROBE_MS / 1000} s`), PROBE_MS);
    });
    return await Promise.race([answer, late]);
  } catch (err) {
    return describeError(err);
  } finally {
    clearTimeout(timer);
    void sql?.end({ timeout: 0 }).catch(() => undefined);
  }
}
