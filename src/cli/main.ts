#!/usr/bin/env bun
// Entry point of the gs-replicate binary. citty parses; this file owns the exit-code
// contract (docs/usage.md): 0 ok, 1 runtime failure, 2 configuration or usage, 3 check
// found a problem. citty's own runMain exits 1 on usage errors, so it is not used.

import { defineCommand, renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { describeError, exitCodeFor, EXIT, ReplicateError } from "../errors.ts";
import { errorFields, log } from "../runtime/log.ts";
import { noteError } from "../runtime/metrics.ts";
import { rejectUnknownFlags } from "./args.ts";
import { sourceCommand } from "./source.ts";
import { sinkCommand } from "./sink.ts";
import { checkCommand } from "./check.ts";
import { copyCommand } from "./copy.ts";
import { cutoverCommand } from "./cutover.ts";
import { statusCommand } from "./status.ts";

const subCommands = { source: sourceCommand, sink: sinkCommand, check: checkCommand, copy: copyCommand, status: statusCommand, cutover: cutoverCommand } as const;

const FOOTER = `Exit codes: 0 ok; 1 runtime failure; 2 bad configuration or usage; 3 check found a problem.
Configuration: one TOML file per command; every key is documented in docs/configuration.md.`;

export const mainCommand = defineCommand({
  meta: {
    name: "gs-replicate",
    version: pkg.version,
    description: "Online migration from MySQL/MariaDB to openGauss: capture the binlog, replay it in parallel, check the result",
  },
  subCommands,
});

export async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (argv.length === 1 && (first === "--version" || first === "-v")) {
    process.stdout.write(`${pkg.version}\n`);
    return EXIT.ok;
  }
  const sub = first !== undefined && first in subCommands ? subCommands[first as keyof typeof subCommands] : undefined;
  if (argv.includes("--help") || argv.includes("-h") || argv.length === 0) {
    const usage = await renderUsage((sub ?? mainCommand) as CommandDef, sub ? (mainCommand as CommandDef) : undefined);
    const text = `${usage}\n\n${FOOTER}\n`;
    process.stdout.write(process.stdout.isTTY ? text : Bun.stripANSI(text));
    return argv.length === 0 ? EXIT.config : EXIT.ok;
  }
  try {
    if (!sub) throw new ReplicateError("USAGE", `unknown command "${first}"; expected one of: ${Object.keys(subCommands).join(", ")}`, { kind: "config" });
    rejectUnknownFlags(argv.slice(1), (sub.args ?? {}) as ArgsDef);
    await runCommand(mainCommand, { rawArgs: argv });
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    const usage = err instanceof Error && err.name === "CLIError";
    if (!usage) noteError(err);
    log.error({ message: usage ? err.message : describeError(err), ...errorFields(err) });
    if (usage || (err instanceof ReplicateError && err.code === "USAGE")) {
      process.stderr.write(`Run "gs-replicate ${sub ? `${first} ` : ""}--help" for usage.\n`);
      return EXIT.config;
    }
    if (process.env.GS_REPLICATE_DEBUG && err instanceof Error) log.debug(err);
    return exitCodeFor(err);
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
