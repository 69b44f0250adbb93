// `gs-replicate status`: where the source, the log and the sink stand and how far apart they
// are (stdout: lines, or one JSON document with --json); with --wait-caught-up, the wait of a
// cutover runbook: exit 0 once the target has everything the source had committed when the wait
// began, 1 on --timeout (CAUGHT_UP_TIMEOUT, saying where each part stands).

import { defineCommand } from "citty";
import { ReplicateError } from "../errors.ts";
import { readStatus, renderStatus } from "../status/report.ts";
import { waitCaughtUp } from "../status/wait.ts";
import { configArg } from "./args.ts";
import { loadCommandConfig } from "./config.ts";
import { stopSignal } from "../runtime/signals.ts";

const args = {
  ...configArg,
  json: { type: "boolean", description: "print the report as one JSON document on stdout", default: false },
  "wait-caught-up": {
    type: "boolean",
    description: "record the source's position now, then wait until the target has applied everything up to it (exit 0), or --timeout (exit 1)",
    default: false,
  },
  timeout: { type: "string", valueHint: "DURATION", description: "with --wait-caught-up: how long to wait, e.g. 90s, 10m, 1h (default 10m)" },
} as const;

/** "90s", "10m", "1h", or plain seconds, as milliseconds. */
export function parseDuration(text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new ReplicateError("USAGE", `--timeout ${text}: expected a duration such as 90s, 10m or 1h`, { kind: "config" });
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"]!;
  return Math.round(Number(m[1]) * unit);
}

export const statusCommand = defineCommand({
  meta: { name: "status", description: "Where source, log and sink stand and the distance between them; --wait-caught-up for a cutover" },
  args,
  run: async ({ args: a }) => {
    const config = loadCommandConfig(a.config, "status");
    if (a["wait-caught-up"]) {
      await waitCaughtUp(config, parseDuration(a.timeout, 600_000), stopSignal());
    } else if (a.timeout !== undefined) {
      throw new ReplicateError("USAGE", "--timeout goes with --wait-caught-up", { kind: "config" });
    }
    const { report } = await readStatus(config);
    const text = a.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report, config);
    if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once("drain", resolve));
    if (report.unreadable.length > 0) throw new ReplicateError("STATUS_UNREADABLE", `could not read: ${report.unreadable.join("; ")}`);
  },
});
