// Change events as JSON lines (`source --stdout`): one object per log message, with exact
// values: 64-bit integers as JSON numbers with all their digits, bytes as base64 strings.

import type { LogMessage } from "./decode.ts";
import type { BinlogValue } from "../binlog/types.ts";

const raw = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

function value(v: BinlogValue): unknown {
  if (typeof v === "bigint") return raw(v.toString());
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
  return v;
}

function image(names: string[], img: BinlogValue[] | null): Record<string, unknown> | null {
  if (!img) return null;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = value(img[i]!);
  return out;
}

/** One JSON line for a message; schema records print nothing (their content is in the changes). */
export function messageToJson(m: LogMessage): string | undefined {
  switch (m.kind) {
    case "schema":
    case "history":
    case "position":
      return undefined;
    case "change":
      return JSON.stringify({
        type: "change",
        db: m.table.database,
        table: m.table.table,
        op: m.op,
        gtid: m.gtid,
        key: m.table.key,
        before: image(m.table.names, m.before),
        after: image(m.table.names, m.after),
      });
    default:
      return JSON.stringify({ type: m.kind, ...m, kind: undefined }, (_k, v: unknown) => (typeof v === "bigint" ? raw(v.toString()) : v));
  }
}
