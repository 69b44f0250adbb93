// The process logger. Everything human goes to stderr so that `source --stdout` keeps stdout
// for change events only.
//
// One plain line per message, through our own reporter: consola's reporters read `backticks`
// as Markdown and drop them, and MySQL names and statements are full of backticks
// ("DDL applied: ALTER TABLE `db`.`t` …" must reach the operator as written).

import { formatWithOptions } from "node:util";
import { createConsola, type ConsolaInstance, type ConsolaReporter } from "consola";

const LEVELS = { error: 0, warn: 1, info: 3, debug: 4 } as const;

/** A reporter writing "ERROR …", "WARN …", "ℹ …" lines (coloured tags on a terminal) to `write`. */
export function plainReporter(write: (line: string) => void, colour = false): ConsolaReporter {
  const paint = (code: number, s: string) => (colour ? `\u001b[${code}m${s}\u001b[0m` : s);
  return {
    log(o) {
      const tag = o.level <= 0 ? paint(31, "ERROR") : o.level === 1 ? paint(33, "WARN") : o.level <= 3 ? paint(36, "ℹ") : "debug";
      write(`${tag} ${formatWithOptions({ colors: false }, ...o.args)}\n`);
    },
  };
}

export const log: ConsolaInstance = createConsola({
  level: LEVELS.info,
  reporters: [plainReporter((line) => process.stderr.write(line), process.stderr.isTTY === true && !process.env.NO_COLOR)],
});

export function setLogLevel(level: keyof typeof LEVELS): void {
  log.level = LEVELS[level];
}
