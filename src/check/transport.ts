// Preflight of the ordered log: the Kafka topic (one partition, or creatable as such) or the
// journal directory (writable, with room to grow). Nothing is created or written for real.

import { accessSync, constants, existsSync, mkdtempSync, rmSync, statfsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { JournalConfig, KafkaConfig, TransportConfig } from "../config/types.ts";
import { describeTopic } from "../transport/kafka.ts";
import { createTopicCommand } from "../transport/kafka-support.ts";
import { type CheckResult, errorText, fail, notRun, ok, warn } from "./report.ts";

/** Free space below this is reported: a stopped sink lets the journal grow by the binlog's rate. */
const LOW_SPACE_BYTES = 5 * 2 ** 30;

export async function checkTransport(t: TransportConfig): Promise<CheckResult[]> {
  if (t.kind === "kafka") {
    if (!t.kafka) return [fail("transport.kafka", '[transport] kind = "kafka" without [transport.kafka]', "add the [transport.kafka] section")];
    return checkKafka(t.kafka);
  }
  if (!t.journal) return [fail("transport.journal", '[transport] kind = "journal" without [transport.journal]', "add the [transport.journal] section")];
  return checkJournal(t.journal);
}

async function checkKafka(k: KafkaConfig): Promise<CheckResult[]> {
  let facts;
  try {
    facts = await describeTopic(k);
  } catch (err) {
    return [
      fail("transport.kafka", errorText(err), "check [transport.kafka] brokers, TLS and SASL settings and that the brokers are up"),
      notRun("transport.topic", "the brokers could not be reached", "fix transport.kafka first"),
    ];
  }
  const createCmd = createTopicCommand(k.topic, k.brokers, facts.brokers);
  const out = [ok("transport.kafka", `${facts.brokers} broker(s) reachable at ${k.brokers.join(", ")}`)];
  if (facts.exists) {
    if (facts.partitions === 1) out.push(ok("transport.topic", `topic "${k.topic}" has exactly one partition`));
    else
      out.push(
        fail(
          "transport.topic",
          `topic "${k.topic}" has ${facts.partitions} partitions; exactly 1 is required (Kafka orders records only within a partition)`,
          `delete it and recreate it with one partition (${createCmd}), or use another topic name`,
        ),
      );
  } else if (!k.create_topic) {
    out.push(
      fail(
        "transport.topic",
        `topic "${k.topic}" does not exist and create_topic = false`,
        `create it with one partition (${createCmd}) or set [transport.kafka] create_topic = true`,
      ),
    );
  } else if (facts.createRefused === null) {
    out.push(ok("transport.topic", `topic "${k.topic}" does not exist yet; the cluster accepts creating it with one partition (create_topic = true)`));
  } else {
    out.push(
      warn(
        "transport.topic",
        `topic "${k.topic}" does not exist yet, and creating it could not be validated: ${facts.createRefused ?? "unknown reason"}`,
        `create it by hand with one partition (${createCmd})`,
      ),
    );
  }
  return out;
}

function checkJournal(j: JournalConfig): CheckResult[] {
  const out: CheckResult[] = [];
  // The directory may not exist yet: the writer creates it, so its nearest existing ancestor must be writable.
  let existing = j.dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    if (!statSync(existing).isDirectory()) throw new Error(`${existing} is not a directory`);
    accessSync(existing, constants.W_OK | constants.X_OK);
    // access() believes the mode bits; a read-only mount or an ACL only shows when writing.
    rmSync(mkdtempSync(join(existing, ".gsr-check-")), { recursive: true, force: true });
    out.push(ok("transport.journal", existing === j.dir ? `${j.dir} is writable` : `${j.dir} does not exist yet; ${existing} is writable, so it can be created`));
  } catch (err) {
    out.push(
      fail(
        "transport.journal",
        `${j.dir} is not writable: ${errorText(err)}`,
        `create ${j.dir} owned by the user that runs gs-replicate (chmod 700), or change [transport.journal] dir`,
      ),
    );
    return out;
  }
  try {
    const fs = statfsSync(existing);
    const free = fs.bavail * fs.bsize;
    const segment = j.segment_mib * 2 ** 20;
    const gib = (free / 2 ** 30).toFixed(1);
    if (free < 2 * segment)
      out.push(fail("transport.journal_space", `${gib} GiB free, less than two ${j.segment_mib} MiB segments`, `free space on that file system or move [transport.journal] dir`));
    else if (free < LOW_SPACE_BYTES)
      out.push(
        warn(
          "transport.journal_space",
          `${gib} GiB free: the journal grows at the binlog's rate while the sink is behind`,
          "give the journal at least 5 GiB, more for a busy source",
        ),
      );
    else out.push(ok("transport.journal_space", `${gib} GiB free`));
  } catch (err) {
    out.push(notRun("transport.journal_space", `statfs failed: ${errorText(err)}`, "check the file system of [transport.journal] dir"));
  }
  return out;
}
