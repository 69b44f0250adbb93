// Flags shared by the subcommands, and the strictness citty leaves to us: an unknown flag is
// a usage error (exit 2), because a runbook with a typo must not run with defaults.

import type { ArgsDef } from "citty";
import { ReplicateError } from "../errors.ts";
import { closest } from "../config/load.ts";

export const configArg = {
  config: {
    type: "string",
    alias: "c",
    description: "path to the TOML configuration file",
    valueHint: "FILE",
    required: true,
  },
} as const satisfies ArgsDef;

export const stopAtEndArg = {
  "stop-at-end": {
    type: "boolean",
    description: "catch up with everything available now, then exit 0",
    default: false,
  },
} as const satisfies ArgsDef;

export function rejectUnknownFlags(rawArgs: string[], defs: ArgsDef): void {
  const known = new Set<string>(["help", "h"]);
  for (const [name, def] of Object.entries(defs)) {
    known.add(name);
    for (const a of ["alias" in def && def.alias ? def.alias : []].flat()) known.add(a);
    if (def.type === "boolean") known.add(`no-${name}`);
  }
  for (const raw of rawArgs) {
    if (raw === "--") break;
    if (!raw.startsWith("-")) continue;
    const name = raw.replace(/^--?/, "").split("=")[0]!;
    if (!known.has(name)) {
      const best = closest(
        name,
        [...known].filter((k) => k.length > 1),
      );
      throw new ReplicateError("USAGE", `unknown option ${raw}${best ? `; did you mean --${best}?` : ""}`, { kind: "config" });
    }
  }
}
