// The sink's cursor on Kafka: the committed offset of group_id for partition 0. kafka.ts
// supplies the group operations; the rules for saving live here.
//
// A commit needs a member of the group, so the first save joins group_id with a member that
// never fetches and keeps it for later saves. kafkajs returns quietly without committing when
// that member has stopped running (a crash, a rebalance it lost), so every save reads the
// offset back; on any doubt the member is dropped and a fresh one joins.

import { ReplicateError } from "../errors.ts";
import { backoffMs, kafkaFailure, type KafkaRetry, permanent, retryHorizonMs, sleep } from "./kafka-support.ts";

export interface GroupMember {
  commit(offset: bigint): Promise<void>;
  leave(): Promise<void>;
}

export interface GroupPort {
  readonly group: string;
  readonly brokers: readonly string[];
  readonly retry: KafkaRetry;
  /** Joins the group with a member that only commits. */
  join(): Promise<GroupMember>;
  /** The group's committed offset of partition 0, null when it has none. */
  committed(): Promise<bigint | null>;
}

export class GroupCursor {
  private member: Promise<GroupMember> | null = null;

  constructor(private readonly port: GroupPort) {}

  async save(offset: bigint): Promise<void> {
    const { group, brokers, retry } = this.port;
    const giveUpAt = Date.now() + retryHorizonMs(retry);
    for (let attempt = 0; ; attempt++) {
      let failure: unknown;
      try {
        const member = await (this.member ??= this.port.join());
        await member.commit(offset);
        if ((await this.port.committed()) === offset) return;
        failure = new ReplicateError("TRANSPORT_KAFKA", `Kafka did not keep offset ${offset} for group "${group}"`, { retriable: true });
      } catch (err) {
        failure = err;
      }
      // A rebalance (another sink on the same group), a crash or an outage: start over.
      await this.close();
      if (permanent(failure) || Date.now() > giveUpAt) throw kafkaFailure(failure, `saving the cursor of group "${group}"`, brokers);
      await sleep(backoffMs(attempt, retry));
    }
  }

  async load(): Promise<bigint | null> {
    try {
      return await this.port.committed();
    } catch (err) {
      throw kafkaFailure(err, `loading the cursor of group "${this.port.group}"`, this.port.brokers);
    }
  }

  /** Leaves the group (if a save joined it). */
  async close(): Promise<void> {
    const member = this.member;
    this.member = null;
    if (member) await (await member.catch(() => null))?.leave();
  }
}
