// `gs-replicate check`: preflight checks, or with --data a comparison of source and target rows.
// Reports go to stdout (lines, or one JSON document with --json); progress and errors to stderr.
// Any failed check or any difference ends with CHECK_FAILED, exit 3.

import { defineCommand } from "citty";
import { ReplicateError } from "../errors.ts";
import { runDataCheck } from "../check/data.ts";
import { renderJson, renderText } from "../check/report.ts";
import { runPreflight, secretsOf } from "../check/run.ts";
import { configArg } from "./args.ts";
import { loadCommandConfig } from "./config.ts";
import { log } from "../runtime/log.ts";
import { stopSignal } from "../runtime/signals.ts";

const args = {
  ...configArg,
  data: { type: "boolean", description: "compare the data of source and target instead of the preflight checks", default: false },
  json: { type: "boolean", description: "print a machine-readable JSON report on stdout", default: false },
  tables: { type: "string", description: "with --data: only these tables, comma-separated db.table names", valueHint: "db.t1,db.t2" },
  "repair-sql": { type: "string", description: "with --data: write to FILE the INSERT/UPDATE/DELETE statements that make the target equal to the source", valueHint: "FILE" },
} as const;

export const checkCommand = defineCommand({
  meta: { name: "check", description: "Preflight checks of source, transport and target; --data compares source and target rows" },
  args,
  run: async ({ args: a }) => {
    const config = loadCommandConfig(a.config, "check");
    const secrets = secretsOf(config);
    if (!a.data) {
      if (a.tables !== undefined || a["repair-sql"] !== undefined) throw new ReplicateError("USAGE", "--tables and --repair-sql go with --data", { kind: "config" });
      const results = await runPreflight(config);
      await writeStdout(a.json ? renderJson(results, secrets) : renderText(results, secrets));
      const failed = results.filter((r) => r.status === "fail");
      if (failed.length > 0) {
        throw new ReplicateError("CHECK_FAILED", `${failed.length} preflight check(s) failed: ${[...new Set(failed.map((r) => r.id))].join(", ")}`, { kind: "check" });
      }
      log.info("preflight passed");
      return;
    }
    if (!config.target)
      throw new ReplicateError("CONFIG_MISSING_KEY", `check --data compares with the target: section [target] is required in ${a.config}`, { kind: "config", where: "target" });
    const tables =
      a.tables === undefined
        ? undefined
        : a.tables
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s.length > 0);
    // A stop ends the comparison's queries on both servers (docs/check.md: stopping it).
    await runDataCheck({ config, tables, repairSql: a["repair-sql"], json: a.json, secrets, write: writeStdout, signal: stopSignal() });
  },
});

async function writeStdout(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once("drain", resolve));
}
