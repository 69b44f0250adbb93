// The process logger. Everything human goes to stderr so that `source --stdout` keeps stdout
// for change events only.
//
// One plain line per message, through our own reporter: consola's reporters read `backticks`
// as Markdown and drop them, and MySQL names and statements are full of backticks
// ("DDL applied: ALTER TABLE `db`.`t` …" must reach the operator as written).
// `[log] format = "json"` swaps in a reporter writing one JSON object per line, for log
// collectors: time, level, message, and the fields a call passes beside its message
// (log.warn({ message, ...errorFields(err) }): the error's code and where; the progress line's position).

import { formatWithOptions } from "node:util";
import { createConsola, type ConsolaInstance, type ConsolaReporter, type LogObject } from "consola";
import { ReplicateError } from "../errors.ts";

const LEVELS = { error: 0, warn: 1, info: 3, debug: 4 } as const;

/** Fields a call may give beside its message, copied to a JSON line when set. */
const FIELDS = ["code", "where", "position"] as const;

const text = (o: LogObject) => formatWithOptions({ colors: false }, ...o.args);

/** A reporter writing "ERROR …", "WARN …", "ℹ …" lines (coloured tags on a terminal) to `write`. */
export function plainReporter(write: (line: string) => void, colour = false): ConsolaReporter {
  const paint = (code: number, s: string) => (colour ? `\u001b[${code}m${s}\u001b[0m` : s);
  return {
    log(o) {
      const tag = o.level <= 0 ? paint(31, "ERROR") : o.level === 1 ? paint(33, "WARN") : o.level <= 3 ? paint(36, "ℹ") : "debug";
      write(`${tag} ${text(o)}\n`);
    },
  };
}

/** A reporter writing one JSON object per line: {"time","level","message"} and the FIELDS the call set. */
export function jsonReporter(write: (line: string) => void): ConsolaReporter {
  return {
    log(o) {
      const level = o.level <= 0 ? "error" : o.level === 1 ? "warn" : o.level <= 3 ? "info" : "debug";
      const line: Record<string, unknown> = { time: o.date.toISOString(), level, message: text(o) };
      const given = o as unknown as Record<string, unknown>;
      for (const f of FIELDS) if (typeof given[f] === "string") line[f] = given[f];
      write(`${JSON.stringify(line)}\n`);
    },
  };
}

const toStderr = (line: string) => void process.stderr.write(line);

export const log: ConsolaInstance = createConsola({
  level: LEVELS.info,
  reporters: [plainReporter(toStderr, process.stderr.isTTY === true && !process.env.NO_COLOR)],
});

export function setLogLevel(level: keyof typeof LEVELS): void {
  log.level = LEVELS[level];
}

export function setLogFormat(format: "plain" | "json"): void {
  if (format === "json") log.setReporters([jsonReporter(toStderr)]);
}

/** The code and where of a ReplicateError, to log beside a message about it (JSON lines carry them). */
export function errorFields(err: unknown): { code?: string; where?: string } {
  return err instanceof ReplicateError ? { code: err.code, where: err.where } : {};
}
