// Reads a whole log (journal or Kafka) back into transactions, the way a sink must: a
// transaction counts only when its End arrives; anything cut short is reported as a fragment.
import { LogDecoder, type ChangeMessage, type DdlMessage, type LogMessage } from "../../src/events/decode.ts";
import type { LogReader } from "../../src/log-contract.ts";

interface LoggedTransaction {
  gtid: string | null;
  file: string;
  pos: number;
  endPos: number;
  changes: ChangeMessage[];
  ddl: DdlMessage[];
  eventCount: number;
}

interface LogContents {
  transactions: LoggedTransaction[];
  fragments: number;
  aborts: number;
  messages: LogMessage[];
}

export async function readLog(reader: LogReader): Promise<LogContents> {
  const decoder = new LogDecoder();
  const out: LogContents = { transactions: [], fragments: 0, aborts: 0, messages: [] };
  let open: LoggedTransaction | undefined;
  for await (const { offset, record } of reader.read(0n, { follow: false })) {
    const m = decoder.decode(record, `offset ${offset}`);
    out.messages.push(m);
    switch (m.kind) {
      case "begin":
        if (open) out.fragments++;
        open = { gtid: m.gtid, file: m.file, pos: m.pos, endPos: -1, changes: [], ddl: [], eventCount: 0 };
        break;
      case "change":
        open?.changes.push(m);
        break;
      case "ddl":
        open?.ddl.push(m);
        break;
      case "abort":
        if (open) out.fragments++;
        out.aborts++;
        open = undefined;
        break;
      case "end":
        if (open) {
          open.endPos = m.pos;
          open.eventCount = m.eventCount;
          out.transactions.push(open);
        }
        open = undefined;
        break;
    }
  }
  if (open) out.fragments++;
  return out;
}

/** Row images of the committed transactions as plain objects. */
export function changeRows(t: LoggedTransaction[]): Array<{ table: string; op: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null }> {
  const obj = (names: string[], img: unknown[] | null) => (img ? Object.fromEntries(names.map((n, i) => [n, img[i]])) : null);
  return t.flatMap((tx) =>
    tx.changes.map((c) => ({ table: `${c.table.database}.${c.table.table}`, op: c.op, before: obj(c.table.names, c.before), after: obj(c.table.names, c.after) })),
  );
}
