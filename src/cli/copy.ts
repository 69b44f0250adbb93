// `gs-replicate copy`: the target schema and the initial copy, handed over to `source`.
// The summary goes to stdout (a few lines, or one JSON document with --json); progress and
// errors to stderr.

import { defineCommand } from "citty";
import { runCopy, type CopyReport } from "../copy/run.ts";
import { configArg } from "./args.ts";
import { loadCommandConfig } from "./config.ts";
import { stopSignal } from "../runtime/signals.ts";

const args = {
  ...configArg,
  json: { type: "boolean", description: "print the summary as one JSON document on stdout", default: false },
  "skip-object": {
    type: "string",
    valueHint: "NAME,…",
    description:
      "objects the target cannot get exactly (FULLTEXT/SPATIAL/functional indexes, CHECKs, partitioning), as copy named them (db.table.object): go on without them; each is recorded in gs_replicate.skipped_objects",
  },
  "truncate-existing": { type: "boolean", description: "empty target tables of the copy that already hold rows no copy recorded, instead of refusing", default: false },
  "allow-non-transactional": {
    type: "boolean",
    description: "copy MyISAM/Aria/MEMORY tables too: you make sure nothing writes to them while copy runs (no snapshot can read them consistently)",
    default: false,
  },
} as const;

export const copyCommand = defineCommand({
  meta: { name: "copy", description: "Create the target schema and copy the data consistently, handing over to source at the exact position" },
  args,
  run: async ({ args: a }) => {
    const config = loadCommandConfig(a.config, "copy");
    const skip = new Set(
      (a["skip-object"] ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    );
    const report = await runCopy({
      config,
      skipObjects: skip,
      truncateExisting: a["truncate-existing"],
      allowNonTransactional: a["allow-non-transactional"],
      signal: stopSignal(),
    });
    const text = a.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report);
    if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once("drain", resolve));
  },
});

function renderReport(r: CopyReport): string {
  const at = `${r.handover.file}:${r.handover.pos}${r.handover.gtid ? ` (GTID ${r.handover.gtid})` : ""}`;
  const lines = [
    `copy ${r.status === "copied" ? "finished" : "already complete"}: ${r.tables} tables, ${r.rows.toLocaleString("en")} rows, ${(r.bytes / 1048576).toFixed(1)} MB in ${r.seconds.toFixed(1)} s`,
    `snapshot: ${r.snapshot ?? "none needed"}${r.lockHeldMs !== null ? `, global read lock held ${r.lockHeldMs} ms` : ", no lock"}`,
    r.handoverInLog
      ? `hand-over: ${at}, in the log: start source on it`
      : `hand-over: ${at}: no [transport] given, so set [source] start = "file:${r.handover.file}:${r.handover.pos}" for source`,
    ...r.notMigrated.map((o) => `not migrated: ${o.kind} ${o.name}: at cutover: ${o.cutover}`),
  ];
  return `${lines.join("\n")}\n`;
}
