// Rebuilds whole transactions from the log: Begin … End. A transaction is only handed on once
// its End arrived and its event count matches; a Begin or Abort before the End means the
// source was cut off there (crash, lost connection): the fragment is dropped, and the source
// has written the transaction again, whole, further on.
//
// Memory stays bounded for huge transactions: past LARGE_ITEMS buffered changes the assembler
// switches to streaming — it hands out the transaction in chunks (largeBegin, largeChunk…,
// largeEnd or largeAbort) and the runner applies them in order on one target transaction.

import { ReplicateError } from "../errors.ts";
import { LogDecoder, type BeginMessage, type ChangeMessage, type DdlMessage, type EndMessage } from "../events/decode.ts";
import type { OffsetRecord } from "../log-contract.ts";

export type TxItem = ChangeMessage | DdlMessage;

export interface SinkTx {
  /** Log offset of the Begin record: the transaction's identity in the checkpoint. */
  offset: bigint;
  begin: BeginMessage;
  items: TxItem[];
  end: EndMessage;
  /** Offset right after the End record. */
  next: bigint;
}

type Assembled =
  | { kind: "tx"; tx: SinkTx }
  | { kind: "largeBegin"; offset: bigint; begin: BeginMessage; items: TxItem[] }
  | { kind: "largeChunk"; items: TxItem[] }
  | { kind: "largeEnd"; end: EndMessage; next: bigint; count: number }
  | { kind: "largeAbort"; reason: string }
  | { kind: "schema"; fingerprint: string; schema: string };

const LARGE_ITEMS = 20_000;

export async function* assemble(records: AsyncIterable<OffsetRecord>, decoder: LogDecoder, largeItems = LARGE_ITEMS): AsyncGenerator<Assembled> {
  let open: { offset: bigint; begin: BeginMessage; items: TxItem[]; streaming: boolean; count: number } | undefined;
  for await (const { offset, record } of records) {
    const m = decoder.decode(record, `log offset ${offset}`);
    switch (m.kind) {
      case "schema":
        yield { kind: "schema", fingerprint: m.fingerprint, schema: m.schema };
        break;
      case "begin":
        if (open?.streaming) yield { kind: "largeAbort", reason: `a new transaction began at log offset ${offset} before this one ended` };
        open = { offset, begin: m, items: [], streaming: false, count: 0 };
        break;
      case "abort":
        if (open?.streaming) yield { kind: "largeAbort", reason: m.reason };
        open = undefined;
        break;
      case "change":
      case "ddl":
        if (!open) break; // the tail of a fragment whose Begin is before the read position
        open.items.push(m);
        open.count++;
        if (open.items.length >= largeItems) {
          if (!open.streaming) {
            open.streaming = true;
            yield { kind: "largeBegin", offset: open.offset, begin: open.begin, items: open.items };
          } else {
            yield { kind: "largeChunk", items: open.items };
          }
          open.items = [];
        }
        break;
      case "end": {
        if (!open) break;
        if (m.eventCount !== open.count) {
          throw new ReplicateError(
            "SINK_LOG_GAP",
            `transaction ${m.gtid ?? `at ${m.file}:${m.pos}`} ends with ${m.eventCount} events in its End record but ${open.count} were read: the log lost records`,
            { where: `log offset ${offset}` },
          );
        }
        if (open.streaming) {
          if (open.items.length > 0) yield { kind: "largeChunk", items: open.items };
          yield { kind: "largeEnd", end: m, next: offset + 1n, count: open.count };
        } else {
          yield { kind: "tx", tx: { offset: open.offset, begin: open.begin, items: open.items, end: m, next: offset + 1n } };
        }
        open = undefined;
        break;
      }
    }
  }
  if (open?.streaming) yield { kind: "largeAbort", reason: "the log ends inside this transaction" };
}
