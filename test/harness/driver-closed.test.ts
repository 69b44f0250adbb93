// The closed() fix of patches/postgres+3.4.9.patch, reproduced (issue 15 item 2). Stock
// postgres.js 3.4.9 cancels a pending write's timer when its socket closes but keeps the
// timer handle and the unsent bytes; on the reconnected socket the first short query is
// appended to those bytes and never written, so it hangs. The same steps run here against
// the driver this process loads (patched: must answer) and against a copy of it with the
// patch reversed (stock: must hang), which shows the steps reach the bug.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import postgres from "postgres";
import { getPostgres, type Postgres } from "../support/servers.ts";

const root = join(import.meta.dir, "../..");
let pg: Postgres;
let stockDir: string;

beforeAll(async () => {
  pg = await getPostgres();
  stockDir = mkdtempSync(join(tmpdir(), "gsr-stock-pg-"));
  const installed = dirname(dirname(Bun.resolveSync("postgres", root)));
  cpSync(installed, join(stockDir, "node_modules/postgres"), { recursive: true });
  const r = Bun.spawnSync(["git", "apply", "--reverse", "--unsafe-paths", `--directory=${stockDir}`, join(root, "patches/postgres+3.4.9.patch")], {
    cwd: stockDir,
    stderr: "pipe",
  });
  expect({ code: r.exitCode, stderr: r.stderr.toString() }).toEqual({ code: 0, stderr: "" });
});

afterAll(() => rmSync(stockDir, { recursive: true, force: true }));

type Driver = typeof postgres;

/** "answered" when the first query after a close-with-a-write-pending comes back, else "hung". */
async function firstQueryAfterClose(driver: Driver): Promise<"answered" | "hung"> {
  const sockets: Socket[] = [];
  const options = {
    host: pg.host,
    port: pg.port,
    user: pg.user,
    database: "postgres",
    max: 1,
    onnotice: () => {},
    // The `socket` option hands the driver a socket this test can cut.
    socket: async () => {
      const s = connect(pg.port, pg.host);
      await once(s, "connect");
      sockets.push(s);
      return s;
    },
  };
  // `socket` is documented (postgres.js README, "Custom socket") but absent from 3.4.9's typings.
  const sql = driver(options as postgres.Options<Record<string, never>>);
  try {
    await sql`select 1`;
    // A short query is buffered for the next turn of the event loop; the socket closes first.
    const pending = sql`select 2`.execute().catch((e: unknown) => e);
    sockets[0]!.destroy();
    expect(await pending).toBeInstanceOf(Error);
    const after = sql`select 3 as n`.then((rows) => (rows[0]?.n === 3 ? "answered" : "hung"));
    return await Promise.race([after, Bun.sleep(3_000).then(() => "hung" as const)]);
  } finally {
    await sql.end({ timeout: 0 }).catch(() => {});
  }
}

test("with the patched driver, the first query after a close with a write pending is answered", async () => {
  expect(await firstQueryAfterClose(postgres)).toBe("answered");
});

test("the stock driver hangs on it (the steps above reach the bug the patch fixes)", async () => {
  const stock = (await import(join(stockDir, "node_modules/postgres/src/index.js"))).default as Driver;
  expect(stock).not.toBe(postgres);
  expect(await firstQueryAfterClose(stock)).toBe("hung");
});
