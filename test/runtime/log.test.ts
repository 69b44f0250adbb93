// The logger keeps messages as written: MySQL names and statements carry backticks, which
// consola's own reporters read as Markdown and drop.
import { describe, expect, test } from "bun:test";
import { createConsola } from "consola";
import { errorFields, jsonReporter, plainReporter } from "../../src/runtime/log.ts";
import { ReplicateError } from "../../src/errors.ts";

function capture(colour = false) {
  const lines: string[] = [];
  const c = createConsola({ level: 3, reporters: [plainReporter((l) => lines.push(l), colour)] });
  return { c, lines };
}

describe("log lines", () => {
  test("backticks, tags and levels", () => {
    const { c, lines } = capture();
    c.info("DDL applied: ALTER TABLE `shop`.`order` ADD COLUMN `x` INT");
    c.warn("table `a`.`b`: no primary key");
    c.error("stopped: %s at %d", "GTID 0-1-7", 42);
    c.debug("not shown at level info");
    expect(lines).toEqual(["ℹ DDL applied: ALTER TABLE `shop`.`order` ADD COLUMN `x` INT\n", "WARN table `a`.`b`: no primary key\n", "ERROR stopped: GTID 0-1-7 at 42\n"]);
  });

  test("a terminal gets coloured tags, the text stays as written", () => {
    const { c, lines } = capture(true);
    c.warn("`x`");
    expect(lines).toEqual(["\u001b[33mWARN\u001b[0m `x`\n"]);
  });
});

describe("[log] format = json", () => {
  test("one JSON object per line: time (ISO 8601), level, message, and the code, where and position a call gives", () => {
    const lines: string[] = [];
    const c = createConsola({ level: 3, reporters: [jsonReporter((l) => lines.push(l))] });
    const err = new ReplicateError("SOURCE_POSITION_PURGED", "gone", { where: "mariadb-bin.000001:4" });
    c.error({ message: "stopped: `db`.`t`\nsecond line", ...errorFields(err) });
    c.info({ message: "sink: 0 events/s", position: "0-1-7" });
    c.warn("plain %s", "args");
    c.debug("not shown at level info");
    expect(lines.every((l) => l.endsWith("}\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    const parsed = lines.map((l) => JSON.parse(l));
    for (const p of parsed) expect(new Date(p.time).toISOString()).toBe(p.time);
    expect(parsed.map(({ time: _, ...rest }) => rest)).toEqual([
      { level: "error", message: "stopped: `db`.`t`\nsecond line", code: "SOURCE_POSITION_PURGED", where: "mariadb-bin.000001:4" },
      { level: "info", message: "sink: 0 events/s", position: "0-1-7" },
      { level: "warn", message: "plain args" },
    ]);
    expect(errorFields(new Error("x"))).toEqual({});
  });
});
