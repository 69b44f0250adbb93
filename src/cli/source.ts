// `gs-replicate source`: capture the binlog and publish change events.

import { defineCommand } from "citty";
import { runSource } from "../source/run.ts";
import { stopSignal } from "../runtime/signals.ts";
import { configArg, stopAtEndArg } from "./args.ts";
import { loadCommandConfig, withMetrics } from "./config.ts";

const args = {
  ...configArg,
  ...stopAtEndArg,
  stdout: { type: "boolean", description: "print each change event as one JSON line on stdout instead of publishing", default: false },
} as const;

export const sourceCommand = defineCommand({
  meta: { name: "source", description: "Join MySQL/MariaDB as a replica and publish change events to the ordered log" },
  args,
  run: async ({ args: a }) => {
    const config = loadCommandConfig(a.config, "source", { stdout: a.stdout });
    await withMetrics(config, "source", () => runSource({ config, stopAtEnd: a["stop-at-end"], stdout: a.stdout, signal: stopSignal() }));
  },
});
