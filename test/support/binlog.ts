// Helpers for binlog tests: read everything a database's binlog holds from a position, as items.
import { BinlogSource } from "../../src/binlog/source.ts";
import type { StreamItem } from "../../src/binlog/transactions.ts";
import type { SourceConfig } from "../../src/config/types.ts";
import { getMariadb, type MariaDb } from "./servers.ts";

export async function sourceConfigFor(db?: MariaDb, overrides: Partial<SourceConfig> = {}): Promise<SourceConfig> {
  const m = db ?? (await getMariadb());
  return {
    host: m.host,
    port: m.port,
    user: m.user,
    server_id: 4242,
    flavor: "auto",
    server_name: "source",
    databases: [],
    start: "current",
    heartbeat_seconds: 10,
    tls: { mode: "disabled" },
    ...overrides,
  };
}

export async function currentPosition(db?: MariaDb): Promise<{ file: string; pos: number }> {
  const c = await (db ?? (await getMariadb())).connect();
  try {
    const [rows] = (await c.query("SHOW MASTER STATUS")) as unknown as [Array<{ File: string; Position: number }>];
    return { file: rows[0]!.File, pos: Number(rows[0]!.Position) };
  } finally {
    await c.end();
  }
}

/** Reads from `from` to the current end of the binlog (non-blocking dump). */
export async function readItems(databases: string[], from: { file: string; pos: number }, db?: MariaDb): Promise<StreamItem[]> {
  const source = new BinlogSource({
    config: await sourceConfigFor(db, { databases }),
    start: { kind: "file", ...from },
    stopAtEnd: true,
    maxRetries: 0,
  });
  const items: StreamItem[] = [];
  for await (const item of source.items()) items.push(item);
  return items;
}

/** Row images of the items, as plain objects keyed by column name. */
export function rowObjects(items: StreamItem[]): Array<{ op: string; table: string; before?: Record<string, unknown>; after?: Record<string, unknown> }> {
  const out = [];
  for (const it of items) {
    if (it.kind !== "rows") continue;
    const names = it.table.columns.map((c) => c.name);
    const obj = (img?: unknown[]) => (img ? Object.fromEntries(names.map((n, i) => [n, img[i]])) : undefined);
    for (const r of it.rows) out.push({ op: it.op, table: `${it.table.database}.${it.table.table}`, before: obj(r.before), after: obj(r.after) });
  }
  return out;
}
