// The harness itself: each real server starts, answers a real round trip, and leaves no
// process behind when stopped. Uses private instances (not the shared ones) so that it can
// check the processes are gone afterwards.
import { describe, expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { isAlive, startMariadb, startPostgres, getKafka, uniqueName } from "../support/servers.ts";

describe("test harness", () => {
  test("MariaDB starts with the binlog on, runs SQL, and stops without leftovers", async () => {
    const db = await startMariadb();
    const pid = db.pid();
    try {
      const c = await db.connect();
      const [rows] = await c.query("SELECT @@log_bin AS log_bin, @@binlog_format AS fmt, @@binlog_row_image AS img, 1+1 AS two");
      await c.query("CREATE DATABASE h; CREATE TABLE h.t (id INT PRIMARY KEY); INSERT INTO h.t VALUES (7)");
      const [back] = await c.query("SELECT id FROM h.t");
      await c.end();
      expect(rows as unknown).toEqual([{ log_bin: 1, fmt: "ROW", img: "FULL", two: 2 }]);
      expect(back as unknown).toEqual([{ id: 7 }]);
      expect(isAlive(pid)).toBe(true);
    } finally {
      await db.stop();
    }
    expect(isAlive(pid)).toBe(false);
  });

  test("PostgreSQL starts, runs SQL, and stops without leftovers", async () => {
    const pg = await startPostgres();
    const pid = pg.pid();
    try {
      await pg.createDatabase("harness");
      const sql = pg.sql("harness");
      await sql`CREATE TABLE t (id int PRIMARY KEY, v text)`;
      await sql`INSERT INTO t VALUES (1, 'x')`;
      const rows = await sql`SELECT id, v, current_database() AS db FROM t`;
      await sql.end();
      expect([...rows]).toEqual([{ id: 1, v: "x", db: "harness" }]);
      expect(isAlive(pid)).toBe(true);
    } finally {
      await pg.stop();
    }
    expect(isAlive(pid)).toBe(false);
  });

  test("Kafka mock produces and consumes on a one-partition topic", async () => {
    const kafka = getKafka();
    const topic = uniqueName("harness");
    kafka.createTopic(topic, 1);
    const client = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING, clientId: "harness" });
    const producer = client.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: "k", value: "one" },
        { key: "k", value: "two" },
      ],
    });
    await producer.disconnect();
    const consumer = client.consumer({ groupId: uniqueName("g") });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          expect(partition).toBe(0);
          got.push(message.value!.toString());
          if (got.length === 2) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(got).toEqual(["one", "two"]);
  });
});
