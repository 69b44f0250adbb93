// `copy` handing over through Kafka (the librdkafka mock broker): the hand-over records go into
// the empty topic, `source` continues from them, and the sink takes over from the copy.
import { describe, expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { getKafka, getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { config } from "./support.ts";

describe.each(TARGETS)("copy through Kafka (%s)", (dialect) => {
  test("copy while a writer runs, hand-over in the topic, source and sink: check --data passes", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const kafka = getKafka();
    const name = uniqueName("cpkafka");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB`);
    await c.query(`INSERT INTO ${name}.t SELECT seq, seq FROM ${name}.seq_1_to_20000`);
    await c.query(`ANALYZE TABLE ${name}.t`);
    await pg.createDatabase(name);
    kafka.createTopic(name, 1);
    const cfg = config(db, pg, name, `[transport]\nkind = "kafka"\n[transport.kafka]\nbrokers = ["${kafka.bootstrap}"]\ntopic = "${name}"\ngroup_id = "${name}_sink"`);
    let writing = true;
    const writer = (async () => {
      // Bounded: the librdkafka mock keeps a limited number of records per partition and drops
      // the oldest past it (which the sink rightly reports as lost), so the topic stays small.
      for (let i = 0; writing && i < 1500; i++) {
        await c.query(`UPDATE ${name}.t SET v = v + 1 WHERE id = ${1 + ((i * 7919) % 20000)}`);
        await c.query(`INSERT INTO ${name}.t VALUES (${100_000 + i}, ${i})`);
      }
    })();
    try {
      const copy = await runCli(["copy", "--config", cfg], { timeoutMs: 120_000 });
      expect({ code: copy.code, err: copy.code === 0 ? "" : copy.stderr }).toEqual({ code: 0, err: "" });
      expect(copy.stdout).toContain("in the log: start source on it");
    } finally {
      writing = false;
      await writer;
      await c.end();
    }
    const source = await runCli(["source", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 });
    expect({ code: source.code, err: source.code === 0 ? "" : source.stderr }).toEqual({ code: 0, err: "" });
    expect(source.stderr).toContain("resuming after");
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 });
    expect({ code: sink.code, err: sink.code === 0 ? "" : sink.stderr }).toEqual({ code: 0, err: "" });
    const check = await runCli(["check", "--config", cfg, "--data"], { timeoutMs: 120_000 });
    expect({ code: check.code, out: check.code === 0 ? "" : check.stdout + check.stderr }).toEqual({ code: 0, out: "" });
  }, 240_000);
});
