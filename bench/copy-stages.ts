// Where a copy worker's time goes: `bun run bench/copy-stages.ts [--rows 250000] [--repeat 3]`.
//
// One sysbench table on a throwaway MariaDB, read by one worker the way src/copy/load.ts reads
// a chunk, in stages that each add one step to the previous one (the same SELECT each time):
//   read    mysql2's streaming SELECT, rows counted (protocol and mysql2's row parsing)
//   decode  + rows.ts decode (the binlog layer's values)
//   text    + copy-text.ts copyText (toParam and COPY escaping), lines gathered as load.ts does
//   copy    loadChunk itself into a throwaway PostgreSQL (the COPY write and the server)
// The difference between two stages is the cost of the step it adds. Each stage runs --repeat
// times and the fastest is printed (the machine is shared); this process's CPU time (user +
// system) tells the client's own cost from the servers' and other load. `--cpu-prof` on bun's command line
// gives the functions behind them.

import { tmpdir } from "node:os";
import { BinlogConnection } from "../src/binlog/connection.ts";
import { SchemaHistory } from "../src/binlog/schema.ts";
import { copyText } from "../src/copy/copy-text.ts";
import { loadChunk } from "../src/copy/load.ts";
import { QUERY_OPTIONS, rowReader, SESSION_SETUP } from "../src/copy/rows.ts";
import { sourceConfigFor } from "../test/support/binlog.ts";
import { startMariadb, startPostgres } from "../test/support/servers.ts";

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const ROWS = flag("--rows", 250_000);
const REPEAT = flag("--repeat", 3);
const say = (s: string) => console.log(s);

const db = await startMariadb({ extraArgs: ["--innodb-buffer-pool-size=512M"] });
const pg = await startPostgres();
try {
  const admin = await db.connect();
  await admin.query("CREATE DATABASE sbtest");
  await admin.end();
  const prep = Bun.spawnSync(
    ["sysbench", "oltp_write_only", "--db-driver=mysql", "--mysql-host=127.0.0.1", `--mysql-port=${db.port}`, "--mysql-user=root", "--mysql-password=", "--mysql-db=sbtest"].concat(
      [`--tables=1`, `--table-size=${ROWS}`, "prepare"],
    ),
    { stdout: "pipe", stderr: "pipe" },
  );
  if (prep.exitCode !== 0) throw new Error(`sysbench prepare: ${prep.stderr.toString()}`);
  const src = await sourceConfigFor(db, { databases: ["sbtest"] });
  const conn = await BinlogConnection.open(src);
  for (const s of SESSION_SETUP) await conn.query(s);
  const history = await SchemaHistory.snapshot((q) => conn.query(q), ["sbtest"]);
  const def = history.table("sbtest", "sbtest1")!;
  const reader = rowReader(def, conn.info.flavour);
  const select = `SELECT ${reader.selectList} FROM sbtest.sbtest1`;
  const inKey = def.columns.map((c) => c.name === "id");
  const ctx = { zeroDate: "error" as const };
  const where = () => "sbtest.sbtest1";

  await pg.createDatabase("stages");
  const sql = pg.productSql("stages");
  await sql.unsafe("CREATE SCHEMA sbtest");
  await sql.unsafe("CREATE TABLE sbtest.sbtest1 (id integer PRIMARY KEY, k integer NOT NULL, c char(120) NOT NULL, pad char(60) NOT NULL)");

  const stages: Record<string, () => Promise<number>> = {
    read: async () => {
      let n = 0;
      for await (const batch of conn.streamRowBatches({ sql: select, ...QUERY_OPTIONS })) n += batch.length;
      return n;
    },
    decode: async () => {
      let n = 0;
      for await (const batch of conn.streamRowBatches({ sql: select, ...QUERY_OPTIONS })) for (const row of batch) if (reader.decode(row)) n++;
      return n;
    },
    text: async () => {
      let n = 0;
      let pending = "";
      for await (const batch of conn.streamRowBatches({ sql: select, ...QUERY_OPTIONS })) {
        for (const row of batch) pending += copyText(reader.descriptors, reader.decode(row), ctx, inKey, where);
        if (pending.length >= 256 * 1024) pending = "";
        n += batch.length;
      }
      return n;
    },
    copy: async () => {
      await sql.unsafe("TRUNCATE sbtest.sbtest1");
      const view = { conn, at: { file: "x", pos: 4 } } as never;
      const table = { database: "sbtest", table: "sbtest1", def } as never;
      // The ledger row fails (no ledger here) once the COPY has finished, which rolls the rows back: a few ms.
      let n = 0;
      await loadChunk(view, sql, { table, split: null, chunk: { chunk: 1 } as never }, {}, ctx, (rows) => (n += rows)).catch(() => undefined);
      return n;
    },
  };
  say(`copy stages, one worker, ${ROWS.toLocaleString("en")} sysbench rows (best of ${REPEAT}); tmp ${tmpdir()}`);
  let previous = 0;
  for (const [name, run] of Object.entries(stages)) {
    let best = Infinity;
    let bestCpu = Infinity;
    let rows = 0;
    for (let i = 0; i < REPEAT; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      rows = await run();
      const c1 = process.cpuUsage(c0);
      best = Math.min(best, performance.now() - t0);
      bestCpu = Math.min(bestCpu, (c1.user + c1.system) / 1000);
    }
    say(
      `  ${name.padEnd(7)} wall ${(best / 1000).toFixed(2)} s (${Math.round(rows / (best / 1000)).toLocaleString("en")} rows/s), this process's CPU ${(bestCpu / 1000).toFixed(2)} s ` +
        `(+${((bestCpu - previous) / 1000).toFixed(2)} s for this step, ${((1000 * (bestCpu - previous)) / rows).toFixed(2)} µs/row)${rows === ROWS ? "" : ` ROWS ${rows}`}`,
    );
    previous = bestCpu;
  }
  conn.close();
  await sql.end();
} finally {
  await db.stop();
  await pg.stop();
}
