// Outages and start-up orders on a REAL Kafka 2.4 broker (test/support/kafka-real.ts), for what
// librdkafka's mock cannot show: topic creation that completes asynchronously, a broker process
// that is down when a command starts, Kafka's own kafka-topics.sh. Each command waits out what
// waiting can cure, says so on its progress line, and stops on one SIGTERM with exit 0.
import { beforeAll, describe, expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { getRealKafka, type RealKafka } from "../support/kafka-real.ts";
import { pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { HOT_LEDGER, hotLedger, sameRows, spawnCli, terminate, until, untilLine } from "./support.ts";

let kafka: RealKafka;
// kafka.sh takes from seconds to minutes to start on a loaded machine.
beforeAll(async () => {
  kafka = await getRealKafka();
}, 900_000);

function transport(topic: string, extra = ""): string {
  return `[transport]\nkind = "kafka"\n[transport.kafka]\nbrokers = ["${kafka.bootstrap}"]\ntopic = "${topic}"\ngroup_id = "${topic}_sink"\n${extra}`;
}

const show = (label: string, text: string) => {
  if (process.env.SHOW) console.log(`--- ${label}\n${text}`);
};

describe("check on a real broker", () => {
  test("no kafkajs TimeoutNegativeWarning; the kafka-topics.sh command it suggests runs as printed and makes the topic check accepts", async () => {
    const db = await getMariadb();
    const pg = await getTarget(TARGETS[0]!);
    const name = uniqueName("chk");
    const topic = uniqueName("chk_topic");
    await pg.createDatabase(name);
    const cfg = await pipelineConfig(db, pg, name, name, { file: "x", pos: 4 }, transport(topic, "create_topic = false"));
    const first = await runCli(["check", "--config", cfg]);
    show("check", first.stdout + first.stderr);
    expect(first.stderr).not.toContain("TimeoutNegativeWarning");
    expect(first.stdout).not.toContain("TimeoutNegativeWarning");
    const line = first.stdout.split("\n").find((l) => l.includes("transport.topic")) ?? first.stdout;
    expect(line).toContain("FAIL");
    const command = /kafka-topics\.sh [^)]*/.exec(line)?.[0];
    expect(command).toBeDefined();
    expect(command).toContain(`--bootstrap-server ${kafka.bootstrap}`);
    expect(command).toContain("--partitions 1");
    // One broker: a replication factor above 1 is refused by the cluster.
    expect(command).toContain("--replication-factor 1");
    const [, ...args] = command!.split(" ");
    const made = kafka.run("kafka-topics.sh", args);
    show("kafka-topics.sh", made.out);
    expect(made.code).toBe(0);

    const second = await runCli(["check", "--config", cfg]);
    show("check again", second.stdout + second.stderr);
    expect(second.stdout).toMatch(/ok +transport\.topic/);
    expect(second.stderr).not.toContain("TimeoutNegativeWarning");
  }, 120_000);
});

describe.each(TARGETS)("start-up orders and outages on a real broker (%s)", (dialect) => {
  test("a sink started while the brokers are down waits for them on its progress line, and applies once they are back", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("brkstart");
    const topic = uniqueName("brkstart");
    kafka.createTopic(topic);
    const from = await hotLedger(db, pg, name);
    const cfg = await pipelineConfig(db, pg, name, name, from, transport(topic), "workers = 2");
    kafka.brokerDown();
    let sink;
    try {
      sink = spawnCli(["sink", "--config", cfg]);
      await untilLine(sink, /sink: .*waiting for the Kafka brokers \(127\.0\.0\.1:\d+, topic \w+\)/, "the sink waiting for the brokers", 90_000);
      // Past kafkajs's own retries (~40 s), where it used to give up with exit 1.
      await untilLine(sink, /attempt 2 of \d+/, "a second attempt to reach the brokers", 120_000);
    } finally {
      await kafka.brokerUp();
    }
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 })).code).toBe(0);
    await until("the target equal to the source", () => sameRows(db, pg, name, HOT_LEDGER), 120_000, 500);
    const s = await terminate(sink);
    show("sink", s.stderr);
    expect({ code: s.code, errors: s.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
  }, 400_000);

  test("a sink started before the source created the topic waits for it; started together, neither fails on the new topic", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("notopic");
    const from = await hotLedger(db, pg, name);
    const topic = uniqueName("notopic");
    const cfg = await pipelineConfig(db, pg, name, name, from, transport(topic), "workers = 2");
    const sink = spawnCli(["sink", "--config", cfg]);
    await untilLine(sink, new RegExp(`sink: .*waiting for .*topic "?${topic}"? to be created`), "the sink waiting for the topic");
    const source = spawnCli(["source", "--config", cfg]);
    await until("the target equal to the source", () => sameRows(db, pg, name, HOT_LEDGER), 120_000, 500);
    const si = await terminate(sink);
    const so = await terminate(source);
    show("sink", si.stderr);
    expect({ code: si.code, errors: si.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
    expect({ code: so.code, errors: so.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });

    // Started at the same moment, a few times: the topic is being created while both open it.
    for (let i = 0; i < 3; i++) {
      const name2 = uniqueName("together");
      const from2 = await hotLedger(db, pg, name2);
      const cfg2 = await pipelineConfig(db, pg, name2, name2, from2, transport(name2), "workers = 2");
      const both = [spawnCli(["source", "--config", cfg2]), spawnCli(["sink", "--config", cfg2])];
      await until("the target equal to the source", () => sameRows(db, pg, name2, HOT_LEDGER), 120_000, 500).catch((e: Error) => {
        throw new Error(`${e.message}\n${both.map((p) => p.stderr()).join("\n")}`);
      });
      for (const p of both) {
        const r = await terminate(p);
        show(`together ${i}`, r.stderr);
        expect(r.stderr).not.toContain("does not host this topic-partition");
        expect({ code: r.code, errors: r.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
      }
    }
  }, 400_000);

  test("one SIGTERM while the brokers are away stops source and sink with exit 0", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("brksig");
    const topic = uniqueName("brksig");
    kafka.createTopic(topic);
    const from = await hotLedger(db, pg, name);
    const cfg = await pipelineConfig(db, pg, name, name, from, transport(topic), "workers = 2");
    const source = spawnCli(["source", "--config", cfg]);
    const sink = spawnCli(["sink", "--config", cfg]);
    await until("the target equal to the source", () => sameRows(db, pg, name, HOT_LEDGER), 120_000, 500);
    kafka.brokerDown();
    try {
      const c = await db.connect();
      await c.query(`INSERT INTO ${name}.ledger VALUES (1, 1), (2, 2)`);
      await c.end();
      await untilLine(source, /source: .*waiting for the Kafka brokers/, "the source waiting for the brokers");
      // Into kafkajs's retries on both sides, and for the source past a first pipeline restart.
      await untilLine(source, /restarting from the log's tail in \d+ ms/, "the source restarting its pipeline", 120_000);
      const [so, si] = await Promise.all([terminate(source), terminate(sink)]);
      show("source", `${so.ms} ms\n${so.stderr}`);
      show("sink", `${si.ms} ms\n${si.stderr}`);
      expect({ source: so.code, sink: si.code }).toEqual({ source: 0, sink: 0 });
      expect(so.stderr).not.toContain("again: exiting now");
      expect(si.stderr).not.toContain("again: exiting now");
    } finally {
      await kafka.brokerUp();
    }
  }, 400_000);
});

// Issue 15 item 4: the sink's position is group_id's committed offset, so Kafka's own tools
// show its lag; and the consumer groups each read runs in are deleted when the read ends.
describe.each(TARGETS)("the sink's consumer groups on a real broker (%s)", (dialect) => {
  test("kafka-consumer-groups.sh --describe shows the sink at the log's end with lag 0; no per-read group is left", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("brkgroups");
    const topic = uniqueName("brkgroups");
    kafka.createTopic(topic);
    const from = await hotLedger(db, pg, name);
    const cfg = await pipelineConfig(db, pg, name, name, from, transport(topic), "workers = 2");
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 })).code).toBe(0);
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 });
    expect({ code: sink.code, errors: sink.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
    expect(await sameRows(db, pg, name, HOT_LEDGER)).toBe(true);

    const end = kafka.run("kafka-run-class.sh", ["kafka.tools.GetOffsetShell", "--broker-list", kafka.bootstrap, "--topic", topic, "--time", "-1"]);
    const logEnd = Number(end.out.trim().split(":").at(-1));
    expect(logEnd).toBeGreaterThan(0);
    const described = kafka.run("kafka-consumer-groups.sh", ["--bootstrap-server", kafka.bootstrap, "--describe", "--group", `${topic}_sink`]);
    show("describe", described.out);
    // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG …
    const row = described.out.split("\n").find((l) => l.includes(topic) && l.trim().split(/\s+/)[1] === topic);
    expect(row?.trim().split(/\s+/).slice(1, 6)).toEqual([topic, "0", String(logEnd), String(logEnd), "0"]);

    const listed = kafka.run("kafka-consumer-groups.sh", ["--bootstrap-server", kafka.bootstrap, "--list"]);
    expect(listed.out.split("\n").filter((g) => g.startsWith(`${topic}_sink.`))).toEqual([]);
  }, 300_000);
});
