// Randomized rounds of DML and DDL (add, drop, move, rename and retype columns) on several
// tables, with `source` stopped, killed -9 or stopped cleanly around them, and the source server
// restarted under a following `source` (its in-process reconnect); after every round source and
// sink catch up and every table on the target equals the source, column by column, by name.
// Once with binlog_row_metadata=NO_LOG (the schema history decodes every row) and once with
// FULL. Issue 13 (1): a history that a restart no longer pointed at decoded older rows with
// today's columns. GSR_HISTORY_ROUNDS sets the rounds (a longer soak), GSR_HISTORY_SEED the seed.
import { afterAll, describe, expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { mulberry32 } from "../support/random.ts";
import { getTarget, startMariadb, TARGETS, uniqueName, type MariaDb, type Target } from "../support/servers.ts";
import { spawnCli } from "../faults/support.ts";

const ROUNDS = Number(process.env.GSR_HISTORY_ROUNDS ?? 6);
const SEED = Number(process.env.GSR_HISTORY_SEED ?? 20261202);
const TABLES = ["t0", "t1", "t2"];

interface Col {
  name: string;
  type: "INT" | "BIGINT" | "VARCHAR(20)" | "VARCHAR(40)";
}

/** The source's columns as the test changes them (id first is not kept: columns move). */
class Model {
  readonly cols = new Map<string, Col[]>(
    TABLES.map((t) => [
      t,
      [
        { name: "a", type: "INT" },
        { name: "b", type: "VARCHAR(20)" },
      ],
    ]),
  );
  private next = 0;
  private ids = new Map<string, number>(TABLES.map((t) => [t, 0]));
  constructor(private readonly rnd: () => number) {}

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  value(c: Col): string {
    if (this.rnd() < 0.1) return "NULL";
    return c.type.startsWith("VARCHAR") ? `'v${Math.floor(this.rnd() * 1000)}'` : String(Math.floor(this.rnd() * 2_000_000) - 1_000_000);
  }

  dml(db: string): string[] {
    const out: string[] = [];
    for (let k = 0; k < 6; k++) {
      const t = this.pick(TABLES);
      const cols = this.cols.get(t)!;
      const r = this.rnd();
      const last = this.ids.get(t)!;
      if (r < 0.6 || last === 0) {
        const id = last + 1;
        this.ids.set(t, id);
        out.push(`INSERT INTO ${db}.${t} (id, ${cols.map((c) => c.name).join(", ")}) VALUES (${id}, ${cols.map((c) => this.value(c)).join(", ")})`);
      } else if (r < 0.85) {
        const c = this.pick(cols);
        out.push(`UPDATE ${db}.${t} SET ${c.name} = ${this.value(c)} WHERE id = ${1 + Math.floor(this.rnd() * last)}`);
      } else {
        out.push(`DELETE FROM ${db}.${t} WHERE id = ${1 + Math.floor(this.rnd() * last)}`);
      }
    }
    return out;
  }

  ddl(db: string): string {
    const t = this.pick(TABLES);
    const cols = this.cols.get(t)!;
    const kind = this.pick(["add", "drop", "move", "rename", "retype"] as const);
    const place = (without: string) => {
      const others = ["id", ...cols.map((c) => c.name)].filter((n) => n !== without);
      return this.rnd() < 0.2 ? " FIRST" : ` AFTER ${this.pick(others)}`;
    };
    if (kind === "drop" && cols.length > 1) {
      const c = this.pick(cols);
      cols.splice(cols.indexOf(c), 1);
      return `ALTER TABLE ${db}.${t} DROP COLUMN ${c.name}`;
    }
    if (kind === "move") {
      const c = this.pick(cols);
      return `ALTER TABLE ${db}.${t} MODIFY ${c.name} ${c.type}${place(c.name)}`;
    }
    if (kind === "rename") {
      const c = this.pick(cols);
      const name = `c${++this.next}`;
      const sql = `ALTER TABLE ${db}.${t} CHANGE ${c.name} ${name} ${c.type}${this.rnd() < 0.5 ? place(c.name) : ""}`;
      c.name = name;
      return sql;
    }
    if (kind === "retype") {
      const c = cols.find((x) => x.type === "INT" || x.type === "VARCHAR(20)");
      if (c) {
        c.type = c.type === "INT" ? "BIGINT" : "VARCHAR(40)";
        return `ALTER TABLE ${db}.${t} MODIFY ${c.name} ${c.type}`;
      }
    }
    const c: Col = { name: `c${++this.next}`, type: this.rnd() < 0.5 ? "INT" : "VARCHAR(20)" };
    cols.push(c);
    return `ALTER TABLE ${db}.${t} ADD COLUMN ${c.name} ${c.type}${this.rnd() < 0.5 ? place(c.name) : ""}`;
  }
}

/** Every table on both sides as sorted JSON rows keyed by column name. */
async function snapshot(db: MariaDb, target: Target, name: string): Promise<{ src: string[]; dst: string[] }> {
  const c = await db.connect();
  const sql = target.sql(name);
  try {
    const src: string[] = [];
    const dst: string[] = [];
    const norm = (t: string, r: Record<string, unknown>) =>
      `${t} ${JSON.stringify(
        Object.fromEntries(
          Object.keys(r)
            .sort()
            .map((k) => [k, r[k] === null ? null : String(r[k])]),
        ),
      )}`;
    for (const t of TABLES) {
      const [rows] = (await c.query(`SELECT * FROM ${name}.${t} ORDER BY id`)) as unknown as [Array<Record<string, unknown>>];
      src.push(...rows.map((r) => norm(t, r)));
      dst.push(...(await sql.unsafe(`SELECT * FROM "${name}"."${t}" ORDER BY id`)).map((r) => norm(t, r as Record<string, unknown>)));
    }
    return { src, dst };
  } finally {
    await c.end();
    await sql.end();
  }
}

const servers: MariaDb[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

const dialect = TARGETS.includes("postgresql") ? "postgresql" : "opengauss";

describe("schema history under random DDL and restarts", () => {
  for (const metadata of ["NO_LOG", "FULL"] as const) {
    test(
      `binlog_row_metadata=${metadata}: ${ROUNDS} rounds, the target equals the source after each`,
      async () => {
        const db = await startMariadb({
          binlogArgs: ["--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-image=FULL", `--binlog-row-metadata=${metadata}`, "--gtid-strict-mode=ON"],
        });
        servers.push(db);
        const target = await getTarget(dialect);
        const rnd = mulberry32(SEED + (metadata === "FULL" ? 1 : 0));
        const model = new Model(rnd);
        const name = uniqueName("hist");
        await target.createDatabase(name);
        let c = await db.connect();
        const [[p]] = (await c.query("SHOW MASTER STATUS")) as unknown as [[{ File: string; Position: number }]];
        const j = journalTransport();
        const cfg = await pipelineConfig(db, target, name, name, { file: p.File, pos: p.Position }, j.toml, "workers = 4");
        // The first start pins the position before the tables exist (the sink creates them); the
        // database must exist (source refuses a [source] databases entry the server does not have).
        await c.query(`CREATE DATABASE ${name}`);
        expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
        for (const t of TABLES) await c.query(`CREATE TABLE ${name}.${t} (id INT PRIMARY KEY, a INT, b VARCHAR(20))`);
        const work = async (n: number) => {
          for (let k = 0; k < n; k++) {
            for (const s of model.dml(name)) await c.query(s);
            if (rnd() < 0.5) await c.query(model.ddl(name));
          }
        };
        const log: string[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
          const mode = model.pick(["stopped", "kill", "term", "server"] as const);
          log.push(`round ${round}: ${mode}`);
          if (mode === "stopped") {
            await work(4);
          } else {
            const src = spawnCli(["source", "--config", cfg]);
            await Bun.sleep(300 + Math.floor(rnd() * 500));
            await work(2);
            if (mode === "server") {
              await c.end().catch(() => undefined);
              await db.restart();
              c = await db.connect();
            }
            await work(2);
            await Bun.sleep(Math.floor(rnd() * 800));
            if (mode === "kill") src.proc.kill("SIGKILL");
            const end = await src.stop();
            if (mode !== "kill") expect({ round, mode, code: end.code, errors: end.stderr.includes("ERROR") ? end.stderr : "" }).toEqual({ round, mode, code: 0, errors: "" });
            await work(2); // and more while it is stopped
          }
          const s = await runCli(["source", "--config", cfg, "--stop-at-end"]);
          expect({ round, source: s.code, err: s.code ? s.stderr : "" }).toEqual({ round, source: 0, err: "" });
          const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
          expect({ round, sink: k.code, err: k.code ? k.stderr : "" }).toEqual({ round, sink: 0, err: "" });
          const { src, dst } = await snapshot(db, target, name);
          expect({ round, modes: log.join("; "), dst }).toEqual({ round, modes: log.join("; "), dst: src });
        }
        await c.end();
      },
      60_000 + ROUNDS * 30_000,
    );
  }
});
