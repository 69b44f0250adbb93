// The data step: the chunks left to load, [copy] parallel at a time. A chunk that meets an
// outage (the target restarting, a source connection lost) is tried again in a new snapshot,
// 1 s doubling to 15 s, up to CHUNK_TRIES times (lock-free only: under the global read lock
// every view was opened at one position and a new one cannot be); any other failure ends the
// other workers and is the run's failure. A table is finished once its last chunk is loaded.

import type postgres from "postgres";
import { backoff } from "../backoff.ts";
import type { ValueContext } from "../dialect/values.ts";
import { describeError, isRetriable } from "../errors.ts";
import { log } from "../runtime/log.ts";
import { sleepUnlessStopped } from "../runtime/signals.ts";
import { splitColumnOf } from "./chunks.ts";
import type { LedgerChunk } from "./ledger.ts";
import { loadChunk } from "./load.ts";
import type { CopyProgress } from "./progress.ts";
import type { SourceTable } from "./schema.ts";
import type { openSnapshots } from "./snapshots.ts";

const CHUNK_TRIES = 6;

interface ChunkRun {
  sql: postgres.Sql;
  snaps: Awaited<ReturnType<typeof openSnapshots>>;
  tables: SourceTable[];
  chunks: LedgerChunk[];
  parallel: number;
  mapping: Record<string, string>;
  ctx: ValueContext;
  progress: CopyProgress;
  signal: AbortSignal;
  /** Called once per table, after its last chunk. */
  tableLoaded(t: SourceTable): Promise<void>;
}

export async function loadAllChunks(r: ChunkRun): Promise<void> {
  const key = (c: { database: string; table: string }) => `${c.database}.${c.table}`;
  const byTable = new Map(r.tables.map((t) => [key(t), t]));
  const queue = r.chunks.filter((c) => byTable.has(key(c)));
  const left = new Map<string, number>();
  for (const c of queue) left.set(key(c), (left.get(key(c)) ?? 0) + 1);
  const failed = new AbortController();
  const signal = AbortSignal.any([r.signal, failed.signal]);
  let failure: unknown;

  const one = async (t: SourceTable, c: LedgerChunk) => {
    for (let attempt = 1; ; attempt++) {
      const view = await r.snaps.take();
      let reported = 0;
      let reportedBytes = 0;
      try {
        await loadChunk(view, r.sql, { table: t, split: splitColumnOf(t), chunk: c }, r.mapping, r.ctx, (n, b) => {
          reported += n;
          reportedBytes += b;
          r.progress.add(t, n, b);
        });
      } catch (err) {
        r.progress.add(t, -reported, -reportedBytes);
        await r.snaps.give(view, false);
        if (!isRetriable(err) || r.snaps.mode === "lock" || attempt >= CHUNK_TRIES || signal.aborted) throw err;
        const delay = backoff(attempt, { firstMs: 1000, maxMs: 15_000 });
        log.warn(`${key(t)} chunk ${c.chunk}: ${describeError(err)}; loading it again in a new snapshot in ${delay} ms (attempt ${attempt + 1} of ${CHUNK_TRIES})`);
        await sleepUnlessStopped(delay, signal);
        continue;
      }
      await r.snaps.give(view, true);
      return;
    }
  };

  const worker = async () => {
    for (let c = queue.shift(); c !== undefined && !signal.aborted; c = queue.shift()) {
      const t = byTable.get(key(c))!;
      try {
        await one(t, c);
        const remaining = left.get(key(c))! - 1;
        left.set(key(c), remaining);
        if (remaining === 0) await r.tableLoaded(t);
      } catch (err) {
        failure ??= err;
        failed.abort();
      }
    }
  };
  await Promise.allSettled(Array.from({ length: Math.min(r.parallel, queue.length) }, worker));
  if (failure !== undefined) throw failure;
}
