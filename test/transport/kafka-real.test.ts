// The Kafka transport on a REAL broker (test/support/kafka-real.ts), where creating a topic
// completes asynchronously: the controller answers before the broker serves the new partition.
import { beforeAll, describe, expect, test } from "bun:test";
import type { KafkaConfig } from "../../src/config/types.ts";
import { describeError, ReplicateError } from "../../src/errors.ts";
import { openKafkaReader, openKafkaWriter } from "../../src/transport/kafka.ts";
import { getRealKafka, type RealKafka } from "../support/kafka-real.ts";
import { uniqueName } from "../support/servers.ts";

let kafka: RealKafka;
// kafka.sh takes from seconds to minutes to start on a loaded machine.
beforeAll(async () => {
  kafka = await getRealKafka();
}, 900_000);

function config(topic: string): KafkaConfig {
  return { brokers: [kafka.bootstrap], topic, client_id: "gsr-test", group_id: uniqueName("g"), create_topic: true };
}

describe("Kafka transport on a real broker: new topics", () => {
  test("a reader finds no topic: a retriable TRANSPORT_TOPIC saying source creates it, and nothing is created", async () => {
    const topic = uniqueName("absent");
    const err = await openKafkaReader(config(topic)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReplicateError);
    const e = err as ReplicateError;
    expect({ code: e.code, retriable: e.retriable }).toEqual({ code: "TRANSPORT_TOPIC", retriable: true });
    expect(e.message).toContain("does not exist yet");
    expect(e.message).toContain("gs-replicate source");
    const list = kafka.run("kafka-topics.sh", ["--bootstrap-server", kafka.bootstrap, "--list"]);
    expect(list.out.split("\n")).not.toContain(topic);
  }, 60_000);

  test("a writer and a reader opened at the same moment on a new topic both open (no 'does not host this topic-partition')", async () => {
    const failures: string[] = [];
    for (let i = 0; i < 5; i++) {
      const cfg = config(uniqueName("race"));
      // The reader starts as the writer creates the topic; it retries until the topic is listed.
      const writer = openKafkaWriter(cfg);
      const reader = (async () => {
        for (;;) {
          try {
            return await openKafkaReader(cfg);
          } catch (e) {
            if (!(e instanceof ReplicateError && e.code === "TRANSPORT_TOPIC" && e.retriable)) throw e;
            await Bun.sleep(5);
          }
        }
      })();
      for (const r of await Promise.allSettled([writer, reader])) {
        if (r.status === "rejected") failures.push(describeError(r.reason));
        else await r.value.close();
      }
    }
    expect(failures).toEqual([]);
  }, 180_000);
});
