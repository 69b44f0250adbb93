// The process logger. Everything human goes to stderr so that `source --stdout` keeps stdout
// for change events only. consola picks a plain reporter when stderr is not a terminal.

import { createConsola, type ConsolaInstance } from "consola";

const LEVELS = { error: 0, warn: 1, info: 3, debug: 4 } as const;

export const log: ConsolaInstance = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  level: LEVELS.info,
});

export function setLogLevel(level: keyof typeof LEVELS): void {
  log.level = LEVELS[level];
}
