// Loads the subcommand's configuration and applies its logging settings; serves its metrics
// while it runs ([metrics], source and sink only).

import pkg from "../../package.json" with { type: "json" };
import { loadConfig, type Command, type LoadOptions } from "../config/load.ts";
import { parseListen } from "../config/listen.ts";
import type { Config } from "../config/types.ts";
import { log, setLogFormat, setLogLevel } from "../runtime/log.ts";
import { serveMetrics } from "../runtime/metrics-server.ts";

export function loadCommandConfig(path: string, command: Command, opts: LoadOptions = {}): Config {
  const { config, warnings } = loadConfig(path, command, opts);
  // The format first: the warnings below are lines of the chosen format already.
  setLogFormat(config.log.format);
  setLogLevel(config.log.level);
  for (const w of warnings) log.warn(w);
  return config;
}

/** Runs `body` with /metrics served when [metrics] is set; the server stops with it. */
export async function withMetrics(config: Config, command: "source" | "sink", body: () => Promise<void>): Promise<void> {
  // Validated at load (load.ts), so it parses.
  const at = config.metrics ? parseListen(config.metrics.listen)! : undefined;
  const server = at ? serveMetrics(at.host, at.port, { command, version: pkg.version }) : undefined;
  try {
    await body();
  } finally {
    server?.stop();
  }
}
