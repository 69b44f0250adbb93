// Issue 13, "Done when": an application's schema dump (about 300 tables; foreign keys pointing
// forward in the dump's alphabetical order and a category tree whose rows point at later rows;
// zero-date NOT NULL defaults and rows; triggers, views, routines, an event; FULLTEXT, SPATIAL,
// CHECK; RANGE/LIST/HASH/KEY partitioning; 64-byte index, key and constraint names), written by
// mariadb-dump and loaded with the mariadb client while source and sink run, replicates with no
// intervention under one documented configuration ([sink] zero_date = "null", untranslatable =
// "record"). Then the application writes (its triggers fire on the source). check --data passes
// and target.skipped_objects lists every object the target does not have, exactly once.
import { describe, expect, test } from "bun:test";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { dumpOf, mariadbClient } from "../support/mariadb-tools.ts";
import { appSchema } from "../support/app-schema.ts";
import { spawnCli, until } from "../faults/support.ts";

/**
 * The configuration README recommends for such a schema, chosen before the migration. Two
 * workers: the openGauss of a test run is shared, and each of its sessions (threads of one
 * process) may keep max_files_per_process (1000) files open; a few sessions that each touch
 * every table of this schema exhaust the process's open-file limit.
 */
const SINK = 'zero_date = "null"\nuntranslatable = "record"\nworkers = 2';

interface Check {
  id: string;
  status: string;
  object?: string;
  found: string;
}

const errors = (stderr: string) => stderr.split("\n").filter((l) => l.includes("ERROR"));

describe.each(TARGETS)("an application's schema dump loaded while source and sink run (%s)", (dialect) => {
  test("replicates with no intervention; check --data passes; every object the target lacks is listed once", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("app");
    const stage = `${name}_stage`;
    const schema = appSchema(dialect);
    await pg.createDatabase(name);
    const c = await db.connect();
    const target = pg.sql(name);
    try {
      // Built elsewhere, as the application built it over the years, and dumped by a DBA.
      await c.query(`SET SESSION sql_mode = ''; SET SESSION foreign_key_checks = 0; CREATE DATABASE ${stage}; USE ${stage}`);
      for (const s of schema.statements) await c.query(s);
      const dump = await dumpOf(db, stage, ["--routines", "--events"]);
      expect(dump).toContain("FOREIGN_KEY_CHECKS=0");
      const from = await currentPosition();
      await c.query(`SET SESSION foreign_key_checks = 1; CREATE DATABASE ${name}; USE ${name}`);
      const cfg = await pipelineConfig(db, pg, name, name, from, journalTransport().toml, SINK);
      const source = spawnCli(["source", "--config", cfg]);
      const sink = spawnCli(["sink", "--config", cfg]);
      await mariadbClient(db, [name], dump);
      // The application goes on: its triggers write audit rows and bump versions on the source.
      await c.query(`INSERT INTO orders (account_id, placed, total) VALUES (2, '2025-02-02 02:02:02', 12.00)`);
      await c.query(`UPDATE products SET stock = stock - 1 WHERE id IN (1, 2)`);
      await c.query(`DELETE FROM comments WHERE id = 5`);
      await c.query(`UPDATE store_days SET visitors = visitors + 1 WHERE day = 0; DELETE FROM store_days WHERE store_id = 2 AND day = 0`);
      await c.query(`INSERT INTO event_log (id, message) VALUES (3000, 'after the load'); INSERT INTO sessions (id, account_id) VALUES (6, 1)`);
      await c.query(`CALL restock(3, 5)`);
      await c.query(`CREATE TABLE zz_done (id INT PRIMARY KEY); INSERT INTO zz_done VALUES (1)`);
      // zz_done's CREATE is a barrier: once its row is there, everything before it is applied.
      await until(
        "the sink to apply the marker row",
        async () => (await target.unsafe(`SELECT 1 FROM "${name}"."zz_done" WHERE id = 1`).catch(() => [])).length === 1 || sink.proc.exitCode !== null,
        600_000,
        500,
      );
      const so = await source.stop();
      const si = await sink.stop();
      expect({ code: so.code, errors: errors(so.stderr) }).toEqual({ code: 0, errors: [] });
      expect({ code: si.code, errors: errors(si.stderr) }).toEqual({ code: 0, errors: [] });
      // The log names each of them too, once (a view's stand-in, which the dump creates first, is not reported).
      const logged = [...si.stderr.matchAll(/recorded, not applied: \w+ (\S+?)(?: (\S+))? \(/g)].map((m) => (m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`));
      expect(logged.sort()).toEqual(schema.skipped.map((o) => `${name}.${o.object}`).sort());

      const tables = await target.unsafe(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, [name]);
      expect(tables.map((r) => r.t as string).sort()).toEqual([...schema.tables, "zz_done"].sort());
      if (dialect === "opengauss") {
        const parts = await target.unsafe(`SELECT p.relname AS p FROM pg_partition p WHERE p.parentid = '"${name}".delivery_zones'::regclass AND p.parttype = 'p' ORDER BY 1`);
        expect(parts.map((r) => r.p as string)).toEqual(["america", "europe"]);
      }
      const json = await target.unsafe(`SELECT table_name || '.' || column_name AS c FROM information_schema.columns WHERE table_schema = $1 AND data_type = 'jsonb'`, [name]);
      expect(json.map((r) => r.c as string).sort()).toEqual([...schema.json].sort());

      const data = await runCli(["check", "--config", cfg, "--data"], { timeoutMs: 600_000 });
      expect({ code: data.code, out: data.code === 0 ? "" : data.stdout + data.stderr }).toEqual({ code: 0, out: "" });

      const report = JSON.parse((await runCli(["check", "--config", cfg, "--json"], { timeoutMs: 300_000 })).stdout) as { checks: Check[] };
      const listed = report.checks.filter((r) => r.id === "target.skipped_objects");
      const kinds = new Map<string, number>();
      for (const o of schema.skipped) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
      const counted = [...kinds].map(([kind, n]) => `${n} ${kind}${n === 1 ? "" : kind.endsWith("x") ? "es" : "s"}`);
      expect(listed[0]!.found).toStartWith(`${schema.skipped.length} object(s) from the source are not on the target (`);
      expect(counted.filter((k) => !listed[0]!.found.includes(k))).toEqual([]);
      expect(
        listed
          .slice(1)
          .map((r) => r.object)
          .sort(),
      ).toEqual(schema.skipped.map((o) => `${name}.${o.object}`).sort());
    } finally {
      await c.query(`DROP DATABASE IF EXISTS ${stage}`);
      await c.end();
      await target.end();
    }
  }, 900_000);
});
