// Waits for a statement to be running on the server (pg_stat_activity, PostgreSQL and openGauss
// alike), so that a test acts on it once it is there, never after a fixed sleep (issue 15 item 6).
import type postgres from "postgres";

async function untilRunning(sql: postgres.Sql, statement: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const rows = await sql.unsafe(`SELECT 1 FROM pg_stat_activity WHERE query = $1 AND state = 'active' AND pid <> pg_backend_pid()`, [statement]);
    if (rows.length > 0) return;
    if (Date.now() > end) throw new Error(`"${statement}" was not running on the server after ${ms} ms`);
    await Bun.sleep(20);
  }
}

/**
 * Runs `SELECT pg_sleep(30)` on `sql`, cancels it (CancelRequest) once `watch` sees it
 * running, and returns the error it ended with (undefined if it did not fail).
 */
export async function cancelledSleep(sql: postgres.Sql, watch: postgres.Sql = sql): Promise<unknown> {
  const slow = sql`SELECT pg_sleep(30)`.execute();
  await untilRunning(watch, "SELECT pg_sleep(30)");
  slow.cancel();
  return slow.then(
    () => undefined,
    (e: unknown) => e,
  );
}
