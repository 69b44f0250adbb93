// `gs-replicate check`: preflight checks and data comparison.

import { defineCommand } from "citty";
import { ReplicateError } from "../errors.ts";
import { configArg } from "./args.ts";
import { loadCommandConfig } from "./config.ts";

const args = {
  ...configArg,
  data: { type: "boolean", description: "compare the data of source and target instead of the preflight checks", default: false },
  json: { type: "boolean", description: "print a machine-readable JSON report on stdout", default: false },
} as const;

export const checkCommand = defineCommand({
  meta: { name: "check", description: "Preflight checks of source, transport and target; --data compares source and target rows" },
  args,
  run: ({ args: a }) => {
    loadCommandConfig(a.config, "check");
    throw new ReplicateError("INTERNAL", "the configuration is valid, but preflight and data checks are not part of this build yet");
  },
});
