// The text exposition written by src/runtime/metrics.ts: HELP and TYPE lines, label values
// escaped as the format asks, and accepted by Prometheus's own checker (promtool, Debian
// package prometheus: scripts/install-deps.sh).
import { describe, expect, test } from "bun:test";
import { Registry } from "../../src/runtime/metrics.ts";

function promtool(text: string): { code: number; out: string } {
  const r = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: `${r.stdout.toString()}${r.stderr.toString()}` };
}

describe("metrics exposition", () => {
  test("counters and gauges, stored and read at scrape time, with HELP, TYPE and escaped labels", () => {
    const r = new Registry();
    const c = r.counter("gs_replicate_test_things_total", "Things counted, with a \\ backslash\nand a newline", true);
    c.inc({ cause: 'a "quoted"\\ value\nsplit' });
    c.inc({ cause: 'a "quoted"\\ value\nsplit' }, 2);
    c.inc({ cause: "log" });
    const g = r.gauge("gs_replicate_test_waiting", "Waits now", true);
    r.counter("gs_replicate_test_none_total", "Nothing yet");
    g.add(1, { cause: "target" });
    g.add(1, { cause: "target" });
    g.add(-1, { cause: "target" });
    let n = 5;
    r.counterFn("gs_replicate_test_read_total", "Read", () => n);
    r.gaugeFn("gs_replicate_test_absent", "No sample yet", () => undefined);
    r.gaugeFn("gs_replicate_test_inf", "Infinite", () => Infinity);
    n = 7;
    expect(r.expose()).toBe(
      [
        "# HELP gs_replicate_test_absent No sample yet",
        "# TYPE gs_replicate_test_absent gauge",
        "# HELP gs_replicate_test_inf Infinite",
        "# TYPE gs_replicate_test_inf gauge",
        "gs_replicate_test_inf +Inf",
        "# HELP gs_replicate_test_none_total Nothing yet",
        "# TYPE gs_replicate_test_none_total counter",
        "gs_replicate_test_none_total 0",
        "# HELP gs_replicate_test_read_total Read",
        "# TYPE gs_replicate_test_read_total counter",
        "gs_replicate_test_read_total 7",
        "# HELP gs_replicate_test_things_total Things counted, with a \\\\ backslash\\nand a newline",
        "# TYPE gs_replicate_test_things_total counter",
        'gs_replicate_test_things_total{cause="a \\"quoted\\"\\\\ value\\nsplit"} 3',
        'gs_replicate_test_things_total{cause="log"} 1',
        "# HELP gs_replicate_test_waiting Waits now",
        "# TYPE gs_replicate_test_waiting gauge",
        'gs_replicate_test_waiting{cause="target"} 1',
        "",
      ].join("\n"),
    );
    const checked = promtool(r.expose());
    expect(checked.out).toBe("");
    expect(checked.code).toBe(0);
  });

  test("a family got again by name keeps its series; a name the format does not allow is refused", () => {
    const r = new Registry();
    r.counter("gs_replicate_test_total", "x").inc();
    r.counter("gs_replicate_test_total", "x").inc();
    expect(r.expose()).toContain("gs_replicate_test_total 2\n");
    expect(() => r.counter("gs-replicate", "x")).toThrow("not a metric name");
  });

  test("promtool refuses what the format forbids (the checker is not a no-op)", () => {
    expect(promtool('# TYPE x counter\nx{a="b} 1\n').code).not.toBe(0);
  });
});
