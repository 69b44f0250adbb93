// The one topic, made ready before the first read or write, against a small admin port
// (kafka.ts plugs kafkajs into it).
//
// Only `source` creates the topic (when [transport.kafka] create_topic is set): a `sink` that
// finds none is early, not wrong, and reports a retriable error that its start-up waits out.
// Creating a topic completes asynchronously: the controller answers before every broker serves
// the new partition, and a second client that finds the topic listed (or loses the creation
// race with TOPIC_ALREADY_EXISTS) gets "This server does not host this topic-partition" for a
// moment. So both sides then wait, within the transport's retry horizon, until partition 0 has
// a leader and answers an offsets request.

import { ReplicateError } from "../errors.ts";
import {
  backoffMs,
  createTopicCommand,
  type KafkaRetry,
  retryHorizonMs,
  sleep,
  topicMissing,
  topicNotCreated,
  topicNotYet,
  topicPartitions,
  topicSettling,
} from "./kafka-support.ts";

export interface TopicAdmin {
  topics(): Promise<string[]>;
  /** Creates the topic with one partition; false when it existed already. */
  create(topic: string): Promise<boolean>;
  /** Partition count of the topic and the leader of partition 0 (-1: none yet). */
  partitions(topic: string): Promise<{ count: number; leader: number }>;
  offsets(): Promise<unknown>;
  brokerCount(): Promise<number>;
}

interface TopicPlan {
  topic: string;
  brokers: readonly string[];
  /** [transport.kafka] create_topic */
  createTopic: boolean;
  /** The writer may create the topic; the reader waits for it. */
  writer: boolean;
  retry: KafkaRetry;
  signal?: AbortSignal;
}

export async function readyTopic(admin: TopicAdmin, plan: TopicPlan): Promise<void> {
  const { topic, brokers } = plan;
  let command: string | undefined;
  const howToCreate = async (): Promise<string> => (command ??= createTopicCommand(topic, brokers, await admin.brokerCount().catch(() => brokers.length)));
  if (!(await admin.topics()).includes(topic)) {
    if (!plan.writer) throw topicNotYet(topic, brokers, await howToCreate(), plan.createTopic);
    if (!plan.createTopic) throw topicMissing(topic, brokers, await howToCreate());
    try {
      await admin.create(topic);
    } catch (err) {
      if (!topicSettling(err)) throw topicNotCreated(topic, err, await howToCreate());
    }
  }
  const giveUpAt = Date.now() + retryHorizonMs(plan.retry);
  for (let attempt = 0; ; attempt++) {
    let settling: unknown;
    try {
      const { count, leader } = await admin.partitions(topic);
      if (count > 1) throw topicPartitions(topic, count, await howToCreate());
      if (count === 1 && leader >= 0) {
        await admin.offsets();
        return;
      }
    } catch (err) {
      if (!topicSettling(err)) throw err;
      settling = err;
    }
    if (Date.now() > giveUpAt) {
      throw new ReplicateError(
        "TRANSPORT_KAFKA",
        `Kafka topic "${topic}" exists but its partition 0 is not served by any broker of ${brokers.join(", ")}` +
          `${settling ? ` (${(settling as Error).message})` : ""}: check the brokers' logs for that partition's leader`,
        { where: topic, retriable: true, cause: settling },
      );
    }
    await sleep(backoffMs(attempt, plan.retry), plan.signal);
    if (plan.signal?.aborted) throw new ReplicateError("TRANSPORT_KAFKA", `stopped while waiting for topic "${topic}"`, { retriable: true, where: topic });
  }
}
