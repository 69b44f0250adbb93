// `gs-replicate cutover`: the end of a migration in one command (src/status/cutover.ts). Each
// step is printed on stderr as it ends; the summary goes to stdout (lines, or --json).

import { defineCommand } from "citty";
import { runCutover } from "../status/cutover.ts";
import { configArg } from "./args.ts";
import { loadCommandConfig } from "./config.ts";
import { parseDuration } from "./status.ts";
import { stopSignal } from "../runtime/signals.ts";

const args = {
  ...configArg,
  json: { type: "boolean", description: "print the summary as one JSON document on stdout", default: false },
  force: { type: "boolean", description: "go on although the source still takes writes (read_only off)", default: false },
  "skip-wait": { type: "boolean", description: "do not wait until the target has caught up", default: false },
  "skip-sequences": { type: "boolean", description: "leave the target's AUTO_INCREMENT sequences as they are", default: false },
  "skip-check": { type: "boolean", description: "do not run check --data at the end", default: false },
  timeout: { type: "string", valueHint: "DURATION", description: "how long to wait until caught up, e.g. 90s, 10m (default 10m)" },
} as const;

export const cutoverCommand = defineCommand({
  meta: { name: "cutover", description: "End the migration: source read-only, caught up, sequences set, data checked" },
  args,
  run: async ({ args: a }) => {
    const config = loadCommandConfig(a.config, "cutover");
    const r = await runCutover({
      config,
      force: a.force,
      skipWait: a["skip-wait"],
      skipSequences: a["skip-sequences"],
      skipCheck: a["skip-check"],
      timeoutMs: parseDuration(a.timeout, 600_000),
      signal: stopSignal(),
    });
    const text = a.json
      ? `${JSON.stringify(r, null, 2)}\n`
      : `${[...r.steps.map((s) => `${s.step}: ${s.status}: ${s.detail}`), r.changed ? "cutover done" : "cutover done: nothing changed (already cut over)"].join("\n")}\n`;
    if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once("drain", resolve));
  },
});
