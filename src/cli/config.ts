// Loads the subcommand's configuration and applies its logging settings.

import { loadConfig, type Command, type LoadOptions } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { log, setLogLevel } from "../runtime/log.ts";

export function loadCommandConfig(path: string, command: Command, opts: LoadOptions = {}): Config {
  const { config, warnings } = loadConfig(path, command, opts);
  setLogLevel(config.log.level);
  for (const w of warnings) log.warn(w);
  return config;
}
