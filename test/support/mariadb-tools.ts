// MariaDB's own command-line tools against the test server, as a DBA runs them: the `mariadb`
// client (which splits a dump script on its DELIMITER lines, as no driver does) and
// `mariadb-dump`. The schema-dump tests replay dumps with them.
import type { MariaDb } from "./servers.ts";

/** Runs the `mariadb` client with `args`, feeding it `input` (a script) on stdin; its stdout. */
export async function mariadbClient(db: MariaDb, args: string[], input?: string): Promise<string> {
  const p = Bun.spawn(["mariadb", "--no-defaults", "-h127.0.0.1", `-P${db.port}`, "-uroot", ...args], {
    stdin: input === undefined ? "ignore" : new TextEncoder().encode(input),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`mariadb ${args.join(" ")}: ${err}`);
  return out;
}

/** mariadb-dump of `database` (tables in alphabetical order, triggers included); `extra` adds options such as --routines. */
export async function dumpOf(db: MariaDb, database: string, extra: string[] = []): Promise<string> {
  const p = Bun.spawn(["mariadb-dump", "--no-defaults", "-h127.0.0.1", `-P${db.port}`, "-uroot", "--skip-dump-date", ...extra, database], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`mariadb-dump: ${err}`);
  return out;
}
