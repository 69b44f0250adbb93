// `gs-replicate sink`: replay the ordered log on the target.

import { defineCommand } from "citty";
import { ReplicateError } from "../errors.ts";
import { configArg, stopAtEndArg } from "./args.ts";
import { loadCommandConfig } from "./config.ts";

const args = { ...configArg, ...stopAtEndArg } as const;

export const sinkCommand = defineCommand({
  meta: { name: "sink", description: "Replay the change log on openGauss, in parallel, exactly once" },
  args,
  run: ({ args: a }) => {
    loadCommandConfig(a.config, "sink");
    throw new ReplicateError("INTERNAL", "the sink is not part of this build yet");
  },
});
