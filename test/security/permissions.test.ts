// The journal holds row images (often personal data): whatever the umask, the source creates
// its directory owner-only and every file in it 0600, and so does the sink for its cursor.
// The binary is run by a shell with `umask 000`, the most permissive a runbook could have.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentPosition } from "../support/binlog.ts";
import { BINARY, writeConfig, type CliResult } from "../support/cli.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";

async function underUmask000(args: string[], program = BINARY): Promise<CliResult> {
  const quoted = [program, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const proc = Bun.spawn(["sh", "-c", `umask 000; exec ${quoted}`], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Every directory and file from `dir` down, with its permission bits. */
function modes(dir: string): Array<{ path: string; dir: boolean; mode: number }> {
  const out = [{ path: dir, dir: true, mode: statSync(dir).mode & 0o777 }];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...modes(p));
    else out.push({ path: p, dir: false, mode: statSync(p).mode & 0o777 });
  }
  return out;
}

const octal = (m: number) => `0${m.toString(8)}`;

describe.each(TARGETS)("owner-only journal under umask 000 (sink into %s)", (dialect) => {
  test("source and sink create the journal directory 0700 (with any parents they create) and every file 0600", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("perm");
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(20))`);
    const from = await currentPosition();
    for (let i = 0; i < 20; i++) await c.query(`INSERT INTO ${name}.t VALUES (${i}, 'v${i}')`);
    await c.end();
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, v varchar(20))`);
    await sql.end();

    const base = mkdtempSync(join(tmpdir(), "gsr-perm-"));
    // The control: under this shell a plain program's new file is 0666.
    expect((await underUmask000([join(base, "control")], "touch")).code).toBe(0);
    expect(octal(statSync(join(base, "control")).mode & 0o777)).toBe("0666");
    const created = join(base, "made", "by", "source");
    const dir = join(created, "journal");
    const cfg = writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["${name}"]
start = "file:${from.file}:${from.pos}"

[transport]
kind = "journal"
[transport.journal]
dir = "${dir}"
segment_mib = 1

[target]
${pg.targetToml(name)}
`);
    const s = await underUmask000(["source", "--config", cfg, "--stop-at-end"]);
    expect(s.stderr).not.toContain("ERROR");
    expect(s.code).toBe(0);
    const k = await underUmask000(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.stderr).not.toContain("ERROR");
    expect(k.code).toBe(0);

    const found = modes(join(base, "made"));
    expect(found.filter((f) => !f.dir).length).toBeGreaterThan(0);
    const wrong = found.filter((f) => f.mode !== (f.dir ? 0o700 : 0o600)).map((f) => `${f.path} ${octal(f.mode)}`);
    expect(wrong).toEqual([]);
  });
});

describe("owner-only journal under umask 000", () => {
  test("an existing journal directory others can read is reported", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "gsr-perm-")), "journal");
    mkdirSync(dir, { mode: 0o755 });
    const db = await getMariadb();
    const name = uniqueName("none");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    const cfg = writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["${name}"]

[transport.journal]
dir = "${dir}"
`);
    const s = await underUmask000(["source", "--config", cfg, "--stop-at-end"]);
    expect(s.code).toBe(0);
    expect(s.stderr).toContain(`journal directory ${dir} has mode 0755; 0700 is advised`);
    for (const f of modes(dir).filter((x) => !x.dir)) expect(octal(f.mode)).toBe("0600");
  });
});
