// The logger keeps messages as written: MySQL names and statements carry backticks, which
// consola's own reporters read as Markdown and drop.
import { describe, expect, test } from "bun:test";
import { createConsola } from "consola";
import { plainReporter } from "../../src/runtime/log.ts";

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
