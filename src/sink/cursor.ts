// The sink's position published in the log's own terms, so the usual tools show it: on Kafka,
// the committed offset of `[transport.kafka] group_id` (kafka-consumer-groups.sh --describe
// gives the sink's lag), on a journal, the `cursor` file beside the segments. The checkpoint
// in the target stays the only authority on what is applied: the cursor is the low-water mark
// (every record below it applied), published at most every PUBLISH_MS and once at the end, in
// the background. A failure to publish never stops or slows the sink; it is logged once.

import { describeError } from "../errors.ts";
import { log } from "../runtime/log.ts";
import type { LogReader } from "../log-contract.ts";

const PUBLISH_MS = 5_000;
/** How long the end of a run waits for the last publication (after a stop: a broker outage
 *  must not hold a SIGTERM'd sink). */
const FINAL_WAIT_MS = 10_000;
const STOPPED_WAIT_MS = 1_000;

export class CursorPublisher {
  private latest: bigint | null = null;
  private published: bigint | null = null;
  private lastAt = 0;
  private running: Promise<void> | null = null;
  private warned = false;

  constructor(private readonly reader: LogReader) {}

  /** The low-water mark moved to `offset`. */
  note(offset: bigint): void {
    this.latest = offset;
    if (this.running === null && Date.now() - this.lastAt >= PUBLISH_MS) this.publish();
  }

  /** Publishes the last mark noted (bounded wait; the reader is closed after). */
  async finish(stopped: boolean): Promise<void> {
    const end = Date.now() + (stopped ? STOPPED_WAIT_MS : FINAL_WAIT_MS);
    const wait = (p: Promise<void> | null) => (p ? Promise.race([p, Bun.sleep(Math.max(0, end - Date.now()))]) : undefined);
    await wait(this.running);
    if (this.running === null && this.latest !== null && this.latest !== this.published) {
      this.publish();
      await wait(this.running);
    }
  }

  private publish(): void {
    const offset = this.latest!;
    this.lastAt = Date.now();
    this.running = this.reader
      .saveCursor(offset)
      .then(
        () => {
          this.published = offset;
        },
        (err: unknown) => {
          if (this.warned) return;
          this.warned = true;
          log.warn(
            `could not publish the sink's position (offset ${offset}) to the log's own cursor; replication goes on, only tools that read that cursor lag behind: ${describeError(err)}`,
          );
        },
      )
      .finally(() => {
        this.running = null;
      });
  }
}
