// Gathering consecutive transactions into one unit (run.ts): the target then commits once for
// several source transactions. A unit never spans a binlog file (the logical clock restarts in
// every file, so one clock could not describe it) and stays within [sink] group_transactions
// and GROUP_ITEMS changes (a unit is retried member by member on a data error: worker.ts).

import type { SinkTx } from "./assembler.ts";
import type { FileLogicalClock } from "./scheduler.ts";

const GROUP_ITEMS = 256;

/** The transactions waiting to go out as the next unit. */
export class TxGroup {
  private readonly txs: SinkTx[] = [];
  private items = 0;

  constructor(private readonly maxTransactions: number) {}

  isEmpty(): boolean {
    return this.txs.length === 0;
  }

  /** Whether `tx` must start a new unit: the pending one would grow past a bound, or cross a file. */
  closesBefore(tx: SinkTx): boolean {
    const first = this.txs[0];
    return first !== undefined && (first.begin.file !== tx.begin.file || this.txs.length >= this.maxTransactions || this.items + tx.items.length > GROUP_ITEMS);
  }

  add(tx: SinkTx): void {
    this.txs.push(tx);
    this.items += tx.items.length;
  }

  /** The pending transactions, in log order; the group is empty afterwards. */
  take(): SinkTx[] {
    const txs = this.txs.splice(0);
    this.items = 0;
    return txs;
  }
}

/**
 * The logical clock of a unit: it may start once everything its first member depended on
 * committed and everything any member depended on outside the unit committed. Registered
 * under its first member's sequence_number, so a later transaction depending on any member
 * waits for the whole unit; last_committed is capped below the unit (members depending on
 * earlier members are satisfied by applying them in order). No clock if any member lacks one.
 */
export function unitClock(txs: SinkTx[]): FileLogicalClock | null {
  const first = txs[0]!.begin;
  if (first.sequenceNumber === null) return null;
  let lastCommitted = 0;
  for (const tx of txs) {
    const b = tx.begin;
    if (b.lastCommitted === null || b.sequenceNumber === null) return null;
    lastCommitted = Math.max(lastCommitted, Math.min(b.lastCommitted, first.sequenceNumber - 1));
  }
  return { file: first.file, lastCommitted, sequenceNumber: first.sequenceNumber };
}
