// Scheduler throughput: `bun bench/scheduler.ts [transactions]`.
// Builds writesets of 4 row changes per transaction (WritesetBuilder, timed on its own), then
// pushes them through the Scheduler with a simulated pool of 16 workers that commits a random
// running transaction whenever half the pool is busy (in seq order with preserveCommitOrder).
// Workloads: "spread" (1M rows per table, few conflicts) and "hot" (1,000 rows, many).
// Prints figures only; it asserts nothing about speed.

import type { BinlogValue } from "../src/binlog/types.ts";
import type { LoggedTable } from "../src/events/decode.ts";
import type { Descriptor } from "../src/events/values.ts";
import { type SchedMode, type SchedTx, Scheduler } from "../src/sink/scheduler.ts";
import { WritesetBuilder } from "../src/sink/writeset.ts";
import { mulberry32 } from "../test/support/random.ts";

const N = Number(process.argv[2] ?? 1_000_000);
const WORKERS = 16;

const desc = (k: string): Descriptor => ({ k, m: k, nullable: false }) as Descriptor;
const tables: LoggedTable[] = ["sbtest1", "sbtest2", "sbtest3", "sbtest4"].map((table) => ({
  database: "sbtest",
  table,
  names: ["id", "k", "c"],
  descriptors: [desc("int"), desc("int"), desc("string")],
  key: ["id"],
  version: "0",
}));

function build(rows: number, seed: number): { txs: SchedTx[]; ms: number } {
  const r = mulberry32(seed);
  const b = new WritesetBuilder();
  const txs: SchedTx[] = new Array(N);
  const t0 = performance.now();
  for (let seq = 0; seq < N; seq++) {
    for (let i = 0; i < 4; i++) {
      const id = Math.floor(r() * rows);
      const row: BinlogValue[] = [id, id & 1023, "x"];
      b.add({ table: tables[(seq + i) & 3]!, before: row, after: row });
    }
    const ws = b.take();
    txs[seq] = { seq, keys: ws.keys, barrier: ws.barrier, clock: null };
  }
  return { txs, ms: performance.now() - t0 };
}

async function run(txs: SchedTx[], mode: SchedMode, preserve: boolean): Promise<string> {
  const s = new Scheduler({ mode, preserveCommitOrder: preserve, workers: WORKERS, maxInFlight: 1024 });
  const r = mulberry32(7);
  const started: number[] = [];
  const commitOne = (): boolean => {
    if (started.length === 0) return false;
    let i = Math.floor(r() * started.length);
    if (preserve) {
      i = started.indexOf(s.lowWater());
      if (i < 0) return false;
    }
    const seq = started[i]!;
    started[i] = started[started.length - 1]!;
    started.pop();
    s.committed(seq);
    return true;
  };
  const t0 = performance.now();
  for (let seq = 0; seq < txs.length; seq++) {
    while (!s.hasRoom()) if (!commitOne()) await null;
    s.submit(txs[seq]!).then(() => void started.push(seq));
    if (started.length >= WORKERS / 2) commitOne();
    if ((seq & 31) === 31) await null;
  }
  while (s.lowWater() < txs.length) if (!commitOne()) await null;
  const ms = performance.now() - t0;
  const st = s.stats();
  const tps = Math.round(txs.length / (ms / 1000));
  return (
    `${mode.padEnd(8)} preserve=${String(preserve).padEnd(5)} ${tps.toLocaleString("en").padStart(11)} tx/s ` +
    `(${(ms / 1000).toFixed(2)} s; no wait at submit ${((100 * st.independent) / txs.length).toFixed(1)}%, peak running ${st.peakRunning}, keys left ${st.keys})`
  );
}

console.log(`${N.toLocaleString("en")} transactions of 4 row changes (4 keys), ${WORKERS} simulated workers, maxInFlight 1024`);
for (const [name, rows] of [
  ["spread", 1_000_000],
  ["hot", 1_000],
] as const) {
  const { txs, ms } = build(rows, rows);
  console.log(`${name}: writesets built at ${Math.round(N / (ms / 1000)).toLocaleString("en")} tx/s (${Math.round((4 * N) / (ms / 1000)).toLocaleString("en")} row changes/s)`);
  for (const [mode, preserve] of [
    ["writeset", false],
    ["writeset", true],
    ["serial", false],
  ] as const) {
    console.log(`  ${await run(txs, mode, preserve)}`);
  }
}
