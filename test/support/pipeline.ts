// Configurations and comparisons shared by the end-to-end tests of source and sink.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MariaDb, Target } from "./servers.ts";
import { writeConfig } from "./cli.ts";

export async function sourceConfig(db: MariaDb, database: string, from: { file: string; pos: number }, transport: string): Promise<string> {
  return writeConfig(`
[source]
host = "127.0.0.1"
port = ${db.port}
user = "root"
password = ""
databases = ["${database}"]
start = "file:${from.file}:${from.pos}"
heartbeat_seconds = 2

${transport}

[log]
progress_seconds = 1
`);
}

export function journalTransport(): { toml: string; dir: string } {
  const dir = join(mkdtempSync(join(tmpdir(), "gsr-journal-")), "j");
  return { dir, toml: `[transport]\nkind = "journal"\n[transport.journal]\ndir = "${dir}"` };
}

export async function pipelineConfig(
  db: MariaDb,
  pg: Target,
  database: string,
  pgDatabase: string,
  from: { file: string; pos: number },
  transport: string,
  sink = "",
): Promise<string> {
  return writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["${database}"]
start = "file:${from.file}:${from.pos}"

${transport}

[target]
${pg.targetToml(pgDatabase)}

[sink]
${sink}

[log]
progress_seconds = 1
`);
}

/** Rows of a table on both sides as text (each side's own expressions), ordered by all columns. */
export async function bothSides(db: MariaDb, pg: Target, database: string, pgDatabase: string, table: string, mysqlCols: string, pgCols: string) {
  const c = await db.connect();
  const [src] = (await c.query(`SELECT ${mysqlCols} FROM ${database}.${table}`)) as unknown as [Array<Record<string, unknown>>];
  await c.end();
  const sql = pg.sql(pgDatabase);
  const dst = await sql.unsafe(`SELECT ${pgCols} FROM "${database}"."${table}"`);
  await sql.end();
  const norm = (rows: Array<Record<string, unknown>>) =>
    rows.map((r) => Object.values(r).map((v) => (v === null ? null : String(v)))).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  return { src: norm(src), dst: norm([...dst]) };
}
