// Waits for a statement to be running on the server (pg_stat_activity, PostgreSQL and openGauss
// alike), so that a test acts on it once it is there, never after a fixed sleep (issue 15 item 6).
import type postgres from "postgres";

export async function untilRunning(sql: postgres.Sql, statement: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const rows = await sql.unsafe(`SELECT 1 FROM pg_stat_activity WHERE query = $1 AND state = 'active' AND pid <> pg_backend_pid()`, [statement]);
    if (rows.length > 0) return;
    if (Date.now() > end) throw new Error(`"${statement}" was not running on the server after ${ms} ms`);
    await Bun.sleep(20);
  }
}
