// The Kafka broker away for a while under a running `source` and `sink`: the source holds back
// (its appends wait for the broker, the binlog queue in front is bounded, so reading from the
// server pauses instead of buffering) and says so on its progress line; the sink waits, and says
// so too; both continue when the broker is back, and the target ends equal to the source.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { pipelineConfig } from "../support/pipeline.ts";
import { getKafka, getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { HOT_LEDGER, hotLedger, sameRows, spawnCli, until } from "./support.ts";

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

describe.each(TARGETS)("Kafka broker outage (%s)", (dialect) => {
  test("20 s without the broker while rows keep coming: source holds back, sink waits, both continue, the target ends equal", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const kafka = getKafka();
    const name = uniqueName("brokerdown");
    const from = await hotLedger(db, pg, name);
    const c = await db.connect();
    const topic = uniqueName("downtopic");
    kafka.createTopic(topic, 1);
    const transport = `[transport]\nkind = "kafka"\n[transport.kafka]\nbrokers = ["${kafka.bootstrap}"]\ntopic = "${topic}"\ngroup_id = "${topic}_sink"`;
    const cfg = await pipelineConfig(db, pg, name, name, from, transport, "workers = 4");
    const source = spawnCli(["source", "--config", cfg]);
    const sink = spawnCli(["sink", "--config", cfg]);

    // One transaction every few milliseconds for the whole test.
    let stop = false;
    let written = 0;
    const load = (async () => {
      while (!stop) {
        const a = written % 10;
        await c.query(`BEGIN; UPDATE ${name}.hot SET n = n + 1 WHERE id = ${a}; INSERT INTO ${name}.ledger VALUES (${written}, ${a}); COMMIT`);
        written++;
        await Bun.sleep(5);
      }
    })();
    let peakRss = 0;
    try {
      await Bun.sleep(6_000);
      expect(source.proc.exitCode).toBeNull();
      expect(sink.proc.exitCode).toBeNull();
      const rssBefore = rssMiB(source.proc.pid);
      kafka.brokerDown();
      const downAt = Date.now();
      try {
        while (Date.now() - downAt < 20_000) {
          peakRss = Math.max(peakRss, rssMiB(source.proc.pid));
          await Bun.sleep(500);
        }
      } finally {
        kafka.brokerUp();
      }
      // Bounded: the source did not buffer the outage's binlog in memory.
      expect(peakRss - rssBefore).toBeLessThan(150);
      await Bun.sleep(5_000);
    } finally {
      stop = true;
      await load;
    }
    await c.end();
    await until("the target equal to the source", () => sameRows(db, pg, name, HOT_LEDGER), 120_000, 500);
    expect(source.proc.exitCode).toBeNull();
    expect(sink.proc.exitCode).toBeNull();
    const so = await source.stop();
    const si = await sink.stop();
    if (process.env.SHOW) console.log(so.stderr, si.stderr, { peakRss, written });
    expect({ code: so.code, errors: so.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
    expect({ code: si.code, errors: si.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
    expect(so.stderr).toMatch(/source: .*waiting for the Kafka brokers \(127\.0\.0\.1:\d+, topic [a-z0-9_]+\) to take the next batch/);
    expect(si.stderr).toMatch(/sink: .*waiting for the Kafka brokers \(127\.0\.0\.1:\d+, topic [a-z0-9_]+\)/);
    expect(written).toBeGreaterThan(1_000);
  }, 180_000);
});
