// Comparing sysbench's sbtest tables on MariaDB and the target (PostgreSQL or openGauss): per
// table the row count and the md5 of its rows in id order ("id,k,c,pad" joined by newlines),
// computed on each server.
// Shared by bench/sink.ts and bench/soak.ts.

import type postgres from "postgres";
import type { MariaDb } from "../../test/support/servers.ts";

export type Sums = Map<string, { rows: number; md5: string }>;

export async function mariadbSums(db: MariaDb, tables: string[], database = "sbtest"): Promise<Sums> {
  const c = await db.connect();
  try {
    await c.query("SET SESSION group_concat_max_len = 1073741824");
    const out: Sums = new Map();
    for (const t of tables) {
      const [[r]] = (await c.query(`SELECT COUNT(*) AS n, MD5(GROUP_CONCAT(CONCAT_WS(',', id, k, c, pad) ORDER BY id SEPARATOR '\\n')) AS h FROM ${database}.${t}`)) as unknown as [
        [{ n: number; h: string | null }],
      ];
      out.set(t, { rows: Number(r.n), md5: r.h ?? "" });
    }
    return out;
  } finally {
    await c.end();
  }
}

export async function postgresSums(sql: postgres.Sql, tables: string[], schema = "sbtest"): Promise<Sums> {
  const out: Sums = new Map();
  for (const t of tables) {
    // MariaDB strips a CHAR's trailing spaces on read; PostgreSQL's bpchar keeps the padding.
    const [r] = await sql.unsafe(`SELECT count(*) AS n, md5(string_agg(concat_ws(',', id, k, rtrim(c), rtrim(pad)), E'\\n' ORDER BY id)) AS h FROM ${schema}.${t}`);
    out.set(t, { rows: Number(r!.n), md5: String(r!.h ?? "") });
  }
  return out;
}

/** One line per table that differs (empty when equal). */
export function differences(a: Sums, b: Sums | null): string[] {
  const bad: string[] = [];
  for (const [t, x] of a) {
    const y = b?.get(t);
    if (!y || y.rows !== x.rows || y.md5 !== x.md5) bad.push(`${t}: source ${x.rows} rows md5 ${x.md5}, target ${y?.rows ?? "-"} rows md5 ${y?.md5 ?? "-"}`);
  }
  return bad;
}
