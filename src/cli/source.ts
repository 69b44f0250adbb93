// `gs-replicate source`: capture the binlog and publish change events.

import { defineCommand } from "citty";
import { ReplicateError } from "../errors.ts";
import { configArg, stopAtEndArg } from "./args.ts";
import { loadCommandConfig } from "./config.ts";

const args = {
  ...configArg,
  ...stopAtEndArg,
  stdout: { type: "boolean", description: "print each change event as one JSON line on stdout instead of publishing", default: false },
} as const;

export const sourceCommand = defineCommand({
  meta: { name: "source", description: "Join MySQL/MariaDB as a replica and publish change events to the ordered log" },
  args,
  run: ({ args: a }) => {
    loadCommandConfig(a.config, "source");
    throw new ReplicateError("INTERNAL", "the source pipeline is not part of this build yet (binlog reader in progress)");
  },
});
