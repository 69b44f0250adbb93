// Submitting units (run.ts) to the scheduler and applying them on the workers: a group of
// consecutive transactions, a transaction already applied (its checkpoint row only), or a DDL
// transaction, alone. The first failure is kept: the main loop stops reading at it and
// rethrows it, so the sink stops with nothing of the failed unit applied.

import type { SinkConfig, TargetConfig } from "../config/types.ts";
import { log } from "../runtime/log.ts";
import type { Progress } from "../runtime/progress.ts";
import type { ApplyContext } from "./apply.ts";
import type { SinkTx } from "./assembler.ts";
import type { KeyPolicy } from "./writeset.ts";
import type { TargetKeys } from "./catalog.ts";
import { applyDdl } from "./ddl.ts";
import { unitClock } from "./group.ts";
import type { LowWater } from "./low-water.ts";
import type { Scheduler } from "./scheduler.ts";
import { applyTransactions, type WorkerPool } from "./worker.ts";
import { WritesetBuilder } from "./writeset.ts";

type UnitKind = "apply" | "skip" | "ddl" | "skipDdl";

interface UnitDeps {
  pool: WorkerPool;
  scheduler: Scheduler;
  low: LowWater;
  progress: Progress;
  target: TargetConfig;
  sink: SinkConfig;
  /** The run's stop, or a target gone silent: the waits of the units in flight end on it. */
  signal: AbortSignal;
  onWait: (key: string) => (what: string | undefined) => void;
  /** A unit committed: the target answers (liveness.ts). */
  answered: () => void;
  /** The target's keys, read again after each DDL. */
  keyPolicy: () => Promise<KeyPolicy & TargetKeys>;
  /** `--skip-ddl`: the GTID (or "file:pos") of one DDL transaction the operator applied by hand. */
  skipDdl?: string;
}

export class UnitRunner {
  /** The first failure of a unit (or of the target, the lock): the run's failure. */
  failure: unknown;
  /** Whether the `--skip-ddl` transaction was met. */
  skipDdlSeen = false;
  // Replaced after each DDL, with the target's primary keys as that DDL left them.
  ctx: Omit<ApplyContext, "describe">;
  private writeset: WritesetBuilder;
  private readonly running = new Set<Promise<void>>();
  private seq = 0;

  constructor(
    private readonly d: UnitDeps,
    policy: KeyPolicy & TargetKeys,
  ) {
    this.writeset = new WritesetBuilder(policy);
    this.ctx = { schemaMapping: d.target.schema_mapping, zeroDate: d.sink.zero_date, targetKey: policy.targetKey };
  }

  fail(err: unknown): void {
    this.failure ??= err;
  }

  /** The next position in log order (a large transaction takes one too: large.ts). */
  nextSeq(): number {
    return this.seq++;
  }

  /** Waits for every unit in flight to commit or fail. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** Submits one unit (consecutive transactions applied as one target transaction). */
  async submit(txs: SinkTx[], kind: UnitKind): Promise<{ done: Promise<void> }> {
    const { pool, scheduler, low, progress, target, sink, signal, onWait } = this.d;
    const mySeq = this.seq++;
    const ctx = this.ctx;
    const last = txs.at(-1)!;
    low.add(mySeq, last.next, last.end.file, last.end.pos);
    await scheduler.room();
    let keys: string[] = [];
    let barrier = kind === "ddl" || kind === "skipDdl";
    if (kind === "apply") {
      for (const tx of txs) for (const it of tx.items) if (it.kind === "change") this.writeset.add(it);
      const ws = this.writeset.take();
      keys = ws.keys;
      barrier = ws.barrier;
    }
    const start = scheduler.submit({ seq: mySeq, clock: unitClock(txs), keys, barrier });
    const p = (async () => {
      await start;
      if (kind === "ddl")
        await applyDdl(pool, txs[0]!, {
          dialect: target.dialect,
          ctx,
          untranslatable: sink.untranslatable,
          describe: describeTx(txs[0]!),
          onWait: onWait(`unit ${mySeq}`),
          signal,
        });
      if (kind === "skipDdl") {
        log.warn(`${describeTx(txs[0]!)}: recorded as applied without running its DDL (--skip-ddl)`);
        await applyTransactions(pool, [{ ...txs[0]!, items: [] }], { describe: describeTx, ctx, onWait: onWait(`unit ${mySeq}`), signal });
      }
      if (kind === "apply") {
        await applyTransactions(pool, txs, {
          describe: describeTx,
          ctx,
          commitTurn: sink.preserve_commit_order ? () => scheduler.waitCommitTurn(mySeq) : undefined,
          onWait: onWait(`unit ${mySeq}`),
          signal,
        });
      }
      this.d.answered();
      scheduler.committed(mySeq);
      low.committed(mySeq);
      progress.transactions += txs.length;
      for (const tx of txs) progress.events += tx.items.length;
      progress.position(last.end, last.end.tsMs);
    })().catch((err: unknown) => {
      this.failure ??= err;
      scheduler.failed(mySeq, err);
    });
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    // Wrapped: returning the promise itself would make every `await submit(…)` wait for the
    // unit to be applied, serialising the whole sink.
    return { done: p };
  }

  /**
   * Submits a transaction that goes alone: one already applied (`skip`) or a DDL. A DDL is
   * waited for, and the target's keys read again after it.
   */
  async submitAlone(tx: SinkTx, skip: boolean, ddl: boolean): Promise<void> {
    const skipThis = ddl && !skip && this.d.skipDdl !== undefined && matches(tx, this.d.skipDdl);
    if (skipThis) this.skipDdlSeen = true;
    const { done } = await this.submit([tx], skip ? "skip" : skipThis ? "skipDdl" : "ddl");
    if (ddl && !skip) {
      // Later transactions' writesets and values must see the keys this DDL created or dropped.
      await done;
      if (this.failure === undefined) {
        const next = await this.d.keyPolicy();
        this.writeset = new WritesetBuilder(next);
        this.ctx = { ...this.ctx, targetKey: next.targetKey };
      }
    }
  }
}

/** `--skip-ddl` names a transaction by GTID or by the binlog position printed in messages. */
function matches(tx: SinkTx, id: string): boolean {
  return tx.begin.gtid === id || `${tx.begin.file}:${tx.begin.pos}` === id;
}

function describeTx(tx: SinkTx): string {
  return describeBegin(tx.begin);
}

export function describeBegin(b: { gtid: string | null; file: string; pos: number }): string {
  return `transaction ${b.gtid ? `GTID ${b.gtid} ` : ""}at ${b.file}:${b.pos}`;
}
