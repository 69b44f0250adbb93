// `gs-replicate sink`: replay the ordered log on the target.

import { defineCommand } from "citty";
import { runSink } from "../sink/run.ts";
import { configArg, stopAtEndArg } from "./args.ts";
import { loadCommandConfig, withMetrics } from "./config.ts";
import { stopSignal } from "../runtime/signals.ts";

const args = {
  ...configArg,
  ...stopAtEndArg,
  "skip-ddl": {
    type: "string",
    valueHint: "GTID",
    description:
      "after a DDL stopped the sink as incompatible and you applied an equivalent change on the target by hand: record that one transaction (GTID, or binlog file:pos as printed) as applied without running it",
  },
} as const;

export const sinkCommand = defineCommand({
  meta: { name: "sink", description: "Replay the change log on openGauss, in parallel, exactly once" },
  args,
  run: async ({ args: a }) => {
    const config = loadCommandConfig(a.config, "sink");
    await withMetrics(config, "sink", () => runSink({ config, stopAtEnd: a["stop-at-end"], signal: stopSignal(), skipDdl: a["skip-ddl"] }));
  },
});
