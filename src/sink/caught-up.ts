// Whether the sink has read everything the log holds, for the progress line's "caught up"
// (with nothing left to apply, the age of the last applied transaction is not a delay: it is
// how long the source has been idle). The log's end is asked at most once at a time, in the
// background, so a broker outage never holds up a progress line; until the first answer the
// sink is not considered caught up.
import type { OffsetRecord } from "../log-contract.ts";

export class ReadPosition {
  private end = -1n;
  private asking = false;

  constructor(
    private next: bigint,
    private readonly endOffset: () => Promise<bigint>,
  ) {}

  /** The records, noting how far they were read. */
  async *track(records: AsyncIterable<OffsetRecord>): AsyncGenerator<OffsetRecord> {
    for await (const r of records) {
      this.next = r.offset + 1n;
      yield r;
    }
  }

  /** Asks the log for its end again; the answer serves the next call of atEnd(). */
  refresh(): void {
    if (this.asking) return;
    this.asking = true;
    this.endOffset()
      .then((end) => {
        this.end = end;
      })
      .catch(() => {})
      .finally(() => {
        this.asking = false;
      });
  }

  /** Everything up to the log's end (as last answered) was read. */
  atEnd(): boolean {
    return this.end >= 0n && this.next >= this.end;
  }
}
