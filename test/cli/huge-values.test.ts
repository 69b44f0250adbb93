// Values larger than the sink's chunk (src/sink/chunks.ts, 8 MiB) reach the target in chunks:
// the row's statement with the first, then appends by the row's key. What arrives must be the
// value itself: bytes, text with characters outside the BMP cut never inside a surrogate pair,
// inserted and updated; a table without a key gets its values whole. bench/memory.ts measures
// what the chunks save.
import { describe, expect, test } from "bun:test";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { CHUNK_FROM, chunkSize } from "../../src/sink/chunks.ts";

describe.each(TARGETS)("values of many megabytes (%s)", (dialect) => {
  test("BLOB and TEXT values past the chunk size replicate exactly (insert, update, keyless table); check --data passes", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("huge");
    await pg.createDatabase(name);
    const admin = await db.connect();
    await admin.query("SET GLOBAL max_allowed_packet = 268435456");
    await admin.end();
    const from = await currentPosition();
    const c = await db.connect();
    const blobKiB = Math.ceil((5 * CHUNK_FROM) / 1024);
    // 'a😀' is 3 UTF-16 units: a chunk size of 2 (mod 3) units ends inside a surrogate pair unless cut before it.
    let textReps = Math.ceil((4.4 * CHUNK_FROM) / 3);
    while (chunkSize(3 * textReps) % 3 !== 2) textReps++;
    await c.query(`CREATE DATABASE ${name}; USE ${name};
      CREATE TABLE b (id INT PRIMARY KEY, note VARCHAR(20), v LONGBLOB, t LONGTEXT CHARACTER SET utf8mb4);
      CREATE TABLE k (v LONGBLOB)`);
    await c.query(`INSERT INTO b VALUES (1, 'first', REPEAT(RANDOM_BYTES(1024), ${blobKiB}), REPEAT('a😀', ${textReps})), (2, 'small', 'x', 'y')`);
    await c.query(`UPDATE b SET note = 'changed', v = CONCAT(v, 'tail') WHERE id = 1`);
    await c.query(`UPDATE b SET v = REPEAT(RANDOM_BYTES(512), ${blobKiB * 2}) WHERE id = 2`);
    await c.query(`INSERT INTO k VALUES (REPEAT(RANDOM_BYTES(1024), ${blobKiB}))`);
    const [[src]] = (await c.query(
      `SELECT MD5(v) AS v1, MD5(t) AS t1, LENGTH(v) AS n, CHAR_LENGTH(t) AS chars, (SELECT MD5(v) FROM b WHERE id = 2) AS v2, (SELECT MD5(v) FROM k) AS k1 FROM b WHERE id = 1`,
    )) as unknown as [[Record<string, string | number>]];
    await c.end();
    const cfg = await pipelineConfig(db, pg, name, name, from, journalTransport().toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"], { timeoutMs: 300_000 })).code).toBe(0);
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"], { timeoutMs: 300_000 });
    expect({ code: sink.code, errors: sink.stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
    const t = pg.sql(name);
    try {
      const [dst] = await t.unsafe(
        `SELECT md5(v) AS v1, md5(convert_to(t, 'UTF8')) AS t1, length(v) AS n, char_length(t) AS chars, note, (SELECT md5(v) FROM "${name}".b WHERE id = 2) AS v2, (SELECT md5(v) FROM "${name}".k) AS k1 FROM "${name}".b WHERE id = 1`,
      );
      expect({ ...(dst as Record<string, unknown>), n: Number(dst!.n), chars: Number(dst!.chars) } as Record<string, unknown>).toEqual({
        v1: src.v1,
        t1: src.t1,
        n: Number(src.n),
        chars: Number(src.chars),
        note: "changed",
        v2: src.v2,
        k1: src.k1,
      });
      expect(Number(src.n)).toBeGreaterThan(4 * CHUNK_FROM);
    } finally {
      await t.end();
    }
    const check = await runCli(["check", "--config", cfg, "--data"], { timeoutMs: 300_000 });
    expect({ code: check.code, out: check.code === 0 ? "" : check.stdout + check.stderr }).toEqual({ code: 0, out: "" });
  }, 600_000);
});
